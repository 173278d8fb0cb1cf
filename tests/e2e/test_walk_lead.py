"""The project lead's main path through the real pages, in Chromium: sign in → the campaign list
→ the campaign → Import prompts (a JSONL file) → Make tasks, which says what it made and why it
made no task for a prompt with too few completions, with the fix → the progress section counts
the task, live (issue 18 point 7: a walk-through per role)."""

import json
import re

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def test_a_lead_imports_prompts_makes_tasks_and_sees_why_and_the_progress(log_in, campaign, tmp_path):
    assert campaign.completions_per_task == 3
    lines = [
        {"prompt": "Explain recursion.", "split": "train", "completions": [
            {"text": "It calls itself.", "policy": "base-v1"}, {"text": "A loop.", "policy": "base-v2"},
            {"text": "Ask later.", "policy": "base-v3"}]},
        {"prompt": "Name a prime.", "split": "train", "completions": [{"text": "7", "policy": "base-v1"}]},
        {"prompt": "Say hi.", "split": "held_out"},
    ]
    upload = tmp_path / "prompts.jsonl"
    upload.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")

    page = log_in("lead", PASSWORD)
    assert page.url.endswith("/campaigns/")
    page.get_by_role("link", name=campaign.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(campaign.name)
    expect(page.locator(".empty", has_text="No prompts yet")).to_be_visible()

    page.get_by_role("link", name="Import prompts").click()
    page.get_by_label(re.compile(r"^File \(\.jsonl, \.csv")).set_input_files(str(upload))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 3 prompts (0 duplicates skipped) and 4 completions")
    expect(page.locator("article.prompt")).to_have_count(3)
    expect(page.locator("#progress [data-field=tasks_total]")).to_have_text("0")

    page.get_by_role("button", name="Make tasks").click()
    message = page.get_by_role("status")
    expect(message).to_contain_text("1 new task.")
    expect(message).to_contain_text("1 prompt has fewer than the 3 completions a task shows: import or generate more "
                                    "completions for them, or choose more policies.")
    expect(message).to_contain_text("1 prompt has no completions yet")
    assert Task.objects.filter(campaign=campaign).count() == 1

    progress = page.locator("#progress")
    expect(progress.locator("[data-field=tasks_total]")).to_have_text("1")
    expect(progress.locator("[data-field=tasks_done]")).to_have_text("0")
    expect(progress.locator("[data-field=judgments_needed]")).to_have_text("2")  # overlap 2
    expect(progress.locator("[data-field=status]")).not_to_have_text("connecting…")
