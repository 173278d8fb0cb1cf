"""Browser smoke test: the demo lead signs in and sees the demo campaign with its content."""

import pytest

from labelhub.ops.demo import DEMO_USERS, demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_demo_campaign_to_the_demo_lead(log_in):
    result = demo_load()
    lead = next(u for u in DEMO_USERS if u.username == "lead")

    page = log_in(lead.username, lead.password)
    page.get_by_role("link", name=result.campaign.name).click()

    assert page.get_by_role("heading", level=1).inner_text() == result.campaign.name
    assert page.locator("article.prompt").count() == 20  # first page of the 60 prompts
    page.locator("article.prompt details").first.locator("summary").click()
    assert page.locator("article.prompt").first.locator(".completion").count() == 4
    assert "labeler1" in page.locator("section.card", has_text="Members").inner_text()
    assert page.dialogs == []


def test_it_refuses_a_wrong_password(log_in):
    demo_load()
    page = log_in("lead", "not-the-password")
    assert page.get_by_role("alert").is_visible()
    assert page.url.endswith("/login/")
