"""A/B tasks: a strength key picks the preferred response and how much better it is."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Campaign
from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import (
    completion_ids_on_screen,
    labeling_campaign,
    open_labeling,
    task_on_screen,
    wait_for_task_after,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_stores_the_preference_and_strength_typed(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, kind=Campaign.TaskKind.PAIRWISE, prompts=[
        (f"Question {i}?", [f"Answer {i}.a", f"Answer {i}.b"]) for i in range(3)
    ])
    page = open_labeling(log_in, labeler.username, campaign)
    expect(page.get_by_role("heading", name="Which response is better?")).to_be_visible()
    # key → (index of the preferred response on screen or None, strength)
    plan = [("2", 0, "better"), ("7", 1, "much_better"), ("0", None, "both_bad")]
    expected = {}
    for key, side, strength in plan:
        task_id, shown = task_on_screen(page), completion_ids_on_screen(page)
        page.keyboard.press(key)
        expect(page.locator(f'.strength[data-key="{key}"]')).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("Enter")
        wait_for_task_after(page, task_id)
        expected[task_id] = (None if side is None else shown[side], strength)

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    stored = {j.task_id: (j.preferred_id, j.strength) for j in Judgment.objects.filter(labeler=labeler)}
    assert stored == expected
    assert all(j.ranking is None for j in Judgment.objects.all())


def test_it_asks_for_a_preference_before_submitting(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, kind=Campaign.TaskKind.PAIRWISE,
                                 prompts=[("Question?", ["Left", "Right"])])
    page = open_labeling(log_in, labeler.username, campaign)

    page.keyboard.press("Enter")
    expect(page.locator("#answer-errors")).to_contain_text("choose which response is better")
    page.get_by_role("button", name="B is slightly better").click()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    judgment = Judgment.objects.get()
    assert (judgment.preferred_id, judgment.strength) == (judgment.display_order[1], "slightly_better")
