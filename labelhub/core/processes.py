"""Child processes that never outlive the process that started them.

On Linux a child can ask the kernel for a signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``); the setting survives ``exec``, so it is made in the child
between ``fork`` and ``exec`` (``preexec_fn``). The kernel sends the signal when the *thread*
that forked the child ends, so start such children from a thread that lives as long as they
should (the worker's event loop, a command's main thread). Elsewhere this is a no-op and the
callers' other guards (the trainer's own watch on its parent, the database watcher) remain.

No Django here: the embedded database starter and ``manage.py`` use it before settings load.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> bool:
    """Ask for ``sig`` when this process's parent dies; True where the platform supports it.

    ``parent``: the pid the parent had when the child was made. When it has already gone
    (the signal would never come), the signal is sent at once.
    """
    if _libc is None:
        return False
    if _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return True


def dies_with_this_process(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess``/``asyncio`` children: ``sig`` when the caller dies.
    None off Linux (``preexec_fn=None`` is the default)."""
    if _libc is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        die_with_parent(sig, parent)

    return preexec
