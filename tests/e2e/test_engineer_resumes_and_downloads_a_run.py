"""In Chromium: an ML engineer on a cancelled PPO run's page downloads a file of its run folder
(the bytes on disk) and resumes the run from its last checkpoint, landing on the new run's page;
a reviewer reads the page without the Resume button, and a labeler is refused the page and the
download (issue 13 points 5, 7, 9)."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Policy, Prompt, content_hash
from labelhub.feedback.models import Snapshot
from labelhub.training import services
from labelhub.training.models import RewardModel, Run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
METRICS = b'{"step": 4, "loss": 0.5}\n{"step": 8, "loss": 0.25}\n'


@pytest.fixture
def stopped(campaign, lead, engineer, tmp_path):
    """A cancelled PPO run that saved a checkpoint at step 8 and wrote metrics.jsonl."""
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "data.jsonl").write_text(json.dumps({"prompt": "q", "chosen": "a", "rejected": "b"}) + "\n")
    snapshot = Snapshot.objects.create(campaign=campaign, version=1, state=Snapshot.State.READY, path=str(snap),
                                       row_count=1, judgment_count=1, created_by=lead)
    policy = Policy.objects.create(campaign=campaign, name="base", base_model="tiny")
    reward_model = RewardModel.objects.create(campaign=campaign, name="rm-1", base_model="tiny-rm",
                                              adapter_path="/nowhere/adapter", snapshot=snapshot)
    for i in range(2):
        Prompt.objects.create(campaign=campaign, text=f"prompt {i}", split="train", content_hash=content_hash(f"p{i}"))
    run = services.run_create(campaign=campaign, user=engineer, kind="ppo", policy=policy, reward_model=reward_model,
                              config={"steps": 12, "save_every": 4})
    Run.objects.filter(pk=run.pk).update(state=Run.State.CANCELLED, error="cancelled on request")
    folder = Path(run.run_dir, "checkpoints", "step-000008")
    folder.mkdir(parents=True)
    (folder / "state.pt").write_bytes(b"weights at step 8")
    Path(run.run_dir, "metrics.jsonl").write_bytes(METRICS)
    run.refresh_from_db()
    return run


def test_an_engineer_downloads_a_run_file_and_resumes_the_run(log_in, campaign, stopped):
    page = log_in("engineer", PASSWORD)
    page.goto(f"/campaigns/helpful/runs/{stopped.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="metrics.jsonl", exact=True).click()
    assert download.value.suggested_filename.endswith("metrics.jsonl")
    assert Path(download.value.path()).read_bytes() == METRICS

    page.get_by_role("button", name="Resume from the last checkpoint").click()
    page.wait_for_load_state()
    expect(page.locator(".message.success")).to_be_visible()
    resumed = Run.objects.exclude(pk=stopped.pk).get()
    assert page.url.endswith(f"/campaigns/helpful/runs/{resumed.pk}/")
    expect(page.locator(".message.success")).to_contain_text(f"Run {resumed.pk} continues run {stopped.pk}")
    expect(page.get_by_role("link", name=f"run {stopped.pk}")).to_be_visible()
    assert (resumed.kind, resumed.resumed_from_id, resumed.config["resume"]) == ("ppo", stopped.pk, True)


def test_a_reviewer_reads_the_run_without_resuming_and_a_labeler_is_refused(log_in, browser_page, campaign, stopped):
    page = log_in("reviewer", PASSWORD)
    page.goto(f"/campaigns/helpful/runs/{stopped.pk}/")
    expect(page.get_by_role("link", name="metrics.jsonl", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Resume from the last checkpoint")).to_have_count(0)
    page.context.clear_cookies()

    page = log_in("labeler", PASSWORD)
    assert page.goto(f"/campaigns/helpful/runs/{stopped.pk}/").status == 403
    download = page.request.get(f"/api/campaigns/helpful/runs/{stopped.pk}/download/?path=metrics.jsonl")
    assert download.status == 403
    assert Run.objects.count() == 1
