"""The Run page draws the guards when the run finishes while the page is open: the
policy-vs-base table, each check, and the flagged warning with its reasons.

The job's finish (``services.run_finish``, in the server's event loop as a worker would call
it) broadcasts the final state as in production (service → channel layer → consumer →
browser); the page then asks the server for the run's results again and draws them.
"""

import json
from pathlib import Path

import pytest

from labelhub.training.models import Run
from tests.guard_samples import flagged_guards

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_run_that_ends_with_guards_draws_them_and_the_warning(log_in, settings, tmp_path, asgi_server, on_server, campaign,
                                                                 engineer):
    from asgiref.sync import sync_to_async
    from playwright.sync_api import expect

    from labelhub.campaigns.models import Policy
    from labelhub.training import services

    settings.LABELHUB_DATA_DIR = tmp_path
    policy = Policy.objects.create(campaign=campaign, name="base", base_model="tiny")
    guards = flagged_guards()
    run = Run.objects.create(campaign=campaign, kind=Run.Kind.PPO, policy=policy, state=Run.State.RUNNING,
                             created_by=engineer, run_dir=str(tmp_path / "run"))
    adapter = Path(run.run_dir, "adapter")
    adapter.mkdir(parents=True)
    Path(run.run_dir, "model.json").write_text(json.dumps({"base": "tiny", "adapter": "adapter"}))

    page = log_in("engineer", "pw-for-tests-123")
    page.goto(f"/campaigns/helpful/runs/{run.pk}/")
    expect(page.locator("[data-field=live]")).to_have_text("live")
    section = page.locator("section[data-field=guards]")
    expect(section).to_be_hidden()
    expect(page.locator("[data-field=guard-warning]")).to_be_hidden()

    finish = sync_to_async(services.run_finish)(
        run_id=run.pk, exit_code=0, summary={"status": "succeeded", "guards": guards}, error_tail="")
    assert on_server(finish).result(timeout=10).state == "succeeded"

    expect(section).to_be_visible()
    expect(section.locator("[data-field=guard-prompts]")).to_have_text("8")
    rows = section.locator("table.guard-figures tbody tr")
    expect(rows.nth(0)).to_have_text("Words per answer1.016.0")
    expect(rows.nth(3)).to_have_text("KL to the base (nats per answer)14.00target 4.0")
    length = section.locator("li.guard-length")
    expect(length.locator(".badge")).to_have_text("failed")
    expect(length).to_contain_text("length: answers collapsed to 1.0 words on average (fewer than 5)")
    warning = page.locator("[data-field=guard-warning]")
    expect(warning).to_be_visible()
    expect(warning.locator("li")).to_have_text(guards["reasons"])
