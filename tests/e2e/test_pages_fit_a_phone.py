"""The lead's and reviewer's pages of issues 12, 13 and 16 draw at a desktop's 1440x900 and a
phone's 390x844 without scrolling sideways: wide tables scroll inside their own box
(``.table-scroll``), the page does not."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
PAGES = {
    "lead": ["/campaigns/helpful/webhooks/", "/campaigns/helpful/dashboard/", "/campaigns/helpful/documents/",
             "/campaigns/helpful/snapshots/", "/plan/", "/campaigns/helpful/quality/", "/campaigns/helpful/settings/"],
    "reviewer": ["/campaigns/helpful/review/", "/campaigns/helpful/disagreements/"],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_each_page_fits_a_desktop_and_a_phone(log_in, campaign, role):
    page = log_in(role, PASSWORD)
    drawn = []
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for path in PAGES[role]:
            status = page.goto(path).status
            page.wait_for_load_state("networkidle")
            sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            drawn.append((width, path, status, sideways))
    assert [d for d in drawn if d[2] != 200 or d[3] > 0] == [], drawn
