"""LabelHub spread over "machines" (issue 17 point 6): two web servers, each its own uvicorn
with two processes, and two job workers, sharing one PostgreSQL, the Redis channel layer and
the data directory — as docs/operations.md ("Several machines") describes. A labeler submits
through one server while the lead watches the campaign's progress through the other, and
snapshots asked for through either server are each built once, by whichever worker is free."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest
import websockets
from django.db import connection
from django.test import Client

from labelhub.accounts.services import token_get_or_create
from labelhub.feedback.models import Snapshot
from labelhub.labeling import services as labeling_services
from tests.config.test_channel_layers import _redis_url
from tests.faults.conftest import MANAGE, database_url, labelhub_env, wait_for, web_server
from tests.labeling.conftest import add_prompts

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

SNAPSHOTS = 4


async def progress_after_a_submit(ws_url: str, cookie: str, origin: str, submit) -> list[dict]:
    """The lead's progress socket on one server: the first message, then ``submit()`` (through
    the other server), then messages until one counts the judgment."""
    seen = []
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie, "Origin": origin}) as socket:
        seen.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
        await asyncio.to_thread(submit)
        while seen[-1]["judgments"] < 1:
            seen.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
    return seen


def test_two_web_servers_and_two_workers_share_one_database(campaign, lead, labeler, processes, tmp_path,
                                                            free_tcp_port_factory):
    redis = _redis_url().rsplit("/", 1)[0] + f"/{random.randint(1, 15)}"  # a database of its own
    add_prompts(campaign, 6)
    labeling_services.tasks_create(campaign=campaign)
    env = labelhub_env(DATABASE_URL=database_url(), REDIS_URL=redis, LABELHUB_DATA_DIR=str(tmp_path / "data"),
                       LABELHUB_PROGRESS_INTERVAL="0")
    web_a = web_server(processes, env, free_tcp_port_factory(), tmp_path / "web-a.log")
    web_b = web_server(processes, env, free_tcp_port_factory(), tmp_path / "web-b.log")
    for name in ("w1", "w2"):
        with open(tmp_path / f"worker-{name}.log", "ab") as log:
            processes([*MANAGE, "worker", "-n", name], env=env, stdout=log, stderr=log)

    # live progress crosses servers through Redis: submitted on A, seen on B
    client = Client()
    client.force_login(lead)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    labeler_api = httpx.Client(base_url=web_a, headers={"Authorization": f"Token {token_get_or_create(user=labeler).key}"},
                               timeout=30)

    def submit():
        lease = labeler_api.post(f"/api/labeling/next/?campaign={campaign.slug}").json()
        answer = {"idempotency_key": "several-machines-1", "ranking": [[c["id"]] for c in lease["completions"]]}
        assert labeler_api.post(f"/api/labeling/assignments/{lease['assignment']}/submit/", json=answer).status_code == 201

    ws_b = web_b.replace("http://", "ws://") + f"/ws/campaigns/{campaign.slug}/progress/"
    seen = asyncio.run(progress_after_a_submit(ws_b, cookie, web_b, submit))
    assert seen[0]["judgments"] == 0 and seen[-1]["judgments"] == 1

    # jobs: snapshots asked for through either server, each built exactly once by a worker
    lead_token = token_get_or_create(user=lead).key
    apis = [httpx.Client(base_url=url, headers={"Authorization": f"Token {lead_token}"}, timeout=30) for url in (web_a, web_b)]
    made = [apis[i % 2].post(f"/api/campaigns/{campaign.slug}/snapshots/", json={}).json()["id"] for i in range(SNAPSHOTS)]

    def all_ready():
        states = [apis[1].get(f"/api/campaigns/{campaign.slug}/snapshots/{pk}/").json()["state"] for pk in made]
        return all(state == Snapshot.State.READY for state in states)

    wait_for(all_ready, 120, what="every snapshot built by the workers", log=tmp_path / "worker-w1.log")
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts FROM procrastinate_jobs WHERE task_name LIKE %s", ["%build_snapshot%"])
        jobs = cursor.fetchall()
    assert sorted(jobs) == [("succeeded", 1)] * SNAPSHOTS  # each once, none retried or lost
    snapshots = Snapshot.objects.filter(pk__in=made)
    assert sorted(s.version for s in snapshots) == list(range(1, SNAPSHOTS + 1))
    assert all(s.judgment_count == 1 for s in snapshots)
    for api in (*apis, labeler_api):
        api.close()
