"""Large imports run as a job (issue 14, point 9): over LABELHUB_IMPORT_JOB_BYTES the upload is
saved and queued (202 with an import record); a real procrastinate worker checks every line and
writes everything in one transaction — or, when any line is wrong, nothing, with the same
line-numbered errors a small upload gets in its 400. (Records, progress, refusals and roles:
test_import_job_records.py.)"""

import gzip

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns import services
from labelhub.campaigns.models import Completion, Prompt
from labelhub.labeling.models import Judgment
from labelhub.ops.loop_simulation import run_jobs
from tests.campaigns.conftest import pairs_jsonl, prompts_jsonl, written

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/campaigns/helpful/imports/"
PAIRS_URL = "/api/campaigns/helpful/pair-imports/"
THRESHOLD = 2000


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.LABELHUB_IMPORT_JOB_BYTES = THRESHOLD


@pytest.fixture
def post(post_file):
    return post_file


def jobs_of(batch_id: int) -> list[ProcrastinateJob]:
    """The import jobs of one import. (The job table is not emptied between transactional
    tests: rows of earlier tests name imports that are gone.)"""
    return [job for job in ProcrastinateJob.objects.filter(queue_name="imports") if job.args == {"batch_id": batch_id}]


def test_a_large_upload_is_queued_and_written_by_a_worker(post, client_as, campaign, settings):
    response = post(prompts_jsonl(2500))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["kind"], body["state"], body["lines_checked"], body["errors"]) == ("prompts", "queued", 0, [])
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    assert written(campaign) == {"prompts": 0, "policies": 0, "completions": 0, "imports": 1}  # only the record
    [job] = jobs_of(body["id"])
    assert (job.task_name, job.status) == ("campaigns.import_prompts", "todo")
    saved = settings.LABELHUB_DATA_DIR / "imports" / str(body["id"]) / "upload"
    assert saved.read_text() == prompts_jsonl(2500)

    run_jobs(queues=("imports",))

    record = client_as("lead").get(response["Location"]).json()
    assert {k: record[k] for k in ("state", "lines_total", "lines_checked", "progress", "prompts_created",
                                   "completions_created", "policies_created", "errors")} == {
        "state": "succeeded", "lines_total": 2500, "lines_checked": 2500, "progress": 1.0, "prompts_created": 2500,
        "completions_created": 2500, "policies_created": 1, "errors": []}
    assert written(campaign) == {"prompts": 2500, "policies": 1, "completions": 2500, "imports": 1}
    assert Prompt.objects.filter(import_batch_id=body["id"]).count() == 2500
    # written with COPY: the model's defaults and NULLs as bulk_create would have written them
    assert Prompt.objects.filter(messages__isnull=True, metadata={}, split="train", created_at__isnull=False).count() == 2500
    assert Completion.objects.filter(generation_settings={}, seed__isnull=True, created_at__isnull=False).count() == 2500
    assert not saved.parent.exists()  # the upload is gone once the import has ended
    assert ProcrastinateJob.objects.get(pk=job.pk).status == "succeeded"


def test_one_bad_line_rejects_the_file_with_the_errors_a_small_upload_gets(post, client_as, campaign, settings):
    content = prompts_jsonl(1500, bad={3: '{"prompt": 7}', 1200: "not json", 1499: '{"prompt": "x", "split": "dev"}'})
    settings.LABELHUB_IMPORT_JOB_BYTES = 10**9
    small = post(content)  # the same file imported in the request, for comparison
    assert small.status_code == 400
    settings.LABELHUB_IMPORT_JOB_BYTES = THRESHOLD
    queued = post(content)
    assert queued.status_code == 202

    run_jobs(queues=("imports",))

    record = client_as("lead").get(queued["Location"]).json()
    assert record["state"] == "rejected"
    assert record["errors"] == small.json()["errors"]
    assert [(e["line"], e["field"]) for e in record["errors"]] == [(3, "prompt"), (1200, "json"), (1499, "split")]
    assert written(campaign) == {"prompts": 0, "policies": 0, "completions": 0, "imports": 1}  # the record only
    assert record["prompts_created"] == 0


def test_a_short_csv_row_rejects_a_large_csv(post, client_as, campaign):
    rows = [f"Question {i}?,train,Answer {i}." for i in range(400)]
    rows[250] = "Question short?,train"
    response = post("prompt,split,completion\n" + "\n".join(rows) + "\n", name="prompts.csv")
    assert response.status_code == 202
    run_jobs(queues=("imports",))
    record = client_as("lead").get(response["Location"]).json()
    assert (record["state"], record["errors"]) == ("rejected", [
        {"line": 252, "field": "csv", "message": "has 2 cells, but the header has 3 columns"}])
    assert written(campaign)["prompts"] == 0


def test_a_job_whose_campaign_was_deleted_meanwhile_does_nothing(campaign, lead, upload, settings):
    batch = services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("p.jsonl", prompts_jsonl(300)))
    services.campaign_delete(campaign=campaign)
    run_jobs(queues=("imports",))
    assert not Prompt.objects.exists()
    assert [job.status for job in jobs_of(batch.pk)] == ["succeeded"]
    assert not (settings.LABELHUB_DATA_DIR / "imports" / str(batch.pk)).exists()


def test_a_large_pairs_file_is_imported_by_the_job(post, client_as, campaign):
    response = post(pairs_jsonl(300), name="pairs.jsonl", url=PAIRS_URL)
    assert response.status_code == 202 and response.json()["kind"] == "pairs"
    assert not Judgment.objects.exists()
    run_jobs(queues=("imports",))
    record = client_as("lead").get(response["Location"]).json()
    assert (record["state"], record["judgments_created"], record["lines_checked"]) == ("succeeded", 300, 300)
    assert Judgment.objects.filter(source="imported").count() == 300


def test_a_gzip_file_is_sized_by_its_content(post, client_as, campaign):
    packed = gzip.compress(pairs_jsonl(300).encode())
    assert len(packed) < THRESHOLD < len(pairs_jsonl(300))
    response = post(packed, name="pairs.jsonl.gz", url=PAIRS_URL)
    assert response.status_code == 202
    run_jobs(queues=("imports",))
    assert client_as("lead").get(response["Location"]).json()["judgments_created"] == 300


def test_a_bad_pair_rejects_the_whole_file(post, client_as, campaign):
    response = post(pairs_jsonl(300, bad={150: '{"chosen": 5}'}), name="pairs.jsonl", url=PAIRS_URL)
    assert response.status_code == 202
    run_jobs(queues=("imports",))
    record = client_as("lead").get(response["Location"]).json()
    assert (record["state"], [(e["line"], e["field"]) for e in record["errors"]]) == ("rejected", [(150, "chosen")])
    assert not Judgment.objects.exists() and written(campaign)["prompts"] == 0

