"""Labelers over HTTP for the fault tests: next → submit, retrying a submit with the same
idempotency key until it is acknowledged (as the labeling page does), and the tallies."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from labelhub.accounts.services import token_get_or_create
from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add

logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise

INTEGRITY_SQL = {  # each must be 0 (as benchmarks/queue.py checks after a run)
    "judgment_count_wrong": """SELECT count(*) FROM labeling_task t LEFT JOIN (
        SELECT task_id, count(*) AS n FROM labeling_judgment WHERE supersedes_id IS NULL GROUP BY task_id) j
        ON j.task_id = t.id WHERE t.judgment_count <> coalesce(j.n, 0)""",
    "lease_count_wrong": """SELECT count(*) FROM labeling_task t LEFT JOIN (
        SELECT task_id, count(*) AS n FROM labeling_assignment WHERE state = 'leased' GROUP BY task_id) a
        ON a.task_id = t.id WHERE t.lease_count <> coalesce(a.n, 0)""",
    "labeler_judged_task_twice": """SELECT count(*) FROM (SELECT 1 FROM labeling_judgment
        WHERE supersedes_id IS NULL GROUP BY task_id, labeler_id HAVING count(*) > 1) x""",
    "judgments_over_overlap": "SELECT count(*) FROM labeling_task WHERE judgment_count > overlap",
}


def labeler_tokens(campaign, make_user, n: int) -> list[str]:
    tokens = []
    for i in range(n):
        user = make_user(f"fault-labeler-{i}")
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
        tokens.append(token_get_or_create(user=user).key)
    return tokens


@dataclass
class Tally:
    """What the labelers saw: acknowledged keys (with the judgment id), failed tries, times."""

    acked: dict[str, int] = field(default_factory=dict)
    ack_times: list[float] = field(default_factory=list)
    unacked: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acks_since(self, moment: float) -> int:
        with self.lock:
            return sum(t >= moment for t in self.ack_times)


def label(base_url: str, token: str, slug: str, tally: Tally, stop: threading.Event, give_up_after: float = 60.0):
    """next → submit until ``stop`` (or nothing is left); a submit is tried again, with its key,
    until acknowledged or ``give_up_after`` seconds pass (then its key goes to ``unacked``)."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=15) as http:
        while not stop.is_set():
            status, lease = _post(http, f"/api/labeling/next/?campaign={slug}", None, tally)
            if status == 204:
                return
            if status != 200:
                time.sleep(0.2)
                continue
            key = uuid.uuid4().hex
            body = {"idempotency_key": key, "ranking": [[c["id"]] for c in lease["completions"]], "time_spent_ms": 1}
            _submit_until_acknowledged(http, f"/api/labeling/assignments/{lease['assignment']}/submit/", body,
                                       tally, give_up_after)


def _submit_until_acknowledged(http, path, body, tally: Tally, give_up_after: float) -> None:
    deadline = time.monotonic() + give_up_after
    while True:
        status, judgment = _post(http, path, body, tally)
        if status in (200, 201):
            with tally.lock:
                tally.acked[body["idempotency_key"]] = judgment["id"]
                tally.ack_times.append(time.monotonic())
            return
        if 400 <= status < 500 or time.monotonic() > deadline:
            with tally.lock:
                tally.unacked.append(body["idempotency_key"])
            return
        time.sleep(0.2)


def _post(http, path, body, tally: Tally):
    try:
        response = http.post(path, json=body or {})
    except httpx.HTTPError as exc:
        with tally.lock:
            tally.statuses[type(exc).__name__] += 1
        return 0, None
    with tally.lock:
        tally.statuses[response.status_code] += 1
    return response.status_code, (response.json() if response.content else None)


def start_labelers(base_url: str, tokens: list[str], slug: str, tally: Tally, stop: threading.Event):
    threads = [threading.Thread(target=label, args=(base_url, token, slug, tally, stop), daemon=True) for token in tokens]
    for thread in threads:
        thread.start()
    return threads
