"""Child processes of the demo and the benchmarks."""

from __future__ import annotations

import signal
import subprocess
import time


def children_stop(children: list[subprocess.Popen], timeout: float = 10.0) -> None:
    """SIGTERM every child still running, wait up to ``timeout`` in all, then kill the rest."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
