"""Benchmark of the live dashboard's figures on a large campaign.

It builds the same campaign as ``benchmarks/quality.py`` (a database of its own,
``labelhub_bench_dashboard``, dropped at the end; 100k judgments of 30 labelers over 30 days
by default) and marks ``--gold`` of its tasks gold, then times, in this process with DEBUG
off:

* each figure the dashboard sends, with its query count: the progress, judgments per hour,
  the per-labeler activity, the gold column, the whole counts message; the agreement and
  alarms without the cache; the quality message cold (cache cleared) and warm;
* ``GET /api/campaigns/<slug>/dashboard/`` (token auth), cold and warm;
* the hub under load: ``--watchers`` watchers of one campaign and a ping every
  ``--ping-ms`` milliseconds for ``--seconds`` seconds (each ping heard by every watcher, as
  the channel layer delivers it), with the dashboard's intervals at their defaults — how many
  times the figures were computed and how many messages each watcher got.

    .venv/bin/python benchmarks/dashboard.py                      # 100k judgments
    .venv/bin/python benchmarks/dashboard.py --judgments 10000 --repeat 5

Figures: docs/benchmarks.md, "Live dashboard".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BASE_DIR)

from benchmarks.leaderboard import bench_database_url, database_run, django_setup  # noqa: E402
from benchmarks.quality import populate, timed  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from benchmarks import quality

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--judgments", type=int, default=100_000, help="Judgments to build (about).")
    p.add_argument("--labelers", type=int, default=30, help="Labelers in the campaign.")
    p.add_argument("--overlap", type=int, default=3, help="Labelers judging each task.")
    p.add_argument("--days", type=int, default=30, help="Days the judgments are spread over.")
    p.add_argument("--gold", type=float, default=0.05, help="Share of the tasks marked gold.")
    p.add_argument("--repeat", type=int, default=3, help="Timed runs of each figure (and cold GETs).")
    p.add_argument("--warm", type=int, default=20, help="Warm runs of the cheap figures and warm GETs.")
    p.add_argument("--watchers", type=int, default=50, help="Watchers of the hub under load.")
    p.add_argument("--ping-ms", type=float, default=20, help="A ping every this many milliseconds (hub under load).")
    p.add_argument("--seconds", type=float, default=10, help="How long the hub is pinged.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--db", default="labelhub_bench_dashboard", help="Name of the benchmark database (dropped first).")
    p.add_argument("--keep-db", action="store_true", help="Keep the database afterwards.")
    args = p.parse_args(argv)
    quality.parse_args(["--db", args.db, "--labelers", str(args.labelers), "--overlap", str(args.overlap)])  # its checks
    return args


def mark_gold(campaign, share: float) -> int:
    from labelhub.labeling.models import Task

    every = max(1, round(1 / share)) if share > 0 else 0
    if not every:
        return 0
    ids = list(Task.objects.filter(campaign=campaign).order_by("id").values_list("id", flat=True)[::every])
    return Task.objects.filter(pk__in=ids).update(is_gold=True)


def measure(args, data) -> list[tuple]:
    from datetime import UTC, datetime

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from labelhub.feedback import selectors

    campaign = data["campaign"]
    now = datetime.now(UTC)
    figures = [
        ("progress", lambda: selectors.campaign_progress(campaign_id=campaign.pk), args.warm),
        ("judgments per hour", lambda: selectors.judgments_per_hour(campaign=campaign, now=now), args.warm),
        ("per labeler", lambda: selectors.labeler_activity(campaign=campaign, now=now), args.warm),
        ("gold column", lambda: selectors.gold_by_labeler(campaign=campaign), args.warm),
        ("counts message", lambda: selectors.dashboard_counts(campaign=campaign), args.warm),
        ("agreement, no cache", lambda: selectors.agreement_figures(campaign=campaign), args.repeat),
        ("alarms, no cache", lambda: selectors.alarm_figures(campaign=campaign), args.repeat),
        ("quality message cold", lambda: (cache.clear(), selectors.dashboard_quality(campaign=campaign)), args.repeat),
        ("quality message warm", lambda: selectors.dashboard_quality(campaign=campaign), args.warm),
    ]
    rows = []
    for what, fn, n in figures:
        with CaptureQueriesContext(connection) as queries:
            data[what] = fn()
        rows.append((what, timed(fn, n), f"{len(queries)} queries"))
    api = Client(HTTP_AUTHORIZATION=f"Token {data['token']}")
    url = f"/api/campaigns/{campaign.slug}/dashboard/"

    def get():
        response = api.get(url, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")

    cold = []
    for _ in range(args.repeat):
        cache.clear()
        cold += timed(get, 1)
    get()
    rows.append(("GET dashboard/ cold", cold, ""))
    rows.append(("GET dashboard/ warm", timed(get, args.warm), ""))
    return rows


class Watcher:
    def __init__(self):
        self.messages = 0

    async def send_figures(self, text: str):
        self.messages += 1


async def hub_under_load(args, campaign_id: int) -> dict:
    from labelhub.feedback.dashboard import hub

    watchers = [Watcher() for _ in range(args.watchers)]
    h = hub()
    for watcher in watchers:
        h.watch(watcher, campaign_id, "day")
    started = time.perf_counter()
    pings = 0
    while time.perf_counter() - started < args.seconds:
        for _ in watchers:  # each watcher's consumer hears the ping and tells the hub
            h.changed(campaign_id)
        pings += 1
        await asyncio.sleep(args.ping_ms / 1000)
    while any(feed._task is not None for feed in h.feeds.values()):  # the trailing computations
        await asyncio.sleep(0.05)
    took = time.perf_counter() - started
    computations = {key[0]: feed.computations for key, feed in h.feeds.items()}
    for watcher in watchers:
        h.unwatch(watcher, campaign_id, "day")
    return {"pings": pings, "calls": pings * len(watchers), "seconds": took, "computations": computations,
            "messages": statistics.median(w.messages for w in watchers)}


def report(args, data, rows, load) -> None:
    c = data["quality message warm"]["agreement"]["campaign"]
    counts = data["counts message"]
    print(f"campaign: {counts['progress']['judgments']} judgments counted, {sum(h['judgments'] for h in counts['per_hour'])} "
          f"in the last {len(counts['per_hour'])} hours, {len(counts['labelers'])} labelers, "
          f"{sum(e['answers'] for e in counts['gold']['labelers'].values())} gold answers; alpha {c['alpha']} over "
          f"{c['tasks']} tasks")
    print(f"\n{'what':<24} {'n':>4} {'wall p50':>9} {'wall max':>9} {'CPU p50':>9}  (ms)")
    for what, times, note in rows:
        wall, cpu = [t for t, _ in times], [c for _, c in times]
        print(f"{what:<24} {len(times):>4} {statistics.median(wall):>9.1f} {max(wall):>9.1f} {statistics.median(cpu):>9.1f}  {note}")
    print(f"\nhub: {args.watchers} watchers, a ping every {args.ping_ms:g} ms for {args.seconds:g} s: {load['pings']} pings "
          f"({load['calls']} consumer calls); computed {load['computations']} in {load['seconds']:.1f} s; "
          f"{load['messages']:g} messages per watcher (median)")


def main(argv=None) -> int:
    args = parse_args(argv)
    url = bench_database_url(args.db)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    database_run(url, f'CREATE DATABASE "{args.db}"')
    django_setup(url)
    try:
        from django.conf import settings
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        data = populate(args)
        gold = mark_gold(data["campaign"], args.gold)
        print(f"setup: {data['tasks']} tasks ({gold} gold) × {args.overlap} of {args.labelers} labelers = "
              f"{data['judgments']} judgments in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = measure(args, data)
        print(f"hub under load (intervals {settings.LABELHUB_DASHBOARD_INTERVAL:g} s / "
              f"{settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL:g} s)…", flush=True)
        load = asyncio.run(hub_under_load(args, data["campaign"].pk))
        report(args, data, rows, load)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
