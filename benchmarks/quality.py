"""Benchmark of the quality figures (agreement and bias alarms) on a large campaign.

It builds a database of its own (``labelhub_bench_quality``, dropped at the end; never the
dev database) with one rank campaign: K=4 completions per task from 4 policies, each task
ranked by ``--overlap`` of ``--labelers`` simulated labelers (a hidden quality plus noise,
ties now and then, a random display order and a time per task), spread over ``--days``
days, until there are ``--judgments`` judgments. Two of the labelers have habits the
alarms should find: one puts the first completion shown first, one answers in 2 s.

Then it times, in this process with DEBUG off:

* the figures themselves, without the cache: ``selectors.agreement_figures`` and
  ``selectors.alarm_figures`` (``--repeat`` times each), with their query counts;
* the API (``/api/campaigns/<slug>/agreement/`` and ``/alarms/``, token auth) cold (the
  cache cleared before each GET) and warm (repeated GETs, nothing changed);

and prints the campaign's figures and the labelers whose alarms went off.

    .venv/bin/python benchmarks/quality.py                      # 100k judgments
    .venv/bin/python benchmarks/quality.py --judgments 10000 --repeat 5

Figures: docs/benchmarks.md, "Quality figures".
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import secrets
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BASE_DIR)

from benchmarks.leaderboard import bench_database_url, database_run, django_setup  # noqa: E402

K = 4


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--judgments", type=int, default=100_000, help="Judgments to build (about).")
    p.add_argument("--labelers", type=int, default=30, help="Labelers in the campaign.")
    p.add_argument("--overlap", type=int, default=3, help="Labelers judging each task.")
    p.add_argument("--days", type=int, default=30, help="Days the judgments are spread over.")
    p.add_argument("--repeat", type=int, default=3, help="Timed runs of each figure (and cold GETs).")
    p.add_argument("--warm", type=int, default=50, help="Warm GETs per URL.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--db", default="labelhub_bench_quality", help="Name of the benchmark database (dropped first).")
    p.add_argument("--keep-db", action="store_true", help="Keep the database afterwards.")
    args = p.parse_args(argv)
    configured = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "labelhub"
    if args.db in {configured, "labelhub", "postgres"}:
        p.error(f"--db must name a database of its own (it is dropped), not {args.db!r}")
    if not 2 <= args.overlap <= args.labelers:
        p.error("--overlap must be from 2 to --labelers")
    return args


def populate(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labelhub.accounts.services import token_get_or_create
    from labelhub.campaigns.models import Campaign, Completion, Policy, Prompt, Role, content_hash
    from labelhub.campaigns.services import campaign_create, membership_add
    from labelhub.labeling.models import Judgment, Task, TaskCompletion

    rng = random.Random(args.seed)
    users = get_user_model().objects
    lead = users.create_user("bench-lead", password=secrets.token_urlsafe(12))
    campaign = campaign_create(user=lead, name="Quality bench", slug="quality-bench", task_kind=Campaign.TaskKind.RANK,
                               completions_per_task=K, overlap=args.overlap, status=Campaign.Status.ACTIVE)
    labelers = [users.create_user(f"labeler-{i:02d}", password=secrets.token_urlsafe(12)) for i in range(args.labelers)]
    for labeler in labelers:
        membership_add(campaign=campaign, user=labeler, role=Role.LABELER)
    first_shown, hasty = labelers[0].pk, labelers[1].pk
    policies = [Policy.objects.create(campaign=campaign, name=f"v{i}") for i in range(K)]
    quality = {p.id: 0.4 * i for i, p in enumerate(policies)}

    n_tasks = math.ceil(args.judgments / args.overlap)
    prompts = Prompt.objects.bulk_create(
        (Prompt(campaign=campaign, text=f"Question {i}?", content_hash=content_hash(f"bench {i}")) for i in range(n_tasks)),
        batch_size=5000)
    completions = Completion.objects.bulk_create(
        (Completion(prompt=prompt, policy=policy, text=" Answer" + " word" * rng.randrange(5, 80),
                    content_hash=content_hash(f"bench {prompt.pk} {policy.pk}"))
         for prompt in prompts for policy in policies), batch_size=5000)
    tasks = Task.objects.bulk_create(
        (Task(campaign=campaign, prompt=prompt, kind=campaign.task_kind, completion_key=f"bench-{prompt.pk}",
              overlap=args.overlap, judgment_count=args.overlap) for prompt in prompts), batch_size=5000)
    by_prompt = {}
    for c in completions:
        by_prompt.setdefault(c.prompt_id, []).append((c.id, c.policy_id))
    TaskCompletion.objects.bulk_create(
        (TaskCompletion(task=task, completion_id=cid, position=i)
         for task in tasks for i, (cid, _) in enumerate(by_prompt[task.prompt_id])), batch_size=5000)

    judgments, times = [], []
    for task in tasks:
        items = by_prompt[task.prompt_id]
        for labeler in rng.sample(labelers, args.overlap):
            shown = rng.sample(items, K)
            if labeler.pk == first_shown:
                best_first = shown
            else:
                best_first = sorted(shown, key=lambda c: -(quality[c[1]] + rng.gauss(0, 1.0)))
            ranking = [[cid] for cid, _ in best_first]
            if rng.random() < 0.05:
                ranking = [ranking[0] + ranking[1], *ranking[2:]]
            seconds = 2.0 if labeler.pk == hasty else rng.lognormvariate(math.log(25), 0.5)
            judgments.append(Judgment(
                task=task, campaign=campaign, labeler=labeler, source=Judgment.Source.SIMULATED, ranking=ranking,
                display_order=[cid for cid, _ in shown], guideline_version=1, time_spent_ms=int(seconds * 1000),
                idempotency_key=f"bench-{task.pk}-{labeler.pk}"))
            times.append(rng.random() * args.days)
    Judgment.objects.bulk_create(judgments, batch_size=5000)
    with connection.cursor() as cursor:  # spread the judgments over the days, in id order
        cursor.execute("UPDATE labeling_judgment SET created_at = created_at - (%s * (max_id - id) / greatest(max_id - min_id, 1)) "
                       "FROM (SELECT min(id) AS min_id, max(id) AS max_id FROM labeling_judgment) m",
                       [timedelta(days=args.days)])
        cursor.execute("ANALYZE")  # as autovacuum would have done by the time anyone looks
    return {"campaign": campaign, "lead": lead, "token": token_get_or_create(user=lead).key, "tasks": n_tasks,
            "judgments": len(judgments), "first_shown": labelers[0].username, "hasty": labelers[1].username}


def timed(fn, n: int) -> list[tuple[float, float]]:
    """(wall, this process's CPU) milliseconds of each of ``n`` calls. The CPU time leaves out
    PostgreSQL's share and the waiting for a core on a busy machine."""
    times = []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000))
    return times


