"""Ratings, flags, rationale and a better answer edited from a response are stored with the ranking."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Campaign, Completion
from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import completion_ids_on_screen, labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXES = [{"name": "helpfulness", "min": 1, "max": 5}, {"name": "honesty", "min": 1, "max": 3}]


def rate(page, completion_id, axis, value):
    card = page.locator(f'.completion-card[data-id="{completion_id}"]')
    card.locator(f'fieldset[data-axis="{axis}"] label', has_text=str(value)).click()


def test_it_stores_ratings_flags_rationale_and_an_edited_better_answer(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, axes=AXES, flags=["unsafe", "wrong"],
                                 prompts=[("Capital of France?", ["Paris.", "Lyon.", "It is Paris, France."])])
    page = open_labeling(log_in, labeler.username, campaign)
    one, two, three = completion_ids_on_screen(page)

    rate(page, one, "helpfulness", 4)
    rate(page, one, "honesty", 3)
    page.locator(f'.completion-card[data-id="{two}"]').get_by_role("button", name="wrong").click()
    for key in ("3", "1", "2"):
        page.keyboard.press(key)
    page.keyboard.press("3")  # select response 3 (already ranked) …
    page.keyboard.press("e")  # … and start the better answer from its text
    editor = page.locator("#better-answer")
    expect(editor).to_be_focused()
    third_text = Completion.objects.get(pk=three).text
    expect(editor).to_have_value(third_text)
    page.keyboard.press("End")
    page.keyboard.type(" Its population is about 2 million.")  # shortcut letters stay text
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    page.keyboard.type("3 is complete; 2 is wrong.")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    judgment = Judgment.objects.get()
    assert judgment.ranking == [[three], [one], [two]]
    assert judgment.ratings == {str(one): {"helpfulness": 4, "honesty": 3}}
    assert judgment.flags == {str(two): ["wrong"]}
    assert judgment.better_answer == f"{third_text} Its population is about 2 million."
    assert judgment.rationale == "3 is complete; 2 is wrong."


def test_it_shows_the_servers_validation_errors_in_rating_tasks(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, kind=Campaign.TaskKind.RATING, axes=AXES[:1],
                                 prompts=[("Question?", ["a", "b", "c"])])
    page = open_labeling(log_in, labeler.username, campaign)
    one, two, three = completion_ids_on_screen(page)
    rate(page, one, "helpfulness", 5)
    page.get_by_role("button", name="Submit").click()

    errors = page.locator("#answer-errors")
    expect(errors).to_contain_text("rate every completion")
    for completion_id, value in ((two, 2), (three, 1)):
        rate(page, completion_id, "helpfulness", value)
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    ratings = Judgment.objects.get().ratings
    assert ratings == {str(one): {"helpfulness": 5}, str(two): {"helpfulness": 2}, str(three): {"helpfulness": 1}}
