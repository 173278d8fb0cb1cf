"""The job worker's watch over runs, beside the jobs it runs (``manage.py worker``).

Two things must not wait for a free job slot, or for a worker at all:

- **Lost runs**: a run whose worker died would stay "running" for ever. Every worker fails
  such runs (and their jobs) with the reason: ``services.runs_fail_lost``, no heartbeat for
  ``LABELHUB_RUN_LOST_AFTER_SECONDS``.
- **Stray trainers**: a trainer whose run is over but whose job never saw it end (its worker
  died) is killed, and its run folder made to say the run's final state
  (:func:`trainers_reap`, for trainers on this machine).

:func:`start` runs both in a thread of the worker process, at once and then every
``LABELHUB_RUN_WATCH_SECONDS``, whatever jobs the worker is busy with, so a run lost anywhere
is failed within ``LOST_AFTER + WATCH`` seconds while any worker is alive (40 s by default).
The periodic job ``training.fail_lost_runs`` does the same once a minute for workers started
as plain ``procrastinate worker``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

import psutil
from django.conf import settings
from django.db import close_old_connections, connection

from labelhub.training import selectors, services

logger = logging.getLogger(__name__)

#: A recorded start time within this of the process's is the same process (pids are reused).
SAME_PROCESS_SECONDS = 1.0
KILL_WAIT_SECONDS = 5.0


def watch_seconds() -> float:
    return float(settings.LABELHUB_RUN_WATCH_SECONDS)


def trainers_reap(*, host: str | None = None) -> list[int]:
    """Kill the trainers on this machine whose run is over but whose job never saw them end,
    and settle their run folders. Returns the ids of the runs whose trainer was still running."""
    killed = []
    for run in selectors.trainers_left(host=host or socket.gethostname()):
        if _kill_if_same(run.trainer_pid, run.trainer_started):
            logger.warning("killed the trainer (pid %s) of run %s, which is %s: %s",
                           run.trainer_pid, run.pk, run.state, run.error)
            killed.append(run.pk)
        services.run_trainer_gone(run_id=run.pk)
    return killed


def _kill_if_same(pid: int, started: float | None) -> bool:
    """SIGKILL process ``pid`` and its process group, if it is still the process recorded."""
    try:
        process = psutil.Process(pid)
        if started is None or abs(process.create_time() - started) > SAME_PROCESS_SECONDS:
            return False
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.Error:
        return False
    try:
        if os.getpgid(pid) == pid:  # the trainer leads its own group: everything it started
            os.killpg(pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(KILL_WAIT_SECONDS)
    except (ProcessLookupError, psutil.Error):
        pass
    return True


def sweep() -> tuple[list[int], list[int]]:
    """One round: fail lost runs, then kill what they left behind here. (failed, killed)."""
    failed = services.runs_fail_lost()
    return failed, trainers_reap()


class Watch:
    """The watch thread of one worker process; :meth:`stop` ends it."""

    def __init__(self, interval: float | None = None):
        self.interval = watch_seconds() if interval is None else interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="labelhub-run-watch", daemon=True)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                close_old_connections()
                failed, killed = sweep()
                if failed or killed:
                    logger.info("run watch: failed lost runs %s, killed stray trainers of runs %s", failed, killed)
            except Exception:  # a database restart, say: log it and try again next round
                logger.exception("the run watch failed this round; trying again in %.0f s", self.interval)
                connection.close()
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
        connection.close()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)


def start(interval: float | None = None) -> Watch:
    """Start the watch thread (its first round runs at once)."""
    watch = Watch(interval)
    watch.thread.start()
    return watch
