"""In Chromium: a labeler who read version 1 of the guidelines, after the lead saves version 2,
gets a "what changed" link on the labeling page that shows the line diff and the lead's note."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns import services as campaign_services
from tests.e2e.labeling_support import labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_labeler_sees_what_changed_since_the_version_they_read(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[("Explain recursion", ["a", "b"])],
                                 guidelines="Rank the **most helpful** answer first.")
    page = open_labeling(log_in, "labeler", campaign)
    expect(page.locator("#guidelines-version")).to_have_text("version 1")
    expect(page.locator("[data-guidelines-changes]")).to_have_count(0)

    campaign_services.campaign_update(campaign=campaign, user=lead, guidelines_note="Safety first",
                                      guidelines="Rank the **safest** answer first.")
    page.reload()
    expect(page.locator("#guidelines-version")).to_contain_text("version 2 — updated, please reread")
    link = page.locator("[data-guidelines-changes]")
    assert link.get_attribute("href") == "/campaigns/helpful/guidelines/?since=1#changes"
    page.goto(link.get_attribute("href"))
    expect(page.locator("#changes")).to_contain_text("Safety first")
    expect(page.locator("#changes .diff-removed")).to_have_text("- Rank the **most helpful** answer first.")
    expect(page.locator("#changes .diff-added")).to_have_text("+ Rank the **safest** answer first.")
