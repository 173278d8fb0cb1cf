"""Child processes of the demo and the benchmarks."""

from __future__ import annotations

import signal
import subprocess
import time

from labelhub.core.processes import dies_with_this_process


def child_start(argv: list[str], **popen) -> subprocess.Popen:
    """Start a child that gets SIGTERM when this process dies, however it dies (SIGKILL
    included): it then stops as on Ctrl-C, and the last process using the embedded
    PostgreSQL stops that. Call it from the main thread (see ``core.processes``)."""
    return subprocess.Popen(argv, preexec_fn=dies_with_this_process(signal.SIGTERM), **popen)


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
