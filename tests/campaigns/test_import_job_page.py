"""The import page with a large file: the upload is queued and the lead lands on the import's
own page, which shows its state and progress while the job runs (frontend/js/import.js follows
it; tests/e2e/test_import_progress.py drives that in Chromium), then what was written or each
error with its line and field."""

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.models import ImportBatch
from tests.campaigns.conftest import prompts_jsonl, role_cases, written

pytestmark = pytest.mark.django_db

PAGE = "/campaigns/helpful/import/"


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.LABELHUB_IMPORT_JOB_BYTES = 2000


def test_a_large_file_is_queued_and_its_page_follows_it(page_as, campaign, upload):
    response = page_as("lead").post(PAGE, {"file": upload("big.jsonl", prompts_jsonl(300))})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/helpful/imports/{batch.pk}/"
    html = page_as("lead").get(response["Location"]).content.decode()
    assert f'data-import-api="/api/campaigns/helpful/imports/{batch.pk}/"' in html
    assert "app/import.js" in html and "<progress" in html and ">Queued<" in html
    assert written(campaign)["prompts"] == 0

    services.prompts_import_run(batch_id=batch.pk)
    html = page_as("lead").get(response["Location"]).content.decode()
    assert "Imported 300 prompts (0 duplicates skipped) and 300 completions (0 skipped)." in html
    assert "app/import.js" not in html and "<progress" not in html


def test_the_page_of_a_rejected_import_lists_each_error(page_as, campaign, upload):
    content = prompts_jsonl(300, bad={7: '{"prompt": 7}', 250: "not json"})
    page_as("lead").post(PAGE, {"file": upload("big.jsonl", content)})
    batch = ImportBatch.objects.get()
    services.prompts_import_run(batch_id=batch.pk)
    html = page_as("lead").get(f"/campaigns/helpful/imports/{batch.pk}/").content.decode()
    assert "Import rejected — nothing was written" in html
    assert "<td>7</td><td><code>prompt</code></td><td>must be a string, not a number</td>" in html
    assert "<td>250</td><td><code>json</code></td>" in html
    assert written(campaign)["prompts"] == 0


def test_the_campaign_page_links_the_leads_to_each_import_with_its_state(page_as, campaign, prompt, lead, upload):
    services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("big.jsonl", prompts_jsonl(300)))
    batch = ImportBatch.objects.get()
    html = page_as("lead").get("/campaigns/helpful/").content.decode()
    assert f'<a href="/campaigns/helpful/imports/{batch.pk}/">big.jsonl</a>' in html
    assert '<span class="badge">Queued</span>' in html
    assert "/imports/" not in page_as("reviewer").get("/campaigns/helpful/").content.decode()


@pytest.mark.parametrize("role, status", role_cases(
    {"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": 302}))
def test_only_leads_see_an_imports_page(page_as, campaign, lead, upload, role, status):
    batch = services.prompts_import_queue(campaign=campaign, user=lead, upload=upload("big.jsonl", prompts_jsonl(300)))
    assert page_as(role).get(f"/campaigns/helpful/imports/{batch.pk}/").status_code == status


def test_an_import_of_another_campaign_has_no_page_here(page_as, campaign, other_campaign, outsider, upload):
    theirs = services.prompts_import_queue(campaign=other_campaign, user=outsider,
                                           upload=upload("big.jsonl", prompts_jsonl(300)))
    assert page_as("lead").get(f"/campaigns/helpful/imports/{theirs.pk}/").status_code == 404
