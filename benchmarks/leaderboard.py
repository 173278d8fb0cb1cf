"""Benchmark of the leaderboard: GET latency with a cold and with a warm cache.

It builds a database of its own (``labelhub_bench_leaderboard``, dropped at the end; never
the dev database) with one rank campaign (K=4 completions per task, one from each of
``--policies`` versions, ``--overlap`` simulated labelers per task who rank by a hidden
quality plus noise, with a tie now and then) and enough judgments for ``--comparisons``
cross-policy comparisons. Then it GETs the API (``/api/campaigns/<slug>/leaderboard/``,
token auth) and the page (``/campaigns/<slug>/leaderboard/``) through Django's test
client, in this process, with DEBUG off:

* cold: the cache cleared before each GET (what every GET cost before the cache: read the
  judgments, 200 bootstrap Bradley–Terry fits);
* warm: repeated GETs with nothing changed (the figures come from the cache);
* for scale, the campaign's own API GET (``/api/campaigns/<slug>/``), measured alongside.

It prints p50/p95 of each and a digest of the API's figures: the same data (this script
with the same arguments) gives the same digest with any version of the code that computes
the same figures.

    .venv/bin/python benchmarks/leaderboard.py
    .venv/bin/python benchmarks/leaderboard.py --comparisons 100000 --cold 3

Figures: docs/benchmarks.md, "Leaderboard".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BASE_DIR)

K = 4
PAIRS_PER_JUDGMENT = K * (K - 1) // 2  # every completion of a task is by a different policy


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--comparisons", type=int, default=10_000, help="Cross-policy comparisons to build (at least).")
    p.add_argument("--policies", type=int, default=4, help="Policy versions (at least K=4).")
    p.add_argument("--overlap", type=int, default=2, help="Labelers judging each task.")
    p.add_argument("--noise", type=float, default=1.0, help="Std of the labelers' noise on the hidden quality.")
    p.add_argument("--cold", type=int, default=10, help="Cold GETs (cache cleared before each) per URL.")
    p.add_argument("--warm", type=int, default=200, help="Warm GETs per URL.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--db", default="labelhub_bench_leaderboard", help="Name of the benchmark database (dropped first).")
    p.add_argument("--keep-db", action="store_true", help="Keep the database afterwards.")
    args = p.parse_args(argv)
    configured = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "labelhub"
    if args.db in {configured, "labelhub", "postgres"}:
        p.error(f"--db must name a database of its own (it is dropped), not {args.db!r}")
    if args.policies < K:
        p.error(f"--policies must be at least {K}")
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


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "labelhub.config.settings"
    os.environ["DEBUG"] = "0"  # as served: no query log, no debug toolbar of any kind
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    import django

    django.setup()


# --- data -----------------------------------------------------------------------------------


def populate(args) -> dict:
    """The campaign, its policies, prompts, completions, tasks and judgments; returns what GETs need."""
    from django.contrib.auth import get_user_model

    from labelhub.accounts.services import token_get_or_create
    from labelhub.campaigns.models import Campaign, Completion, Policy, Prompt, Role, content_hash
    from labelhub.campaigns.services import campaign_create, membership_add
    from labelhub.labeling import services as labeling
    from labelhub.labeling.models import Judgment, Task

    rng = random.Random(args.seed)
    users = get_user_model().objects
    lead = users.create_user("bench-lead", password=secrets.token_urlsafe(12))
    campaign = campaign_create(user=lead, name="Leaderboard bench", slug="leaderboard-bench",
                               task_kind=Campaign.TaskKind.RANK, completions_per_task=K, overlap=args.overlap,
                               status=Campaign.Status.ACTIVE)
    labelers = [users.create_user(f"bench-labeler-{i}", password=secrets.token_urlsafe(12)) for i in range(args.overlap)]
    for labeler in labelers:
        membership_add(campaign=campaign, user=labeler, role=Role.LABELER)
    policies, parent = [], None
    for i in range(args.policies):
        parent = Policy.objects.create(campaign=campaign, name=f"v{i}", parent=parent)
        policies.append(parent)
    quality = {p.id: 0.3 * i for i, p in enumerate(policies)}  # hidden; each version a little better

    n_tasks = math.ceil(args.comparisons / PAIRS_PER_JUDGMENT / args.overlap)
    prompts = Prompt.objects.bulk_create(
        Prompt(campaign=campaign, text=f"Question {i}?", content_hash=content_hash(f"bench {i}")) for i in range(n_tasks))
    Completion.objects.bulk_create(
        Completion(prompt=prompt, policy=policy, text=f" Answer {prompt.pk} by {policy.name}.",
                   content_hash=content_hash(f"bench {prompt.pk} {policy.pk}"))
        for prompt in prompts for policy in rng.sample(policies, K))
    labeling.tasks_create(campaign=campaign, seed=args.seed)
    tasks = Task.objects.filter(campaign=campaign).order_by("id").prefetch_related("completions")
    judgments = []
    for task in tasks:
        completions = [(c.id, c.policy_id) for c in task.completions.all()]
        for labeler in labelers:
            shown = rng.sample(completions, K)
            noisy = sorted(shown, key=lambda c: -(quality[c[1]] + rng.gauss(0, args.noise)))
            ranking = [[cid] for cid, _ in noisy]
            if rng.random() < 0.05:  # now and then the two best are a tie
                ranking = [ranking[0] + ranking[1], *ranking[2:]]
            judgments.append(Judgment(
                task=task, campaign=campaign, labeler=labeler, source=Judgment.Source.SIMULATED, ranking=ranking,
                display_order=[cid for cid, _ in shown], guideline_version=1,
                idempotency_key=f"bench-{task.pk}-{labeler.pk}"))
    Judgment.objects.bulk_create(judgments, batch_size=2000)
    Task.objects.filter(campaign=campaign).update(judgment_count=args.overlap)
    return {"slug": campaign.slug, "lead": lead, "token": token_get_or_create(user=lead).key,
            "tasks": n_tasks, "judgments": len(judgments)}


# --- measuring ------------------------------------------------------------------------------


def timed_gets(get, url: str, n: int, *, clear_cache: bool) -> list[float]:
    from django.core.cache import cache

    times = []
    for _ in range(n):
        if clear_cache:
            cache.clear()
        t0 = time.perf_counter()
        response = get(url)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def measure(args, data: dict) -> list[dict]:
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Token {data['token']}")
    page = Client()
    page.force_login(data["lead"])
    rows = []
    for what, client, url in (("API", api, f"/api/campaigns/{data['slug']}/leaderboard/"),
                              ("page", page, f"/campaigns/{data['slug']}/leaderboard/")):
        def get(u, client=client):
            return client.get(u, secure=True)

        cold = timed_gets(get, url, args.cold, clear_cache=True)
        get(url)  # the figures of the current state are in the cache from here on
        warm = timed_gets(get, url, args.warm, clear_cache=False)
        for kind, times in (("cold", cold), ("warm", warm)):
            rows.append(_row(what, kind, times))
    # for scale: the campaign's own API GET (token, role check, one row), on the same machine at the same time
    rows.append(_row("campaign", "-", timed_gets(lambda u: api.get(u, secure=True), f"/api/campaigns/{data['slug']}/",
                                                 args.warm, clear_cache=False)))
    return rows


def _row(what: str, kind: str, times: list[float]) -> dict:
    return {"get": what, "cache": kind, "n": len(times), "p50_ms": statistics.median(times),
            "p95_ms": percentile(times, 95), "max_ms": max(times)}


def figures_digest(data: dict) -> tuple[str, dict]:
    from django.test import Client

    response = Client(HTTP_AUTHORIZATION=f"Token {data['token']}").get(
        f"/api/campaigns/{data['slug']}/leaderboard/", secure=True)
    payload = response.json()
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16], payload


def main(argv=None) -> int:
    args = parse_args(argv)
    url = bench_database_url(args.db)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    database_run(url, f'CREATE DATABASE "{args.db}"')
    django_setup(url)
    try:
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        data = populate(args)
        print(f"setup: {data['tasks']} tasks × {args.overlap} labelers = {data['judgments']} judgments (K={K}, "
              f"{args.policies} policies) in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = measure(args, data)
        digest, payload = figures_digest(data)
        print(f"comparisons: {payload['comparisons']}; reference {payload['reference']}; figures digest {digest}")
        for s in payload["standings"]:
            print(f"  {s['name']:>4} {s['strength']:+.4f} [{s['low']:+.4f}, {s['high']:+.4f}]  "
                  f"{s['comparisons']} comparisons, {s['wins']:g} wins")
        print(f"\n{'GET':<8} {'cache':<5} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for r in rows:
            print(f"{r['get']:<8} {r['cache']:<5} {r['n']:>4} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['max_ms']:>8.1f}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
