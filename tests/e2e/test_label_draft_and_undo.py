"""A half-done judgment survives a reload; the last submit can be undone while its lease lasts,
and what is sent then is a correction that supersedes it (the first stays on record)."""

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


def test_it_keeps_a_half_done_answer_over_a_reload_and_undoes_the_last_submit(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, flags=["unsafe"], prompts=[
        ("First question?", ["a1", "a2", "a3"]), ("Second question?", ["b1", "b2", "b3"]),
    ])
    page = open_labeling(log_in, labeler.username, campaign)
    first_task, (one, two, three) = task_on_screen(page), completion_ids_on_screen(page)
    for key in ("3", "1"):  # half a ranking …
        page.keyboard.press(key)
    page.locator(f'.completion-card[data-id="{two}"]').get_by_role("button", name="unsafe").click()
    page.keyboard.press("r")
    page.keyboard.type("3 says it best")

    page.reload()  # … survives a reload
    expect(page.locator(f'#task[data-task-id="{first_task}"]')).to_be_visible()
    expect(page.locator("#ranking .chip")).to_have_count(2)
    expect(page.locator("#ranking .chip .chip-rank")).to_have_text(["1", "2"])
    expect(page.locator(f'.completion-card[data-id="{two}"]').get_by_role("button", name="unsafe")).to_have_attribute(
        "aria-pressed", "true")
    expect(page.locator("#rationale")).to_have_value("3 says it best")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    wait_for_task_after(page, first_task)
    second_task = task_on_screen(page)
    page.keyboard.press("1")  # a start on the second task, on screen while the first is corrected

    page.get_by_role("button", name="Undo last submit").click()
    expect(page.locator(f'#task[data-task-id="{first_task}"]')).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("Changing your last answer")
    expect(page.locator("#ranking .chip")).to_have_count(3)  # the answer given, back on screen
    expect(page.locator("#rationale")).to_have_value("3 says it best")
    page.keyboard.press("Backspace")  # response 1 (selected) out of the ranking …
    page.keyboard.press("1")  # … and back in last: 3, 2, 1
    page.keyboard.press("Enter")

    expect(page.locator(f'#task[data-task-id="{second_task}"]')).to_be_visible()  # back where we were
    expect(page.locator("#ranking .chip")).to_have_count(1)  # with its half-done answer
    first, correction = Judgment.objects.order_by("id")
    assert first.ranking == [[three], [one], [two]] and first.flags == {str(two): ["unsafe"]}
    assert correction.supersedes_id == first.pk and correction.assignment_id == first.assignment_id
    assert correction.ranking == [[three], [two], [one]]
    assert correction.flags == {str(two): ["unsafe"]} and correction.rationale == "3 says it best"
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('labelhub.draft.')).length") == 1
