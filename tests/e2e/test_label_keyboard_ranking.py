"""A labeler ranks three tasks with the keyboard alone; the judgments hold exactly those orders."""

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import (
    completion_ids_on_screen,
    labeling_campaign,
    open_labeling,
    task_on_screen,
    wait_for_task_after,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_stores_the_rankings_typed_on_the_keyboard(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[
        (f"Question {i}?", [f"Answer {i}.{j}" for j in range(3)]) for i in range(3)
    ])
    page = open_labeling(log_in, labeler.username, campaign)
    # the task on screen and the prefetched one are left too, counted once
    expect(page.locator("#progress")).to_have_text("0 judged this session · 3 left")
    # keys typed per task → the expected ranking, as positions (1-based) in the display order
    plan = [
        (["2", "1", "3"], [[2], [1], [3]]),
        (["3", "1", "2", "t"], [[3], [1, 2]]),  # t ties the last placed (2) with the rank above (1)
        (["1", "2", "3", "ArrowUp"], [[1], [3], [2]]),  # ↑ moves the selected (3) above 2
    ]
    expected = {}
    for keys, positions in plan:
        task_id, shown = task_on_screen(page), completion_ids_on_screen(page)
        for key in keys:
            page.keyboard.press(key)
        expect(page.locator("#ranking .chip")).to_have_count(3)
        page.keyboard.press("Enter")
        wait_for_task_after(page, task_id)
        expected[task_id] = [[shown[p - 1] for p in group] for group in positions]

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    expect(page.locator("#progress")).to_contain_text("3 judged this session")
    stored = {j.task_id: j.ranking for j in Judgment.objects.filter(labeler=labeler)}
    assert stored == expected
    assert all(j.time_spent_ms is not None and j.time_spent_ms > 0 for j in Judgment.objects.all())
    assert page.dialogs == []


def test_it_explains_what_is_missing_and_keeps_shortcuts_out_of_text_boxes(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[("Question?", ["A one", "A two", "A three"])])
    page = open_labeling(log_in, labeler.username, campaign)

    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator("#answer-errors")).to_contain_text("not ranked yet: 1, 3")
    page.keyboard.press("r")  # focuses the rationale; typed digits stay text
    page.keyboard.type("13 is better")
    expect(page.locator("#rationale")).to_have_value("13 is better")
    expect(page.locator("#ranking .chip")).to_have_count(1)
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    page.keyboard.press("3")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    judgment = Judgment.objects.get()
    shown = judgment.display_order
    assert judgment.ranking == [[shown[1]], [shown[0]], [shown[2]]]
    assert judgment.rationale == "13 is better"
