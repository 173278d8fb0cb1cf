"""Fault tests: real processes (workers, servers, PostgreSQL clusters) killed or restarted on
purpose, each counting what was lost. Marked ``fault``; every process a test starts is ended
by the fixture that started it, by its pid (or process group)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from django.conf import settings
from django.db import connection

from tests.process_helpers import gone

BASE_DIR = Path(settings.BASE_DIR)
MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]


def database_url() -> str:
    """The test database as a DATABASE_URL, for a TCP server or the embedded one's socket."""
    db = connection.settings_dict
    socket = db["HOST"].startswith("/")
    host = "" if socket else db["HOST"]
    port = f":{db['PORT']}" if db["PORT"] else ""
    query = f"?host={quote(db['HOST'], safe='')}" if socket else ""
    return (f"postgresql://{quote(db['USER'], safe='')}:{quote(db['PASSWORD'] or '', safe='')}@{host}{port}/"
            f"{quote(db['NAME'], safe='')}{query}")


def labelhub_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DEBUG": "1", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.update({k: str(v) for k, v in extra.items()})
    return {k: v for k, v in env.items() if v != ""}  # an empty value removes the variable


@pytest.fixture
def processes():
    """``processes(argv, **popen)`` → a Popen leading its own process group; whatever is left of
    each group (and the processes it started) is killed after the test."""
    started: list[subprocess.Popen] = []

    def start(argv, **popen) -> subprocess.Popen:
        proc = subprocess.Popen(argv, start_new_session=True, **popen)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        try:
            family = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            family = []
        for pid in [proc.pid, *(p.pid for p in family)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait(10)


def web_server(processes, env: dict, port: int, log: Path) -> str:
    """The ASGI app served as `make demo` serves it (uvicorn, two processes, the connection
    pool); its base URL once it answers."""
    import httpx

    with open(log, "ab") as out:
        processes([sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                   "--no-access-log", "--lifespan", "off", "labelhub.config.asgi:application"],
                  env={"DATABASE_POOL_SIZE": "4", **env}, stdout=out, stderr=out)
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/login/", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answers, 60, what="the web server answering", log=log)
    return base_url


def wait_for(check, seconds: float, every: float = 0.2, what: str = "the condition", log: Path | None = None):
    """Poll ``check()`` until it returns something truthy; that value, or fail after ``seconds``
    (with the end of ``log``, a started process's output, in the message)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    tail = f"\n{log}:\n{log.read_text(errors='replace')[-3000:]}" if log and log.exists() else ""
    pytest.fail(f"{what} did not happen within {seconds:.0f} s{tail}")


__all__ = ["BASE_DIR", "MANAGE", "database_url", "gone", "labelhub_env", "wait_for", "web_server"]
