"""A lead imports a large file in Chromium: the upload is queued, the import's page follows the
job's progress without a reload (frontend/js/import.js polls the API), and once the job has
written everything the page shows what was imported; a rejected file shows each line's error."""

import pytest

from labelhub.campaigns import import_jobs, services
from labelhub.campaigns.models import ImportBatch, Prompt
from tests.campaigns.conftest import prompts_jsonl

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.LABELHUB_IMPORT_JOB_BYTES = 2000


def upload_on_the_page(page, content: str):
    page.goto("/campaigns/helpful/import/")
    page.locator("input[type=file]").set_input_files(
        {"name": "big.jsonl", "mimeType": "application/octet-stream", "buffer": content.encode()})
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/campaigns/helpful/imports/*/")
    return ImportBatch.objects.get()


def test_the_lead_watches_a_large_import_check_its_lines_and_finish(log_in, campaign):
    from playwright.sync_api import expect

    page = log_in("lead", "pw-for-tests-123")
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    batch = upload_on_the_page(page, prompts_jsonl(300))
    expect(page.locator("[data-field=state]")).to_have_text("Queued")

    # the job starts and reports a part of the lines checked (as import_run does, through the same calls)
    assert import_jobs._claim(batch.pk)
    import_jobs._progress_writer(batch.pk)(120, 300)
    expect(page.locator("[data-field=state]")).to_have_text("Checking lines")
    expect(page.locator("[data-field=lines_checked]")).to_have_text("120")
    expect(page.locator("[data-field=lines_total]")).to_have_text("300")
    assert page.locator("progress").evaluate("bar => [bar.value, bar.max]") == [120, 300]
    assert Prompt.objects.count() == 0

    services.prompts_import_run(batch_id=batch.pk)  # the rest of the job: every line, then the writes
    expect(page.get_by_role("status")).to_have_text(
        "Imported 300 prompts (0 duplicates skipped) and 300 completions (0 skipped).")
    assert page.locator("progress").count() == 0
    assert (page.dialogs, console) == ([], [])  # no CSP violation, no script error


def test_the_lead_sees_the_errors_of_a_rejected_large_import(log_in, campaign):
    from playwright.sync_api import expect

    page = log_in("lead", "pw-for-tests-123")
    batch = upload_on_the_page(page, prompts_jsonl(300, bad={42: '{"prompt": 7}'}))
    services.prompts_import_run(batch_id=batch.pk)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Import rejected — nothing was written")
    expect(alert.locator("tbody tr td")).to_have_text(["42", "prompt", "must be a string, not a number"])
    assert Prompt.objects.count() == 0
