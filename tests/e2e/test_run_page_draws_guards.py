"""The Run page draws the guards when a state event brings them (a run that finishes while the
page is open): the policy-vs-base table, each check, and the flagged warning with its reasons.

The server broadcasts the event as in production (HTTP → service → channel layer → consumer →
browser): the cancel request's state event stands in for the job's finish event, on a running
run whose summary already holds the guards.
"""

import http.client
import os

import pytest

from labelhub.training.models import Run
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path
from tests.guard_samples import flagged_guards

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_state_event_with_guards_draws_them_and_the_warning(settings, tmp_path, asgi_server, campaign, engineer):
    from playwright.sync_api import expect, sync_playwright

    from labelhub.accounts.services import token_get_or_create
    from labelhub.campaigns.models import Policy

    settings.LABELHUB_DATA_DIR = tmp_path
    policy = Policy.objects.create(campaign=campaign, name="base", base_model="tiny")
    guards = flagged_guards()
    run = Run.objects.create(campaign=campaign, kind=Run.Kind.PPO, policy=policy, state=Run.State.RUNNING,
                             created_by=engineer, run_dir=str(tmp_path / "run"))
    token = token_get_or_create(user=engineer).key

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(base_url=f"http://127.0.0.1:{asgi_server}")
                page.set_default_timeout(10_000)
                page.goto("/login/")
                page.get_by_label("Username").fill("engineer")
                page.get_by_label("Password").fill("pw-for-tests-123")
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()
                page.goto(f"/campaigns/helpful/runs/{run.pk}/")
                expect(page.locator("[data-field=live]")).to_have_text("live")
                section = page.locator("section[data-field=guards]")
                expect(section).to_be_hidden()
                expect(page.locator("[data-field=guard-warning]")).to_be_hidden()

                Run.objects.filter(pk=run.pk).update(summary={"status": "succeeded", "guards": guards})
                conn = http.client.HTTPConnection("127.0.0.1", asgi_server, timeout=10)
                conn.request("POST", f"/api/campaigns/helpful/runs/{run.pk}/cancel/", body="{}",
                             headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
                assert conn.getresponse().status == 200
                conn.close()

                expect(section).to_be_visible()
                expect(section.locator("[data-field=guard-prompts]")).to_have_text("8")
                rows = section.locator("table.guard-figures tbody tr")
                expect(rows.nth(0)).to_have_text("Words per answer1.016.0")
                expect(rows.nth(3)).to_have_text("KL to the base (nats per answer)14.00target 4")
                length = section.locator("li.guard-length")
                expect(length.locator(".badge")).to_have_text("failed")
                expect(length).to_contain_text("length: answers collapsed to 1.0 words on average (fewer than 5)")
                warning = page.locator("[data-field=guard-warning]")
                expect(warning).to_be_visible()
                expect(warning.locator("li")).to_have_text(guards["reasons"])
            finally:
                browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
