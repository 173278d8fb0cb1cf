"""Benchmark of the labeling queue over HTTP: simulated labelers loop next → submit.

It builds a database of its own (``labelhub_bench``, dropped at the end; never the dev
database), fills one active rank campaign (K=4, ``--overlap``) with ``--tasks`` tasks through
COPY, optionally closes the first ``--judged`` share of the queue with earlier judgments by
the same labelers, starts the real ASGI server against it as ``make demo`` runs it (two
uvicorn processes, ``DATABASE_POOL_SIZE=4``; DEBUG off), and for each count in
``--labelers`` runs that many labelers for ``--seconds``: each asks for the next task and
submits a ranking, with no pause (or ``--think`` seconds). Before each run the queue is
reset to the state after setup. It prints cycles per second, p50/p95/p99 latency of next
and submit, errors by status, CPU per cycle, and an integrity check by SQL after every run
(all must be 0; the exit status is 1 otherwise).

    .venv/bin/python benchmarks/queue.py --tasks 10000 --labelers 1,8,32 --seconds 20
    .venv/bin/python benchmarks/queue.py --tasks 10000 --labelers 32 --think 5 --seconds 60
    .venv/bin/python benchmarks/queue.py --tasks 100000 --judged 0.9

The load generator runs on the same machine as the server and the database: on a small
machine they share the cores, and the figures are for all three together. Figures and
findings: docs/benchmarks.md, "Labeling queue".
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and its name would hide the
# standard library's ``queue`` (imported by asgiref, httpx, concurrent.futures): put the
# project root there instead, before anything else is imported.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BASE_DIR)

from labelhub.ops.processes import children_stop  # noqa: E402 (after the path fix; no Django in it)

DEMO = BASE_DIR / "fixtures" / "demo"
K = 4
CHUNK = 5000


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=10_000, help="Tasks in the campaign.")
    p.add_argument("--labelers", default="1,8,32", help="Labeler counts, one run each (comma-separated).")
    p.add_argument("--seconds", type=float, default=20.0, help="Measured time of each run.")
    p.add_argument("--warmup", type=float, default=2.0, help="Seconds run before measuring, per run.")
    p.add_argument("--think", type=float, default=0.0,
                   help="Mean pause of a labeler after each submit, in seconds (0: none, a stress test).")
    p.add_argument("--overlap", type=int, default=2, help="Judgments wanted per task.")
    p.add_argument("--judged", type=float, default=0.0,
                   help="Fraction of tasks (first in queue order) already fully judged before the runs.")
    p.add_argument("--server-procs", type=int, default=2,
                   help="Server processes sharing one listening socket (2 = like `make demo`).")
    p.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn",
                   help="ASGI server (uvicorn = like `make demo`).")
    p.add_argument("--env", action="append", default=["DATABASE_POOL_SIZE=4"], metavar="KEY=VALUE",
                   help="Environment for the server (default: DATABASE_POOL_SIZE=4, like `make demo`; "
                        "DATABASE_POOL_SIZE=0 turns the pool off). Repeatable.")
    p.add_argument("--any-campaign", action="store_true",
                   help="Ask for the next task without ?campaign= (any of the labeler's campaigns).")
    p.add_argument("--auth", choices=["token", "session"], default="token",
                   help="How the simulated labelers sign in: API token, or a browser's session cookie with "
                        "CSRF token (the labeling page's way).")
    p.add_argument("--client", choices=["stdlib", "httpx"], default="stdlib",
                   help="HTTP client of the simulated labelers (both keep connections alive).")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="On a shared machine: before each run, wait up to this long for the CPUs to be "
                        "under 15%% busy (the busy share before each run is printed either way).")
    p.add_argument("--variant", action="append", default=[], metavar="'NAME [KEY=VALUE ...]'",
                   help="A/B: a server configuration (a name and environment on top of --env). With two or more, "
                        "each labeler count runs --repeat rounds, each round every variant once on a freshly "
                        "started server, in alternating order (AB, BA, …), and a summary compares their medians "
                        "with the first variant's. Repeatable.")
    p.add_argument("--repeat", type=int, default=1, help="Rounds per labeler count with --variant.")
    p.add_argument("--port", type=int, default=0, help="Port of the server on 127.0.0.1 (0: any free one).")
    p.add_argument("--db", default="labelhub_bench", help="Name of the benchmark database (dropped first).")
    p.add_argument("--hold", action="store_true",
                   help="Set up and start the server, print its port and a token, and wait for Ctrl-C (no load).")
    p.add_argument("--keep-db", action="store_true", help="Keep the database afterwards.")
    p.epilog = ("CPU ms per cycle: of the server processes, of the database backends that served the whole "
                "run (all of them with DATABASE_POOL_SIZE; without a pool most backends live for one request "
                "and are missed) and of this load generator; warm-up cycles included.")
    p.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = p.parse_args(argv)
    args.labeler_counts = [int(n) for n in args.labelers.split(",") if n.strip()]
    args.variants = [_variant(p, text) for text in args.variant]
    if len({name for name, _ in args.variants}) < len(args.variants):
        p.error("--variant names must differ")
    configured = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "labelhub"
    if args.db in {configured, "labelhub", "postgres"}:
        p.error(f"--db must name a database of its own (it is dropped), not {args.db!r}")
    return args


def _variant(parser, text: str) -> tuple[str, list[str]]:
    name, *env = text.split()
    if not name or "=" in name or not all("=" in item for item in env):
        parser.error(f"--variant {text!r}: a name, then KEY=VALUE words")
    return name, env


# --- database -------------------------------------------------------------------------------


def bench_database_url(name: str) -> str:
    """DATABASE_URL with the database name replaced, or the embedded server's socket."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return urlparse(url)._replace(path=f"/{name}").geturl()
    from labelhub.config import embedded_db

    embedded_db.ensure_running()  # attach: the server stays up while this process runs
    return f"postgresql://{embedded_db.USER}@/{name}?host={quote(str(embedded_db.socket_dir()))}"


