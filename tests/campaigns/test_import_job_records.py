"""The record of a large import (issue 14, point 9): queued in the request that uploads it,
its progress reported as its job checks the lines, a job run again after its worker died,
a job that fails on the server; refusals before anything is queued; who may queue and read
imports. (The worker end to end: test_import_jobs.py.)"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns import import_jobs, services
from labelhub.campaigns.models import ImportBatch
from tests.campaigns.conftest import ANON, pairs_jsonl, prompts_jsonl, role_cases, written

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"
PAIRS_URL = "/api/campaigns/helpful/pair-imports/"
THRESHOLD = 2000
LEADS_ONLY = role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON})


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.LABELHUB_IMPORT_JOB_BYTES = THRESHOLD


@pytest.fixture
def post(post_file):
    return post_file


def import_jobs_queued() -> int:
    """Import jobs in the table (count before and after: transactional tests leave theirs)."""
    return ProcrastinateJob.objects.filter(queue_name="imports").count()


def test_the_job_reports_its_progress_as_it_checks(campaign, lead, upload, monkeypatch):
    monkeypatch.setattr(import_jobs, "PROGRESS_SECONDS", 0)  # every report written, to count them
    batch = services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("p.jsonl", prompts_jsonl(3500)))
    with CaptureQueriesContext(connection) as queries:
        services.prompts_import_run(batch_id=batch.pk)
    updates = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith('UPDATE "campaigns_importbatch" SET "lines_checked"')]
    reported = [tuple(map(int, re.findall(r'"lines_(?:checked|total)" = (\d+)', sql))) for sql in updates]
    assert reported == [(0, 3500), (1000, 3500), (2000, 3500), (3000, 3500), (3500, 3500)]
    batch.refresh_from_db()
    assert (batch.state, batch.prompts_created) == ("succeeded", 3500)


def test_a_job_run_again_after_its_worker_died_writes_once(campaign, lead, upload, settings):
    batch = services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("p.jsonl", prompts_jsonl(300)))
    ImportBatch.objects.filter(pk=batch.pk).update(state="writing", lines_checked=300)  # as a killed worker left it
    assert services.prompts_import_run(batch_id=batch.pk).state == "succeeded"
    assert services.prompts_import_run(batch_id=batch.pk).state == "succeeded"  # the retried job: nothing to do
    assert written(campaign) == {"prompts": 300, "policies": 1, "completions": 300, "imports": 1}


def test_a_job_that_fails_on_the_server_says_so_and_writes_nothing(campaign, lead, upload):
    batch = services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("p.jsonl", prompts_jsonl(300)))
    (import_jobs.uploads_dir() / str(batch.pk) / "upload").unlink()  # the saved upload went missing
    batch = services.prompts_import_run(batch_id=batch.pk)
    assert (batch.state, batch.errors) == ("failed", [{"line": None, "field": "file", "message": import_jobs.FAILED}])
    assert written(campaign)["prompts"] == 0


def test_a_small_upload_is_still_imported_in_the_request(post, campaign):
    before = import_jobs_queued()
    response = post(prompts_jsonl(3))
    assert len(prompts_jsonl(3)) < THRESHOLD
    assert response.status_code == 201 and response.json()["state"] == "succeeded"
    assert written(campaign)["prompts"] == 3
    assert import_jobs_queued() == before


@pytest.mark.parametrize("name, limit, field", [("prompts.jsonl", 1000, "file"), ("prompts.txt", 10**8, "file")])
def test_a_large_upload_over_the_limit_or_in_an_unknown_format_is_refused_before_it_is_queued(
        post, campaign, settings, name, limit, field):
    settings.LABELHUB_IMPORT_MAX_BYTES = limit
    before = import_jobs_queued()
    response = post(prompts_jsonl(100), name=name)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert written(campaign)["imports"] == 0
    assert import_jobs_queued() == before
    assert not (settings.LABELHUB_DATA_DIR / "imports").exists() or not any((settings.LABELHUB_DATA_DIR / "imports").iterdir())


@pytest.mark.parametrize("role, status", role_cases({**dict(LEADS_ONLY), "lead": 202}))
def test_only_leads_queue_a_large_import(post, campaign, role, status):
    before = import_jobs_queued()
    response = post(prompts_jsonl(300), role=role)
    assert response.status_code == status
    assert import_jobs_queued() - before == (1 if status == 202 else 0)
    assert written(campaign)["imports"] == (1 if status == 202 else 0)


@pytest.mark.parametrize("role, status", LEADS_ONLY)
def test_only_leads_see_imports(client_as, campaign, lead, upload, role, status):
    batch = services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("p.jsonl", prompts_jsonl(300)))
    listing, one = client_as(role).get(URL), client_as(role).get(f"{URL}{batch.pk}/")
    assert (listing.status_code, one.status_code) == (status, status)
    if status == 200:
        assert [b["id"] for b in listing.json()["results"]] == [batch.pk]
        assert (one.json()["state"], one.json()["uploaded_by"]) == ("queued", "lead")


def test_an_import_of_another_campaign_is_not_found(client_as, campaign, other_campaign, outsider, upload):
    theirs = services.prompts_import_queue(campaign=other_campaign, user=outsider,
                                           upload=upload("p.jsonl", prompts_jsonl(300)))
    assert client_as("lead").get(f"{URL}{theirs.pk}/").status_code == 404


@pytest.mark.parametrize("role, status", role_cases({**dict(LEADS_ONLY), "lead": 202}))
def test_only_leads_queue_a_large_pairs_import(post, campaign, role, status):
    before = import_jobs_queued()
    response = post(pairs_jsonl(300), name="pairs.jsonl", url=PAIRS_URL, role=role)
    assert response.status_code == status
    assert import_jobs_queued() - before == (1 if status == 202 else 0)
