"""PostgreSQL stopped and started again while labelers submit through the real server (two
uvicorn processes with the connection pool, as `make demo` runs them): every acknowledged
submit is in the database, none twice, the counters agree, and the server recovers by itself
(no restart). The database is a throwaway cluster on a port of its own, never the machine's."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.db import connection

from labelhub.labeling import services as labeling_services
from tests.faults.conftest import database_url, labelhub_env, wait_for, web_server
from tests.faults.labelers import INTEGRITY_SQL, Tally, labeler_tokens, start_labelers
from tests.faults.pg_cluster import Cluster
from tests.labeling.conftest import add_prompts

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PG_PORT, WEB_PORT = _free_port(), _free_port()  # free now: fixed ports clashed between test runs
LABELERS, OUTAGE_SECONDS, ACKS_BEFORE, ACKS_AFTER = 4, 3.0, 30, 30


@pytest.fixture
def cluster():
    cluster = Cluster(PG_PORT)
    cluster.start()
    yield cluster
    cluster.remove()


def test_every_acknowledged_submit_survives_a_database_restart(campaign, make_user, cluster, processes, tmp_path):
    add_prompts(campaign, 300)
    labeling_services.tasks_create(campaign=campaign)
    tokens = labeler_tokens(campaign, make_user, LABELERS)
    cluster.copy_database(database_url(), connection.pg_version // 10000, "labelhub")
    env = labelhub_env(DATABASE_URL=cluster.url("labelhub"), LABELHUB_DATA_DIR=tmp_path / "data")
    base_url = web_server(processes, env, WEB_PORT, tmp_path / "web.log")

    tally, stop = Tally(), threading.Event()
    threads = start_labelers(base_url, tokens, campaign.slug, tally, stop)
    try:
        wait_for(lambda: len(tally.acked) >= ACKS_BEFORE, 60, what=f"{ACKS_BEFORE} acknowledged submits")
        before = len(tally.acked)
        stopping = time.monotonic()
        cluster.stop()
        stopped = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        starting = time.monotonic()
        cluster.start()
        restarted = time.monotonic()
        wait_for(lambda: tally.acks_since(restarted) >= ACKS_AFTER, 90, what=f"{ACKS_AFTER} submits after the restart")
        recovered_after = min(t for t in tally.ack_times if t >= restarted) - restarted
    finally:
        stop.set()
        for thread in threads:
            thread.join(90)

    stored = [row[0] for row in cluster.sql("SELECT idempotency_key FROM labeling_judgment", "labelhub")]
    integrity = {name: cluster.sql(sql, "labelhub")[0][0] for name, sql in INTEGRITY_SQL.items()}
    acked, times = set(tally.acked), sorted(tally.ack_times)
    figures = {
        "acknowledged": len(acked), "before the stop": before, "after the restart": tally.acks_since(restarted),
        "stored": len(stored), "acknowledged but lost": len(acked - set(stored)),
        "stored twice": len(stored) - len(set(stored)), "stored, never acknowledged": len(set(stored) - acked),
        "given up": len(tally.unacked), "first submit after the restart (s)": round(recovered_after, 1),
        "failed tries": {str(k): v for k, v in tally.statuses.items() if k not in (200, 201)},
        "longest wait between acknowledgements (s)": round(max(b - a for a, b in zip(times, times[1:], strict=False)), 1),
    }
    print(f"\nPostgreSQL restarted under {LABELERS} labelers: {figures}, integrity {integrity}")
    assert figures["acknowledged but lost"] == 0
    assert figures["stored twice"] == 0 and figures["stored, never acknowledged"] == 0
    assert figures["given up"] == 0
    assert len(stored) == len(acked)
    assert integrity == dict.fromkeys(INTEGRITY_SQL, 0)
    # a try that found the database gone was told to retry (503 + Retry-After), never given a 500
    assert 500 not in tally.statuses, figures["failed tries"]
    # the labelers were submitting when the database went away, and nothing was acknowledged while it was away
    assert any(stopping - 2 <= t < stopping for t in times), "no submit just before the stop: nothing was tested"
    assert not any(stopped + 0.5 < t < starting for t in times)  # (a response already on its way may land)
