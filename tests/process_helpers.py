"""Processes in tests: start a parent that starts a child, kill the parent, watch the child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its new parent to reap it counts)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, seconds: float) -> float | None:
    """Seconds until ``pid`` was gone, or None if it still runs after ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if gone(pid):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def parent_with_child(parent_code: str, env: dict | None = None) -> tuple[subprocess.Popen, int]:
    """Run ``parent_code`` (which must print the child's pid, then wait) in a new process; return
    the parent and the child's pid."""
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, **(env or {})}, start_new_session=True)
    line = parent.stdout.readline()
    assert line.strip().isdigit(), f"the parent printed {line!r}"
    return parent, int(line)


def kill_hard(parent: subprocess.Popen) -> None:
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)


def end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