def _maintenance_connect(url: str):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    return psycopg.connect(**{**conninfo_to_dict(url), "dbname": "postgres"}, autocommit=True)


def database_recreate(url: str, name: str) -> None:
    with _maintenance_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str, name: str) -> None:
    with _maintenance_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "labelhub.config.settings"
    os.environ["DEBUG"] = "0"  # no query log while filling the database
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    import django

    django.setup()


# --- data -----------------------------------------------------------------------------------


def populate(*, tasks: int, overlap: int, labelers: int, judged: float) -> dict:
    """One active rank campaign with ``tasks`` tasks (texts from the demo fixture) and labelers.

    Big tables are written with COPY (``copy_rows``): 100k tasks take about a minute.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from labelhub.accounts.services import token_get_or_create
    from labelhub.campaigns.models import (
        Campaign,
        Completion,
        Membership,
        Policy,
        Prompt,
        Role,
        content_hash,
    )
    from labelhub.labeling.models import Task, TaskCompletion

    step(None)
    spec = json.loads((DEMO / "campaign.json").read_text())
    demo = [json.loads(line) for line in (DEMO / "prompts.jsonl").read_text().splitlines() if line.strip()]
    User = get_user_model()
    with transaction.atomic():
        lead = User.objects.create_user("bench-lead")
        campaign = Campaign.objects.create(
            name="Benchmark", slug="bench", task_kind=Campaign.TaskKind.RANK, completions_per_task=K,
            overlap=overlap, rating_axes=spec["rating_axes"], flag_vocabulary=spec["flag_vocabulary"],
            guidelines=spec["guidelines"], status=Campaign.Status.ACTIVE, created_by=lead,
        )
        policies = Policy.objects.bulk_create(Policy(campaign=campaign, name=f"policy-{j}") for j in range(K))
        prompt_ids = copy_rows(
            Prompt, ["text", "messages", "content_hash", "metadata"],
            (_prompt(demo[i % len(demo)], i, content_hash) for i in range(tasks)),
            order_by="id", owner={"campaign": campaign}, campaign=campaign,
        )
        completion_ids = copy_rows(
            Completion, ["prompt_id", "policy_id", "text", "content_hash"],
            # each text unique, as real completions are (a cache of rendered text must not see repeats)
            ((pid, pol.pk, f'{demo[i % len(demo)]["completions"][j]["text"]}\n\n(#{i}.{j})', content_hash(f"{pid}-{j}"))
             for i, pid in enumerate(prompt_ids) for j, pol in enumerate(policies)),
            order_by="id", owner={"prompt__campaign": campaign},
        )
        step(f"{tasks} prompts, {len(completion_ids)} completions")
        sets = [completion_ids[K * i:K * (i + 1)] for i in range(tasks)]  # one task of K per prompt
        priorities = [(7919 * i) % 5 for i in range(tasks)]  # 0–4, scrambled: the queue order is not the id order
        queue_order = sorted(range(tasks), key=lambda i: (-priorities[i], i))  # ids follow the row order
        judged_tasks = int(tasks * judged)
        closed = set(queue_order[:judged_tasks])  # counted in the COPY: an UPDATE would double the table
        task_ids = copy_rows(
            Task, ["prompt_id", "completion_key", "priority", "judgment_count"],
            ((pid, _completion_key(ids), priorities[i], overlap if i in closed else 0)
             for i, (pid, ids) in enumerate(zip(prompt_ids, sets, strict=True))),
            order_by="id", owner={"campaign": campaign}, campaign=campaign, kind=campaign.task_kind, overlap=overlap,
        )
        copy_rows(
            TaskCompletion, ["task_id", "completion_id", "position"],
            ((tid, cid, pos) for tid, ids in zip(task_ids, sets, strict=True) for pos, cid in enumerate(ids)),
        )
        step(f"{tasks} tasks")
        users = User.objects.bulk_create(User(username=f"bench-labeler-{n:03d}", password="!") for n in range(labelers))
        prefill = User.objects.bulk_create(User(username=f"bench-prefill-{n}", password="!") for n in range(overlap))
        Membership.objects.bulk_create(Membership(campaign=campaign, user=u, role=Role.LABELER) for u in users + prefill)
        Membership.objects.create(campaign=campaign, user=lead, role=Role.LEAD)
        tokens = [(u.pk, token_get_or_create(user=u).key, *_browser_session(u)) for u in users]
        if judged_tasks:
            prefill_judgments(campaign, users + prefill, [task_ids[i] for i in queue_order[:judged_tasks]],
                              overlap=overlap, now=timezone.now())
            step(f"{judged_tasks * overlap} judgments")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # statistics as autovacuum would have them after a bulk load
    step("analyze")
    return {"campaign": campaign.slug, "labelers": tokens, "judged_tasks": judged_tasks, "marks": _marks()}


def _browser_session(user) -> tuple[str, str]:
    """A signed-in session (as the login page makes it) and a CSRF secret, for ``--auth session``."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
    from django.utils.crypto import get_random_string

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # the backend a sign-in records: the first that signs users in (axes' backend, first in the
    # list, only refuses locked-out sign-ins and loads no users)
    session[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key, get_random_string(32)


def auth_headers(labeler: tuple, auth: str) -> dict[str, str]:
    """API token, or what a browser sends: the session cookie, the CSRF cookie and header."""
    _, token, session_key, csrf = labeler
    if auth == "token":
        return {"Authorization": f"Token {token}"}
    return {"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "X-CSRFToken": csrf}


def _marks() -> dict[str, int]:
    """The last assignment and judgment of the setup: later ones were made by a run."""
    from django.db.models import Max

    from labelhub.labeling.models import Assignment, Judgment

    return {"assignment": Assignment.objects.aggregate(m=Max("id"))["m"] or 0,
            "judgment": Judgment.objects.aggregate(m=Max("id"))["m"] or 0}


def copy_rows(model, names: list[str], rows, order_by: str | None = None, owner: dict | None = None,
              **constant) -> list[int]:
    """COPY ``rows`` (tuples of the fields ``names``) into ``model``'s table; return the new keys.

    Every other field takes ``constant`` or its model default, prepared once the way
    ``bulk_create`` prepares it (``pre_save``, ``get_db_prep_save``); model instances per
    row would cost more than the database does. ``rows`` must not query the database while
    it is consumed: the connection is busy with the COPY (a query would wait for ever — and
    hold up ``DROP DATABASE`` on the whole server). The keys come back by reading the rows
    of ``owner`` in key order: one COPY takes its ids from the sequence in row order.
    """
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    template = model(**constant)
    base = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    slots = [next(i for i, f in enumerate(fields) if name in (f.name, f.attname)) for name in names]
    preps = [_prep(fields[i], connection) for i in slots]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cur, cur.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = base.copy()
            for slot, prep, value in zip(slots, preps, row, strict=True):
                values[slot] = prep(value)
            copy.write_row(values)
    if order_by is None:
        return []
    return list(model.objects.filter(**owner).order_by(order_by).values_list("pk", flat=True))


def _prep(field, connection):
    """JSON values need the field's adaptation; plain values go as they are."""
    from django.db.models import JSONField

    if isinstance(field, JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    return lambda value: value


def _completion_key(ids) -> str:
    """As ``labeling.services`` keys a completion set (sorted ids, sha256)."""
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()


_t = [time.perf_counter()]


def step(name: str | None) -> None:
    """Print how long the step that ends now took (``None`` starts the clock)."""
    now = time.perf_counter()
    if name:
        print(f"  {name}: {now - _t[0]:.1f} s", flush=True)
    _t[0] = now


def _prompt(row: dict, i: int, content_hash) -> tuple:
    """(text, messages, content_hash, metadata) of a demo prompt, made unique by its number."""
    if "messages" in row:
        messages = [*row["messages"][:-1], {**row["messages"][-1], "content": f"{row['messages'][-1]['content']} (#{i})"}]
        return "", messages, content_hash(messages), row["metadata"]
    text = f"{row['prompt']} (#{i})"
    return text, None, content_hash(text), row["metadata"]


def prefill_judgments(campaign, users, task_ids: list[int], *, overlap: int, now) -> None:
    """``overlap`` judgments for each of ``task_ids`` (the first in queue order, already counted as closed).

    They come from all ``users`` in turn, the benchmark labelers included: a labeler who
    already judged thousands of tasks is the case where the next-task query must not slow down.
    """
    from labelhub.labeling.models import Assignment, Judgment, TaskCompletion

    orders: dict[int, list[int]] = {}
    for tid, cid in TaskCompletion.objects.filter(task__campaign=campaign).order_by("task_id", "position").values_list("task_id", "completion_id"):
        orders.setdefault(tid, []).append(cid)
    copy_rows(
        Assignment, ["task_id", "labeler_id", "display_order"],
        ((t, users[(k + j) % len(users)].pk, orders[t]) for k, t in enumerate(task_ids) for j in range(overlap)),
        state=Assignment.State.SUBMITTED, leased_at=now, expires_at=now, closed_at=now,
    )
    assignments = list(Assignment.objects.filter(labeler__in=users).values_list("pk", "task_id", "labeler_id", "display_order"))
    copy_rows(
        Judgment, ["task_id", "assignment_id", "labeler_id", "ranking", "display_order", "idempotency_key"],
        ((tid, pk, uid, [[c] for c in order], order, f"prefill-{pk}") for pk, tid, uid, order in assignments),
        campaign=campaign, source=Judgment.Source.SIMULATED, guideline_version=campaign.guidelines_version,
    )


def queue_reset(*, marks: dict[str, int]) -> None:
    """Undo a run: judgments and leases made after the setup go, counters are recomputed."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM labeling_judgment WHERE id > %s", [marks["judgment"]])
        cur.execute("DELETE FROM labeling_assignment WHERE id > %s RETURNING task_id", [marks["assignment"]])
        touched = sorted({row[0] for row in cur.fetchall()})
        cur.execute("""
            UPDATE labeling_task t SET
              judgment_count = (SELECT count(*) FROM labeling_judgment j WHERE j.task_id = t.id AND j.supersedes_id IS NULL),
              lease_count = (SELECT count(*) FROM labeling_assignment a WHERE a.task_id = t.id AND a.state = 'leased')
            WHERE t.id = ANY(%s)""", [touched])
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE labeling_task, labeling_assignment, labeling_judgment")


INTEGRITY_SQL = {
    "double_assignments": """SELECT count(*) FROM (SELECT 1 FROM labeling_assignment
        GROUP BY task_id, labeler_id HAVING count(*) > 1) x""",
    "judgments_over_overlap": "SELECT count(*) FROM labeling_task WHERE judgment_count > overlap",
    "judgment_count_wrong": """SELECT count(*) FROM labeling_task t LEFT JOIN (
        SELECT task_id, count(*) AS n FROM labeling_judgment WHERE supersedes_id IS NULL GROUP BY task_id) j
        ON j.task_id = t.id WHERE t.judgment_count <> coalesce(j.n, 0)""",
    "lease_count_wrong": """SELECT count(*) FROM labeling_task t LEFT JOIN (
        SELECT task_id, count(*) AS n FROM labeling_assignment WHERE state = 'leased' GROUP BY task_id) a
        ON a.task_id = t.id WHERE t.lease_count <> coalesce(a.n, 0)""",
    "live_leases_over_overlap": """SELECT count(*) FROM labeling_task t JOIN (
        SELECT task_id, count(*) AS n FROM labeling_assignment WHERE state = 'leased' AND expires_at > now()
        GROUP BY task_id) a ON a.task_id = t.id WHERE a.n > t.overlap""",
    "judgments_plus_leases_over_overlap": """SELECT count(*) FROM labeling_task t JOIN (
        SELECT task_id, count(*) AS n FROM labeling_assignment WHERE state = 'leased' AND expires_at > now()
        GROUP BY task_id) a ON a.task_id = t.id WHERE t.judgment_count + a.n > t.overlap""",
    "labeler_judged_task_twice": """SELECT count(*) FROM (SELECT 1 FROM labeling_judgment
        WHERE supersedes_id IS NULL GROUP BY task_id, labeler_id HAVING count(*) > 1) x""",
}


def integrity_check() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for name, sql in INTEGRITY_SQL.items():
            cur.execute(sql)
            out[name] = cur.fetchone()[0]
    return out


def judgments_since(marks: dict[str, int]) -> int:
    from labelhub.labeling.models import Judgment

    return Judgment.objects.filter(id__gt=marks["judgment"]).count()


# --- server ---------------------------------------------------------------------------------


def server_start(*, url: str, procs: int, extra_env: list[str], log_dir: Path, server: str = "daphne", port: int = 0):
    """daphne (or uvicorn) on 127.0.0.1 (``port``, 0: any free one), configured as in production
    (DEBUG off); N processes share one socket."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Linux copies this to every accepted socket. uvicorn takes an inherited --fd for a Unix
    # socket and so never sets it itself: each response would wait ~40 ms for a delayed ACK
    # (Nagle). Bound by itself, uvicorn (like daphne) sets it.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    port = listener.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": os.environ["SECRET_KEY"],
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING"}
    env.update(item.split("=", 1) for item in extra_env)
    children = []
    for n in range(procs):
        log = open(log_dir / f"server-{n}.log", "ab")  # noqa: SIM115 (closed with the process)
        command = {
            "daphne": ["-m", "daphne", "--fd", str(listener.fileno()), "-v", "0"],
            "uvicorn": ["-m", "uvicorn", "--fd", str(listener.fileno()), "--log-level", "warning", "--no-access-log",
                        "--lifespan", "off"],
        }[server]
        children.append(subprocess.Popen(
            [sys.executable, *command, "labelhub.config.asgi:application"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=[listener.fileno()],
        ))
    listener.close()  # the children hold it
    server_wait(port, children, log_dir)
    server_settle(children)
    return port, children


def server_wait(port: int, children, log_dir: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/me/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(log_dir.glob("server-*.log")))
    raise SystemExit(f"the server did not answer on port {port}:\n{logs}")


def server_settle(children, timeout: float = 30.0) -> None:
    """Wait until the server processes are idle: the first one answering does not mean that
    the others have finished importing Django."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(children)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(children)
        if now - before < 0.05:
            return
        before = now


def server_log_summary(log_dir: Path) -> None:
    """The server runs with LOG_LEVEL=WARNING: show what it logged, most frequent first."""
    lines = Counter()
    for path in sorted(log_dir.glob("server-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            lines[line.split(": ", 1)[-1][:160]] += 1  # without the timestamp
    if lines:
        print("\nserver log (count × line):")
        for line, n in lines.most_common(8):
            print(f"  {n:>6} × {line}")


# --- load -----------------------------------------------------------------------------------


class StdlibClient:
    """One keep-alive HTTP/1.1 connection (http.client: the cheapest client in CPU)."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port, self.headers = port, {**headers, "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.used = False  # the connection has carried a request (the server may close it when idle)
        self.reconnects = 0

    def post(self, path: str, body: dict | None = None) -> tuple[int, bytes]:
        payload = json.dumps(body or {})
        try:
            return self._post(path, payload)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not self.used:
                return self._fail()
            # The server closed the idle keep-alive connection (uvicorn after 5 s) before this
            # request reached it: reconnect and send it again, as browsers do. Safe for both
            # calls: next returns the live lease, submit is idempotent by key.
            self.reconnects += 1
            self._reconnect()
            try:
                return self._post(path, payload)
            except (OSError, http.client.HTTPException):
                return self._fail()
        except (OSError, http.client.HTTPException):
            return self._fail()

    def _post(self, path: str, payload: str) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        self.used = True
        return response.status, response.read()

    def _reconnect(self):
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.used = False

    def _fail(self) -> tuple[int, bytes]:
        self._reconnect()
        return 0, b""

    def close(self):
        self.conn.close()


class HttpxClient:
    def __init__(self, port: int, headers: dict[str, str]):
        import httpx

        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)

    def post(self, path: str, body: dict | None = None) -> tuple[int, bytes]:
        import httpx

        try:
            response = self.http.post(path, json=body or {})
            return response.status_code, response.content
        except httpx.HTTPError:
            return 0, b""

    def close(self):
        self.http.close()


def labeler_loop(client, slug: str | None, think: float, measure_from: float, stop: float, out: dict) -> None:
    """next → submit (→ think) until ``stop``; samples started before ``measure_from`` are warm-up."""
    nexts, submits, statuses = out["next"], out["submit"], out["statuses"]
    rng = random.Random()
    while (t0 := time.perf_counter()) < stop:
        status, body = client.post(f"/api/labeling/next/?campaign={slug}" if slug else "/api/labeling/next/")
        t1 = time.perf_counter()
        measured = t0 >= measure_from
        if measured:
            nexts.append(t1 - t0)
            statuses[f"next {status}"] += 1
        if status == 204:
            out["empty"] = True
            return
        if status != 200:
            continue
        lease = json.loads(body)
        ranking = [[c["id"]] for c in lease["completions"]]
        t2 = time.perf_counter()
        status, _ = client.post(f"/api/labeling/assignments/{lease['assignment']}/submit/",
                                {"idempotency_key": uuid.uuid4().hex, "ranking": ranking, "time_spent_ms": 1})
        t3 = time.perf_counter()
        if measured:
            submits.append(t3 - t2)
            statuses[f"submit {status}"] += 1
            if status == 201:
                out["cycles"] += 1
        elif status == 201:
            out["warmup_cycles"] += 1
        if think:
            time.sleep(min(think * rng.uniform(0.5, 1.5), max(0.0, stop - time.perf_counter())))


def run_load(*, port: int, slug: str | None, credentials: list[dict], seconds: float, warmup: float, think: float,
             client_kind: str) -> dict:
    make = StdlibClient if client_kind == "stdlib" else HttpxClient
    clients = [make(port, headers) for headers in credentials]
    outs = [{"next": [], "submit": [], "statuses": Counter(), "cycles": 0, "warmup_cycles": 0, "empty": False}
            for _ in credentials]
    start = time.perf_counter() + 0.2
    measure_from, stop = start + warmup, start + warmup + seconds
    threads = [threading.Thread(target=labeler_loop, args=(c, slug, think, measure_from, stop, o)) for c, o in zip(clients, outs, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = max(min(time.perf_counter(), stop) - measure_from, 1e-9)
    reconnects = sum(getattr(c, "reconnects", 0) for c in clients)
    for c in clients:
        c.close()
    statuses = sum((o["statuses"] for o in outs), Counter())
    nexts = sorted(x for o in outs for x in o["next"])
    submits = sorted(x for o in outs for x in o["submit"])
    cycles = sum(o["cycles"] for o in outs)
    return {
        "labelers": len(credentials), "seconds": round(elapsed, 2), "cycles": cycles,
        "cycles_per_s": round(cycles / elapsed, 1),
        "next_ms": percentiles(nexts), "submit_ms": percentiles(submits),
        "requests": len(nexts) + len(submits),
        "errors": {k: v for k, v in statuses.items() if not (k.endswith(" 200") or k.endswith(" 201") or k.endswith(" 204"))},
        "empty": statuses.get("next 204", 0),
        "created": cycles + sum(o["warmup_cycles"] for o in outs),
        "keepalive_reconnects": reconnects,
    }


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}

    def at(q):
        return round(1000 * samples[min(len(samples) - 1, int(q * len(samples)))], 1)

    return {"n": len(samples), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(1000 * samples[-1], 1)}


# --- report ---------------------------------------------------------------------------------


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of the machine's CPU busy over ``seconds`` (before a run: other people's work)."""
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return float("nan")
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def cpu_seconds(children) -> float:
    """CPU time (user + system) the server processes used so far."""
    total = 0.0
    for child in children:
        with open(f"/proc/{child.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def cpu_busy_wait(patience: float, quiet: float = 0.15) -> float:
    """Wait up to ``patience`` seconds for a quiet machine; return the last busy share seen."""
    deadline = time.monotonic() + patience
    while (busy := cpu_busy()) > quiet and time.monotonic() < deadline:
        pass
    return busy


def db_cpu_seconds(db: str) -> dict[int, float]:
    """CPU time of each PostgreSQL backend serving ``db`` (local server only), by pid."""
    import psutil

    out = {}
    for proc in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if cmdline.startswith("postgres:") and f" {db} " in cmdline and proc.info["cpu_times"]:
            out[proc.pid] = proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return out


def db_cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}"


def print_run(r: dict) -> None:
    n, s = r["next_ms"], r["submit_ms"]
    print(f"{r['tasks']:>7} {r['judged_tasks']:>7} {r['labelers']:>4} {r['cycles_per_s']:>8} "
          f"{n.get('p50', '-'):>6} {n.get('p95', '-'):>6} {n.get('p99', '-'):>6} "
          f"{s.get('p50', '-'):>6} {s.get('p95', '-'):>6} {s.get('p99', '-'):>6} "
          f"{sum(r['errors'].values()):>6} {r['empty']:>5}  {'OK' if r['integrity_ok'] else 'FAIL':>9}"
          f"  {r['busy_before']:>5.0%}  {r['server_cpu_ms_per_cycle']:>6} {r['db_cpu_ms_per_cycle']:>6} {r['client_cpu_ms_per_cycle']:>6}", flush=True)
    if r["errors"]:
        print(f"        errors by status: {r['errors']}")
    if r.get("keepalive_reconnects"):
        print(f"        idle keep-alive connections closed by the server and reopened: {r['keepalive_reconnects']}")
    if not r["integrity_ok"]:
        print(f"        integrity: {r['integrity']}")


HEADER = (f"{'tasks':>7} {'judged':>7} {'lab':>4} {'cycles/s':>8} "
          f"{'next':>6} {'p95':>6} {'p99':>6} {'submit':>6} {'p95':>6} {'p99':>6} {'errors':>6} {'204s':>5}  integrity   busy  server     db client\n"
          f"{'':>7} {'tasks':>7} {'':>4} {'':>8} {'p50 ms':>6} {'':>6} {'':>6} {'p50 ms':>6} {'':>6} {'':>6} {'':>6} {'':>5}  {'':>9}  before  CPU ms per cycle (db: see --help)")


def main(argv=None) -> int:
    args = parse_args(argv)
    url = bench_database_url(args.db)
    print(f"machine: {machine()}", flush=True)
    database_recreate(url, args.db)
    django_setup(url)
    results = []
    try:
        data = setup(args)
        with tempfile.TemporaryDirectory(prefix="labelhub-bench-") as log_dir:
            if len(args.variants) > 1:
                results = compare(args, data, url, Path(log_dir))
            else:
                results = serve_and_measure(args, data, url, Path(log_dir))
            server_log_summary(Path(log_dir))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            database_drop(url, args.db)
    if results:
        print("\nintegrity checks (each must be 0): " + ", ".join(results[0]["integrity"]))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "args": sys.argv[1:], "runs": results}, indent=2))
    return 0 if all(r["integrity_ok"] for r in results) else 1


def serve_and_measure(args, data: dict, url: str, log_dir: Path) -> list[dict]:
    """One server for every labeler count (or ``--hold``)."""
    env = args.env + (args.variants[0][1] if args.variants else [])
    results, children = [], []
    try:
        port, children = server_start(url=url, procs=args.server_procs, extra_env=env, log_dir=log_dir,
                                      server=args.server, port=args.port)
        print(f"server: {args.server_procs} {args.server} process(es) on 127.0.0.1:{port} {' '.join(env)}; "
              f"client: {args.client} threads, {args.auth} auth, think time {args.think:g} s; "
              f"{args.seconds:g} s per run after {args.warmup:g} s warm-up\n", flush=True)
        if args.hold:
            hold(port, data)
            return []
        print(HEADER, flush=True)
        for n in args.labeler_counts:
            results.append(measure(args, data, port, children, labelers=n))
            print_run(results[-1])
    finally:
        children_stop(children)
    return results


def compare(args, data: dict, url: str, log_dir: Path) -> list[dict]:
    """A/B: per labeler count, ``--repeat`` rounds; in each every variant runs once on a server
    started for it, the order alternating between rounds so that a drift in the machine's other
    load falls on both sides alike."""
    print(f"A/B of {len(args.variants)} server configurations ({args.server_procs} {args.server} process(es), "
          f"{' '.join(args.env)}): {args.repeat} round(s) per labeler count, a fresh server per run; client: "
          f"{args.client} threads, {args.auth} auth, think time {args.think:g} s; {args.seconds:g} s per run after "
          f"{args.warmup:g} s warm-up", flush=True)
    for name, env in args.variants:
        print(f"  {name}: {' '.join(env) or '(nothing added)'}")
    results = []
    for n in args.labeler_counts:
        print("\n" + HEADER, flush=True)
        for round_ in range(args.repeat):
            for name, env in args.variants if round_ % 2 == 0 else args.variants[::-1]:
                children = []
                try:
                    port, children = server_start(url=url, procs=args.server_procs, extra_env=args.env + env,
                                                  log_dir=log_dir, server=args.server, port=args.port)
                    run = measure(args, data, port, children, labelers=n)
                finally:
                    children_stop(children)
                run.update(variant=name, variant_env=env, round=round_)
                results.append(run)
                print(f"{name} (round {round_ + 1}):")
                print_run(run)
    compare_summary(results, [name for name, _ in args.variants])
    return results


def compare_summary(results: list[dict], names: list[str]) -> None:
    """Medians and ranges per variant; ratios to the first variant, of the medians and per round."""
    from statistics import median

    def spread(values, fmt="{:.1f}"):
        return f"{fmt.format(median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"

    print("\nmedian (min–max) over the rounds; × = against the first variant: ratio of the medians, and "
          "the median (min–max) of the ratios within each round")
    for n in sorted({r["labelers"] for r in results}):
        runs = {name: [r for r in results if r["labelers"] == n and r["variant"] == name] for name in names}
        first = runs[names[0]]
        print(f"\n{n} labeler(s):")
        print(f"  {'variant':<12} {'runs':>4}  {'cycles/s':<20} {'× cycles/s':<22} {'next p50 ms':<20} "
              f"{'next p99 ms':<20} {'submit p50 ms':<20} {'server CPU ms/cycle':<20} {'× server CPU':<6} db CPU")
        for name in names:
            mine = runs[name]
            cycles = [r["cycles_per_s"] for r in mine]
            paired = [m["cycles_per_s"] / f["cycles_per_s"] for m, f in zip(mine, first, strict=True) if f["cycles_per_s"]]
            cpu = [r["server_cpu_ms_per_cycle"] for r in mine]
            base_cpu = median(r["server_cpu_ms_per_cycle"] for r in first)
            print(f"  {name:<12} {len(mine):>4}  {spread(cycles):<20} "
                  f"{median(cycles) / max(1e-9, median(r['cycles_per_s'] for r in first)):.2f} · {spread(paired, '{:.2f}'):<15} "
                  f"{spread([r['next_ms'].get('p50', 0) for r in mine]):<20} "
                  f"{spread([r['next_ms'].get('p99', 0) for r in mine]):<20} "
                  f"{spread([r['submit_ms'].get('p50', 0) for r in mine]):<20} {spread(cpu):<20} "
                  f"{median(cpu) / max(1e-9, base_cpu):<6.2f} {spread([r['db_cpu_ms_per_cycle'] for r in mine])}")


def setup(args) -> dict:
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"setup of {args.db}:", flush=True)
    data = populate(tasks=args.tasks, overlap=args.overlap, labelers=max(args.labeler_counts), judged=args.judged)
    print(f"setup: {args.tasks} tasks (K={K}, overlap {args.overlap}), {data['judged_tasks']} already judged, "
          f"{len(data['labelers'])} labelers in {time.perf_counter() - t0:.1f} s", flush=True)
    return data


def measure(args, data: dict, port: int, children, *, labelers: int) -> dict:
    """One run from a fresh queue: load, CPU per cycle, integrity."""
    queue_reset(marks=data["marks"])
    busy_before = cpu_busy_wait(args.wait_quiet)
    cpu0 = cpu_seconds(children), time.process_time(), db_cpu_seconds(args.db)
    run = run_load(port=port, slug=None if args.any_campaign else data["campaign"],
                   credentials=[auth_headers(labeler, args.auth) for labeler in data["labelers"][:labelers]],
                   seconds=args.seconds, warmup=args.warmup, think=args.think, client_kind=args.client)
    cycles = max(1, run["created"])  # the CPU time covers the warm-up too
    run["server_cpu_ms_per_cycle"] = round(1000 * (cpu_seconds(children) - cpu0[0]) / cycles, 1)
    run["db_cpu_ms_per_cycle"] = round(1000 * db_cpu_delta(cpu0[2], db_cpu_seconds(args.db)) / cycles, 1)
    run["client_cpu_ms_per_cycle"] = round(1000 * (time.process_time() - cpu0[1]) / cycles, 1)
    run["integrity"] = integrity_check()
    run["integrity"]["judgments_not_matching_201s"] = abs(judgments_since(data["marks"]) - run["created"])
    run["integrity_ok"] = not any(run["integrity"].values())
    run.update(tasks=args.tasks, judged_tasks=data["judged_tasks"], overlap=args.overlap, busy_before=busy_before,
               server_procs=args.server_procs, env=args.env, client=args.client, think=args.think,
               any_campaign=args.any_campaign)
    return run


def hold(port: int, data: dict) -> None:
    """Keep the server up for measuring by hand (profilers, curl) until Ctrl-C."""
    print(f"holding: http://127.0.0.1:{port}/  token of labeler 0: {data['labelers'][0][1]}  "
          f"campaign: {data['campaign']}  (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
