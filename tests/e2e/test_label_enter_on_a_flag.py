"""Enter submits from anywhere and never toggles a control (Space does); ratings and flags have
keys of their own, listed in the ? overlay."""

import re

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import completion_ids_on_screen, labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXES = [{"name": "helpful", "min": 1, "max": 5}, {"name": "honest", "min": 1, "max": 5}]


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


def test_it_submits_on_tab_then_enter_and_stores_no_flag(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, flags=["unsafe", "wrong"],
                                 prompts=[("Capital of France?", ["Paris.", "Lyon.", "Nice."])])
    page = open_labeling(log_in, labeler.username, campaign)
    one, two, three = completion_ids_on_screen(page)
    for key in ("1", "2", "3", "2"):  # rank all three, then select response 2 (focuses its card)
        page.keyboard.press(key)
    page.keyboard.press("Tab")  # the keyboard's way to a response's controls
    unsafe = page.locator(f'.completion-card[data-id="{two}"]').get_by_role("button", name="unsafe")
    expect(unsafe).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    judgment = Judgment.objects.get()
    assert judgment.ranking == [[one], [two], [three]]
    assert judgment.flags == {}


def test_it_rates_and_flags_with_the_keys_the_overlay_lists(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, axes=AXES, flags=["unsafe", "wrong"],
                                 prompts=[("Capital of France?", ["Paris.", "Lyon.", "Nice."])])
    page = open_labeling(log_in, labeler.username, campaign)
    one, two, three = completion_ids_on_screen(page)
    page.keyboard.press("?")
    overlay = page.locator("#shortcuts-dialog")
    expect(overlay).to_contain_text("Rate the selected response")
    expect(overlay.locator("#flag-keys")).to_have_text("1 unsafe · 2 wrong")
    page.keyboard.press("Escape")
    expect(overlay).to_be_hidden()

    for key in ("1", "2", "3", "2"):  # rank, then select response 2
        page.keyboard.press(key)
    page.keyboard.press("v")  # to response 2's first rating
    card_two = page.locator(f'.completion-card[data-id="{two}"]')
    expect(card_two.locator('fieldset[data-axis="helpful"] input').first).to_be_focused()
    page.keyboard.press("4")  # helpful 4, then on to "honest"
    expect(card_two.locator('fieldset[data-axis="honest"] input').first).to_be_focused()
    page.keyboard.press("5")  # honest 5, then on to response 3's first rating (selects it)
    card_three = page.locator(f'.completion-card[data-id="{three}"]')
    expect(card_three).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("f")
    page.keyboard.press("1")  # flag 1 (unsafe) of the selected response, 3
    expect(card_three.get_by_role("button", name="unsafe")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#ranking .chip")).to_have_count(3)  # digits after v/f rated and flagged; the ranking stands
    page.keyboard.press("Enter")  # focus is on a rating option: Enter submits and changes no rating

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    judgment = Judgment.objects.get()
    assert judgment.ranking == [[one], [two], [three]]
    assert judgment.ratings == {str(two): {"helpful": 4, "honest": 5}}
    assert judgment.flags == {str(three): ["unsafe"]}
