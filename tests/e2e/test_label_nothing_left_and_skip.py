"""Skipping a task with a reason, and the message when nothing is left."""

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Assignment, Judgment
from tests.e2e.labeling_support import (
    labeling_campaign,
    open_labeling,
    task_on_screen,
    wait_for_task_after,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_skips_with_a_reason_then_says_nothing_is_left(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[
        ("Question 1?", ["a", "b", "c"]), ("Question 2?", ["d", "e", "f"]),
    ])
    page = open_labeling(log_in, labeler.username, campaign)
    first = task_on_screen(page)

    page.keyboard.press("s")
    dialog = page.get_by_role("dialog", name="Skip this task")
    expect(dialog).to_be_visible()
    page.keyboard.type("Needs a chemist")
    page.keyboard.press("Enter")
    wait_for_task_after(page, first)
    second = task_on_screen(page)

    page.get_by_role("button", name="Skip…").click()
    dialog.get_by_role("button", name="Skip task").click()  # no reason yet
    expect(dialog.get_by_role("alert")).to_contain_text("Say why")
    dialog.get_by_role("button", name="The prompt is unclear or broken").click()
    dialog.get_by_role("button", name="Skip task").click()

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    skips = dict(Assignment.objects.filter(labeler=labeler).values_list("task_id", "skip_reason"))
    assert skips == {first: "Needs a chemist", second: "The prompt is unclear or broken"}
    assert set(Assignment.objects.values_list("state", flat=True)) == {"skipped"}
    assert not Judgment.objects.exists()
    page.get_by_role("link", name="Back to your campaigns").click()
    expect(page.get_by_role("heading", name="Your labeling")).to_be_visible()


def test_it_says_nothing_is_left_when_there_is_no_task(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[("Question?", ["a", "b", "c"])])
    page = open_labeling(log_in, labeler.username, campaign)
    page.keyboard.press("1")
    page.keyboard.press("2")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    expect(page.get_by_text("You judged 1 task in this session")).to_be_visible()

    page.goto(f"/label/work/?campaign={campaign.slug}")  # coming back later: still nothing
    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    expect(page.get_by_text("There are no tasks for you right now")).to_be_visible()
    expect(page.locator("#progress")).to_have_text("0 judged this session · 0 left")
