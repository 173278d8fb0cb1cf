"""The reviewer's path through the real pages, in Chromium: sign in → the campaign list → the
campaign (progress, members, prompts and completions) → Quality, Skipped tasks, Leaderboard,
Snapshots and Runs — each readable, and none of them offers a lead's or an engineer's control:
no import, members, Make tasks, snapshot, promote or start-a-run (issue 18 point 7)."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def test_a_reviewer_reads_every_campaign_page_and_finds_no_lead_controls(log_in, campaign):
    policy = Policy.objects.create(campaign=campaign, name="base-v1", base_model="tiny")
    prompt = Prompt.objects.create(campaign=campaign, text="Explain recursion.", content_hash=content_hash("r"))
    Completion.objects.create(prompt=prompt, policy=policy, text="It calls itself.", content_hash=content_hash("c"))

    page = log_in("reviewer", PASSWORD)
    assert page.url.endswith("/campaigns/")
    page.get_by_role("link", name=campaign.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(campaign.name)
    expect(page.locator(".page-head + .meta")).to_contain_text("your roles: reviewer")
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("article.prompt")).to_have_count(1)
    page.locator("article.prompt summary").click()
    expect(page.locator("article.prompt .completion")).to_contain_text("It calls itself.")
    for control in ("Import prompts", "Manage members"):
        expect(page.get_by_role("link", name=control)).to_have_count(0)
    expect(page.get_by_role("button", name="Make tasks")).to_have_count(0)

    for link, heading in (("Quality", "Quality"), ("Skipped tasks", "Skipped tasks"), ("Leaderboard", "Leaderboard"),
                          ("Snapshots", "Snapshots"), ("Runs", "Training runs")):
        page.goto(f"/campaigns/{campaign.slug}/")
        page.locator(".page-head").get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.locator("main form[method=post]")).to_have_count(0)  # nothing to write, anywhere
        if link == "Runs":
            expect(page.get_by_role("heading", name="Start a run")).to_have_count(0)
            expect(page.locator("main")).to_contain_text("No runs yet.")
