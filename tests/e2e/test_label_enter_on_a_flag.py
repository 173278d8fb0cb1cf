"""Enter on a focused flag button submits the answer and never toggles the flag (Space does)."""

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import completion_ids_on_screen, labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_submits_without_toggling_the_focused_flag(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, flags=["unsafe", "wrong"],
                                 prompts=[("Capital of France?", ["Paris.", "Lyon.", "Nice."])])
    page = open_labeling(log_in, labeler.username, campaign)
    one, two, three = completion_ids_on_screen(page)
    for key in ("1", "2", "3"):
        page.keyboard.press(key)

    unsafe = page.locator(f'.completion-card[data-id="{two}"]').get_by_role("button", name="unsafe")
    wrong = page.locator(f'.completion-card[data-id="{three}"]').get_by_role("button", name="wrong")
    wrong.focus()
    page.keyboard.press(" ")  # Space toggles the focused flag
    expect(wrong).to_have_attribute("aria-pressed", "true")
    unsafe.focus()
    page.keyboard.press("Enter")  # Enter submits, as promised "everywhere"; it must not set "unsafe"

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    judgment = Judgment.objects.get()
    assert judgment.ranking == [[one], [two], [three]]
    assert judgment.flags == {str(three): ["wrong"]}
