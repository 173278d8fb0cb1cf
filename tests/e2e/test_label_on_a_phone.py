"""On a phone (Chromium at 390×844, touch): no sideways scroll on the labeler's home or the
labeling page, the header's Sign out and "Start labeling" on screen, Submit and Skip in a bar
on screen, touch-sized targets and no keyboard hints; no sideways scroll at 360 and 430 px."""

import pytest
from playwright.sync_api import expect

from tests.e2e.labeling_support import PASSWORD, labeling_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "A very long response with `code` and a table:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n" + "averyveryverylongwordwithoutspaces" * 8


def on_screen(page, locator):
    box = locator.bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_it_fits_a_phone(browser_page, asgi_server, lead, labeler):
    labeling_campaign(lead=lead, labeler=labeler, flags=["unsafe", "wrong"],
                      axes=[{"name": "helpful", "min": 1, "max": 5}],
                      prompts=[("Explain **this** code:\n\n```python\nprint(1)\n```", [LONG, "Short.", "Medium one."])])
    phone = browser_page.context.browser.new_context(
        base_url=f"http://127.0.0.1:{asgi_server}", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login/")
    page.get_by_label("Username").fill(labeler.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    start = page.get_by_role("link", name="Start labeling")
    expect(start).to_be_visible()
    assert page_width(page) == 390
    assert on_screen(page, start) and on_screen(page, page.get_by_role("button", name="Sign out"))

    start.click()
    expect(page.locator("#task[data-task-id]")).to_be_visible()
    expect(page.locator(".completion-body").first).to_have_attribute("data-typeset", "done")
    submit, skip = page.get_by_role("button", name="Submit"), page.get_by_role("button", name="Skip…")
    assert page_width(page) == 390
    assert on_screen(page, submit) and on_screen(page, skip)
    page.mouse.wheel(0, 1500)  # still there further down
    page.wait_for_timeout(200)
    assert page.evaluate("scrollY") > 0 and on_screen(page, submit)
    assert page.locator(".labeling kbd:visible").count() == 0  # no keyboard hints on a touch screen
    for target in (submit, page.locator(".flag").first, page.locator(".rating-option span").first):
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
    for width in (360, 430):
        page.set_viewport_size({"width": width, "height": 844})
        assert page_width(page) == width, width
