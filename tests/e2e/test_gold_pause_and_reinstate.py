"""A labeler paused by their gold answers sees why their queue stopped; the lead reinstates
them with the Quality page's button, and their queue gives them tasks again."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.services import campaign_update
from labelhub.labeling import services
from labelhub.labeling.models import PauseEvent, Task
from tests.e2e.labeling_support import (
    PASSWORD,
    completion_ids_on_screen,
    labeling_campaign,
    open_labeling,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_paused_labeler_is_told_and_the_lead_reinstates_them(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[
        ("Question 1?", ["a", "b", "c"]), ("Question 2?", ["d", "e", "f"]), ("Question 3?", ["g", "h", "i"]),
    ])
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0, gold_min_answers=1, gold_accuracy_threshold=0.7)
    gold = Task.objects.filter(campaign=campaign).order_by("id").first()
    expected = [tc.completion_id for tc in gold.task_completions.all()]
    services.task_gold_set(task=gold, answer={"ranking": [[cid] for cid in expected]})

    page = open_labeling(log_in, labeler.username, campaign)
    shown = completion_ids_on_screen(page)
    for cid in reversed(expected):  # the gold answer upside down
        page.keyboard.press(str(shown.index(cid) + 1))
    page.keyboard.press("Enter")

    stopped = page.locator("[data-stopped=labeler_paused]")
    expect(stopped.get_by_role("heading", name="You are paused in this campaign")).to_be_visible()
    expect(stopped).to_contain_text("Gold accuracy 0/1 (0%) is below the campaign's threshold of 70%")
    expect(stopped).to_contain_text("A lead of the campaign can reinstate you")

    page.context.clear_cookies()  # sign out
    page = log_in(lead.username, PASSWORD)
    page.goto(f"/campaigns/{campaign.slug}/quality/")
    row = page.locator("#gold-table tr[data-labeler=labeler]")
    expect(row).to_contain_text("paused")
    row.get_by_label("Why you reinstate labeler").fill("Went through the guidelines together.")
    row.get_by_role("button", name="Reinstate labeler").click()
    expect(page.get_by_text("labeler is reinstated")).to_be_visible()
    expect(page.locator("#gold-table tr[data-labeler=labeler]")).to_contain_text("labeling")
    assert [(e.action, e.by_id) for e in PauseEvent.objects.order_by("id")] == [("paused", None), ("reinstated", lead.pk)]

    page.context.clear_cookies()
    page = log_in(labeler.username, PASSWORD)
    page.goto(f"/label/work/?campaign={campaign.slug}")
    expect(page.locator("#task[data-task-id]")).to_be_visible()
