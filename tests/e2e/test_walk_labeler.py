"""The labeler's main path through the real pages, in Chromium: sign in lands on their queue
(the campaigns they label, tasks left) → Start labeling → rank a task by keyboard → Enter →
the next task → Undo last submit brings the first back as a correction → the queue counts
the work (issue 18 point 7: a walk-through per role)."""

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import (
    PASSWORD,
    completion_ids_on_screen,
    labeling_campaign,
    task_on_screen,
    wait_for_task_after,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_labeler_signs_in_to_their_queue_labels_a_task_and_undoes_it(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[
        ("What is **recursion**?", ["A function calling itself.", "A loop.", "No idea."]),
        ("Name a prime.", ["7", "8", "9"]),
    ])
    page = log_in(labeler.username, PASSWORD)
    assert page.url.endswith("/label/")  # their queue, not the campaign list
    row = page.get_by_role("row", name=campaign.name)
    expect(row.get_by_test_id("tasks-left")).to_have_text("2")

    row.get_by_role("link", name="Start labeling").click()
    expect(page.locator("#task[data-task-id]")).to_be_visible()
    expect(page.get_by_role("region", name="Responses").get_by_role("article")).to_have_count(3)
    first_task, shown = task_on_screen(page), completion_ids_on_screen(page)
    assert len(shown) == 3
    for key in ("2", "1", "3"):
        page.keyboard.press(key)
    expect(page.locator("#ranking .chip")).to_have_count(3)
    page.keyboard.press("Enter")
    wait_for_task_after(page, first_task)
    assert Judgment.objects.get().ranking == [[shown[1]], [shown[0]], [shown[2]]]

    page.get_by_role("button", name="Undo last submit").click()
    expect(page.locator(f'#task[data-task-id="{first_task}"]')).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("Changing your last answer")
    expect(page.locator("#ranking .chip")).to_have_count(3)  # the answer given, back on screen
    for key in ("2", "Backspace", "2"):  # select response 2 (ranked first), take it out, put it back last: 1, 3, 2
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    wait_for_task_after(page, first_task)
    original, correction = Judgment.objects.order_by("id")
    assert correction.supersedes_id == original.pk
    assert correction.ranking == [[shown[0]], [shown[2]], [shown[1]]]

    page.goto("/label/")
    expect(page.get_by_role("row", name=campaign.name).get_by_test_id("tasks-left")).to_have_text("1")
