"""In Chromium: a lead previews a Hugging Face parquet file on the import page (its first rows
shown, nothing written) and then imports it; on the snapshots page the lead downloads a ready
snapshot's data.jsonl (the bytes on disk). A labeler is refused the import page and the
snapshot download (issue 13 points 5, 6, 9)."""

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Prompt
from labelhub.feedback.models import Snapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
ROWS = [
    {"prompt": "Explain recursion", "split": "train", "completions": [{"text": "It calls itself.", "policy": "base"}]},
    {"prompt": "Name a prime", "split": "held_out", "completions": [{"text": "Seven.", "policy": "base"}]},
]


def parquet_file(tmp_path) -> Path:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ROWS), out)
    path = tmp_path / "prompts.parquet"
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def ready_snapshot(campaign, lead, tmp_path):
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "data.jsonl").write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"}) + "\n")
    return Snapshot.objects.create(campaign=campaign, version=1, state=Snapshot.State.READY, path=str(folder),
                                   row_count=1, judgment_count=1, created_by=lead)


def test_a_lead_previews_a_parquet_file_then_imports_it(log_in, campaign, tmp_path):
    page = log_in("lead", PASSWORD)
    page.goto("/campaigns/helpful/")
    page.get_by_role("link", name="Import prompts").click()
    page.locator('input[name="file"]').set_input_files(str(parquet_file(tmp_path)))
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("[data-preview]")
    expect(preview.get_by_role("heading")).to_have_text("Preview — nothing was written")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.locator("tbody tr").nth(0)).to_contain_text("Explain recursion")
    expect(preview.locator("tbody tr").nth(1)).to_contain_text("held_out")
    assert not Prompt.objects.exists()

    page.locator('input[name="file"]').set_input_files(str(parquet_file(tmp_path)))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("[data-preview]")).to_have_count(0)
    assert sorted(Prompt.objects.values_list("text", "split")) == [("Explain recursion", "train"),
                                                                   ("Name a prime", "held_out")]


def test_a_lead_downloads_a_snapshot_and_a_labeler_may_not(log_in, campaign, ready_snapshot):
    page = log_in("lead", PASSWORD)
    page.goto("/campaigns/helpful/snapshots/")
    with page.expect_download() as download:
        page.locator("#snapshot-v1").get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "helpful-v1-preference.jsonl"
    assert Path(download.value.path()).read_bytes() == Path(ready_snapshot.jsonl_path).read_bytes()
    page.context.clear_cookies()

    page = log_in("labeler", PASSWORD)
    assert page.goto("/campaigns/helpful/import/").status == 403
    assert page.request.get(f"/api/campaigns/helpful/snapshots/{ready_snapshot.pk}/download/").status == 403
    assert page.request.get(f"/api/campaigns/helpful/snapshots/{ready_snapshot.pk}/archive/").status == 403