def measure(args, data) -> list[tuple]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from labelhub.feedback import selectors

    rows = []
    for what, fn in (("agreement figures", lambda: selectors.agreement_figures(campaign=data["campaign"])),
                     ("alarm figures", lambda: selectors.alarm_figures(campaign=data["campaign"]))):
        tracemalloc.start()  # the first run counts its queries and its memory (Python and numpy)
        with CaptureQueriesContext(connection) as queries:
            data[what] = fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        times = timed(fn, args.repeat)
        rows.append((what, "no cache", times, f"{len(queries)} queries; {peak:.0f} MB allocated at the peak"))
    api = Client(HTTP_AUTHORIZATION=f"Token {data['token']}")
    slug = data["campaign"].slug
    for url in (f"/api/campaigns/{slug}/agreement/", f"/api/campaigns/{slug}/alarms/"):
        def get(url=url):
            response = api.get(url, secure=True)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}")
            return response

        cold = []
        for _ in range(args.repeat):
            cache.clear()
            cold += timed(get, 1)
        get()
        warm = timed(get, args.warm)
        rows.append((f"GET {url.rsplit('/', 2)[-2]}/", "cold", cold, ""))
        rows.append((f"GET {url.rsplit('/', 2)[-2]}/", "warm", warm, ""))
    return rows


def report(args, data, rows) -> None:
    agreement, alarms = data["agreement figures"], data["alarm figures"]
    c = agreement["campaign"]
    print(f"campaign: alpha {c['alpha']}, pairwise agreement {c['agreement']}, tau-b {c['tau_b']} over {c['tasks']} tasks, "
          f"{c['comparisons']} comparisons, {c['labelers']} labelers; {len(agreement['labeler_pairs'])} labeler pairs, "
          f"{len(agreement['policy_pairs'])} policy pairs, {len(agreement['periods'])} days")
    raised = {e["labeler"]: e["raised"] for e in alarms["labelers"] if e["raised"]}
    print(f"alarms raised: {raised or 'none'} (planted: {data['first_shown']} ranks the first shown first, "
          f"{data['hasty']} answers in 2 s)")
    print(f"\n{'what':<20} {'cache':<9} {'n':>4} {'wall p50':>9} {'wall max':>9} {'CPU p50':>9}  (ms)")
    for what, kind, times, note in rows:
        wall, cpu = [t for t, _ in times], [c for _, c in times]
        print(f"{what:<20} {kind:<9} {len(times):>4} {statistics.median(wall):>9.1f} {max(wall):>9.1f} "
              f"{statistics.median(cpu):>9.1f}  {note}")


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
        print(f"setup: {data['tasks']} tasks × {args.overlap} of {args.labelers} labelers = {data['judgments']} "
              f"judgments (K={K}) in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = measure(args, data)
        report(args, data, rows)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database_run(url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
