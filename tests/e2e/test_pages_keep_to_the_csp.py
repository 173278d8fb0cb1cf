"""In Chromium, with the Content-Security-Policy header on: the API docs page (Swagger UI, its
start-up script a file of its own) draws the API, and neither it nor the campaign pages and
the labeling page report a single CSP violation."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def test_pages_draw_without_csp_violations(log_in, browser_page, campaign, lead):
    from playwright.sync_api import expect

    violations = []
    browser_page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page = log_in("lead", PASSWORD)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LabelHub API", timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()
    for path in ["/campaigns/", "/campaigns/helpful/", "/campaigns/helpful/leaderboard/", "/label/work/",
                 "/campaigns/helpful/members/", "/invitations/"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert violations == []
