"""Benchmark of a large prompts import as a job: upload → 202 → a worker checks every line
(progress on the import record) and writes it all in one transaction.

It builds a database of its own (``labelhub_bench_imports``, dropped at the end; never the dev
database) with one campaign and its lead, writes a JSONL file of ``--lines`` prompts with one
completion each, starts a real job worker on the ``imports`` queue (``manage.py procrastinate
worker -q imports``, a process of its own, DEBUG off), uploads the file through the API with
Django's test client in this process, and polls ``GET …/imports/<id>/`` every 0.25 s until the
import has ended. It prints the upload request's time (to the 202), the time to done, when
the check ended and the writing began (from the polls), and the progress seen on the way.
``--sync`` also imports the same file in the request (the old way: one long request) into a
second campaign, for comparison.

    .venv/bin/python benchmarks/imports.py                       # 100,000 lines
    .venv/bin/python benchmarks/imports.py --lines 20000 --sync

Figures: docs/benchmarks.md, "Imports".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BASE_DIR)

from labelhub.ops.processes import children_stop  # noqa: E402 (after the path fix; no Django in it)

POLL_SECONDS = 0.25


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lines", type=int, default=100_000, help="Lines (prompts, one completion each) in the file.")
    p.add_argument("--sync", action="store_true", help="Also import the same file in the request, for comparison.")
    p.add_argument("--timeout", type=float, default=900, help="Give up after this many seconds.")
    p.add_argument("--db", default="labelhub_bench_imports", help="Name of the benchmark database (dropped first).")
    p.add_argument("--keep-db", action="store_true", help="Keep the database afterwards.")
    args = p.parse_args(argv)
    configured = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "labelhub"
    if args.db in {configured, "labelhub", "postgres"}:
        p.error(f"--db must name a database of its own (it is dropped), not {args.db!r}")
    return args


# --- database -------------------------------------------------------------------------------


def bench_database_url(name: str) -> str:
    """DATABASE_URL with the database name replaced, or the embedded server's socket."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return urlparse(url)._replace(path=f"/{name}").geturl()
    from labelhub.config import embedded_db

    embedded_db.ensure_running()
    return f"postgresql://{embedded_db.USER}@/{name}?host={quote(str(embedded_db.socket_dir()))}"


def database_run(url: str, sql: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    with psycopg.connect(**{**conninfo_to_dict(url), "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(sql)


def bench_env(url: str, data_dir: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "labelhub.config.settings", "DEBUG": "0",
            "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40), "LABELHUB_DATA_DIR": data_dir}


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


# --- the file and the campaign --------------------------------------------------------------


def jsonl(lines: int) -> bytes:
    return "".join(
        json.dumps({"prompt": f"Question {i}: how would you explain topic {i % 997} to a new colleague?",
                    "split": "held_out" if i % 10 == 0 else "train", "metadata": {"n": i},
                    "completions": [{"text": f"Start from what they know about topic {i % 997}, then build up.",
                                     "policy": "base"}]}) + "\n"
        for i in range(lines)).encode()


def campaign_and_client(slug: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from labelhub.accounts.services import token_get_or_create
    from labelhub.campaigns.services import campaign_create

    users = get_user_model().objects
    lead = users.filter(username="bench-lead").first() or users.create_user("bench-lead", password=secrets.token_urlsafe(12))
    campaign = campaign_create(user=lead, name=f"Import bench {slug}", slug=slug)
    return campaign, Client(HTTP_AUTHORIZATION=f"Token {token_get_or_create(user=lead).key}")


def upload(client, slug: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    t0 = time.perf_counter()
    response = client.post(f"/api/campaigns/{slug}/imports/", {"file": SimpleUploadedFile("bench.jsonl", data)},
                           secure=True)
    return response, time.perf_counter() - t0


# --- measuring ------------------------------------------------------------------------------


def as_job(args, data: bytes, env: dict[str, str]) -> dict:
    from django.conf import settings

    settings.LABELHUB_IMPORT_JOB_BYTES = min(settings.LABELHUB_IMPORT_JOB_BYTES, len(data) - 1)  # a job, whatever the size
    campaign, client = campaign_and_client("import-bench-job")
    worker = subprocess.Popen([sys.executable, "manage.py", "procrastinate", "worker", "-q", "imports"],
                              cwd=BASE_DIR, env=env)
    try:
        time.sleep(3)  # the worker is up and listening
        t0 = time.perf_counter()
        response, request_s = upload(client, campaign.slug, data)
        if response.status_code != 202:
            raise SystemExit(f"the upload answered {response.status_code}: {response.content[:500]!r}")
        location, samples = response["Location"], []
        while True:
            record = client.get(location, secure=True).json()
            samples.append((time.perf_counter() - t0, record["state"], record["lines_checked"], record["lines_total"]))
            if record["state"] in {"succeeded", "rejected", "failed"}:
                break
            if time.perf_counter() - t0 > args.timeout:
                raise SystemExit(f"not done after {args.timeout:.0f} s: {record}")
            time.sleep(POLL_SECONDS)
    finally:
        children_stop([worker])
    done_s = samples[-1][0]
    if record["state"] != "succeeded" or record["prompts_created"] != args.lines:
        raise SystemExit(f"the import ended {record['state']}: {record['errors'][:3]}")
    writing_from = next((t for t, state, *_ in samples if state == "writing"), None)
    return {"request_s": request_s, "done_s": done_s, "writing_from_s": writing_from, "samples": samples,
            "record": record}


def in_request(data: bytes) -> float:
    from django.conf import settings

    campaign, client = campaign_and_client("import-bench-sync")
    settings.LABELHUB_IMPORT_JOB_BYTES = len(data)  # this one in the request, however large
    response, seconds = upload(client, campaign.slug, data)
    if response.status_code != 201:
        raise SystemExit(f"the in-request import answered {response.status_code}: {response.content[:500]!r}")
    return seconds


def main(argv=None) -> int:
    import tempfile

    args = parse_args(argv)
    url = bench_database_url(args.db)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    database_run(url, f'CREATE DATABASE "{args.db}"')
    with tempfile.TemporaryDirectory(prefix="import-bench-") as data_dir:
        env = bench_env(url, data_dir)
        django_setup(env)
        try:
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0)
            data = jsonl(args.lines)
            print(f"file: {args.lines:,} lines, {len(data) / 1e6:.1f} MB", flush=True)
            job = as_job(args, data, env)
            print(f"as a job: upload request {job['request_s']:.2f} s (202); done after {job['done_s']:.1f} s "
                  f"(lines checked by {job['writing_from_s'] or 0:.1f} s, then written in one transaction)")
            seen = [f"{t:.1f} s {state} {checked:,}/{total:,}" for t, state, checked, total in job["samples"]]
            print("  progress seen: " + "; ".join(seen[:: max(1, len(seen) // 8)] + seen[-1:]))
            if args.sync:
                print(f"in the request: {in_request(data):.1f} s for the one request (201)", flush=True)
            print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        finally:
            from django.db import connections

            connections.close_all()
            if not args.keep_db:
                database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
