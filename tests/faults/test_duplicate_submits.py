"""The same submit twice at once — a double click, a retry racing the first try — through the
real server (two uvicorn processes, so the two may land in different processes): both are
acknowledged with the same judgment, one as created (201) and one as the replay (200), and
the database holds it once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import httpx
import pytest
from django.db import connection

from labelhub.labeling import services as labeling_services
from labelhub.labeling.models import Judgment
from tests.faults.conftest import database_url, labelhub_env, web_server
from tests.faults.labelers import INTEGRITY_SQL, labeler_tokens
from tests.labeling.conftest import add_prompts

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

WEB_PORT, LABELERS, PAIRS_EACH = 8653, 4, 10


def twice_at_once(base_url: str, token: str, path: str, body: dict) -> list[tuple[int, int | None]]:
    """POST ``body`` to ``path`` from two connections released together: [(status, judgment id)]."""
    barrier, results = threading.Barrier(2), [None, None]

    def send(i):
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=30) as http:
            barrier.wait()
            response = http.post(path, json=body)
            results[i] = (response.status_code, response.json().get("id") if response.status_code < 300 else None)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def labeler_pairs(base_url: str, token: str, slug: str, pairs: list) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=30) as http:
        for _ in range(PAIRS_EACH):
            lease = http.post(f"/api/labeling/next/?campaign={slug}").json()
            body = {"idempotency_key": uuid.uuid4().hex, "ranking": [[c["id"]] for c in lease["completions"]]}
            pairs.append(twice_at_once(base_url, token, f"/api/labeling/assignments/{lease['assignment']}/submit/", body))


def test_two_identical_submits_at_once_are_stored_once(campaign, make_user, processes, tmp_path):
    add_prompts(campaign, LABELERS * PAIRS_EACH)
    labeling_services.tasks_create(campaign=campaign)
    tokens = labeler_tokens(campaign, make_user, LABELERS)
    base_url = web_server(processes, labelhub_env(DATABASE_URL=database_url()), WEB_PORT, tmp_path / "web.log")

    pairs: list = []
    threads = [threading.Thread(target=labeler_pairs, args=(base_url, token, campaign.slug, pairs)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)

    statuses = Counter(status for pair in pairs for status, _ in pair)
    one_judgment = sum(1 for pair in pairs if pair[0][1] is not None and pair[0][1] == pair[1][1])
    stored = Judgment.objects.count()
    with connection.cursor() as cursor:
        integrity = {}
        for name, sql in INTEGRITY_SQL.items():
            cursor.execute(sql)
            integrity[name] = cursor.fetchone()[0]
    print(f"\nsame submit twice at once: {len(pairs)} pairs, statuses {dict(statuses)}, "
          f"pairs answered with one judgment {one_judgment}, stored {stored}, integrity {integrity}")
    assert len(pairs) == LABELERS * PAIRS_EACH
    assert statuses == {201: len(pairs), 200: len(pairs)}
    assert one_judgment == len(pairs)
    assert stored == len(pairs)
    assert integrity == dict.fromkeys(INTEGRITY_SQL, 0)
