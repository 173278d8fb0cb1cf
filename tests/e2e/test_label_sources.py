"""A retrieval-augmented answer shows the passages it was given beside it, as text (a passage
is untrusted too), and the labeler can flag it "not supported by the sources"."""

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import (
    UNSUPPORTED_FLAG,
    Completion,
    CompletionPassage,
    Passage,
    content_hash,
)
from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import completion_ids_on_screen, labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVIL = '<img src=x onerror="window.__xss = 1">'


def test_it_shows_the_sources_beside_the_answer_and_takes_the_flag(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, flags=["unsafe", UNSUPPORTED_FLAG], prompts=[
        ("What is the capital of Tanbrisel?", ["It is Dorganfi.", "I do not know."])])
    answer = Completion.objects.get(text="It is Dorganfi.")
    for rank, text in enumerate(["The capital of Tanbrisel is Dorganfi.", f"A passage with {EVIL} in it."], start=1):
        passage = Passage.objects.create(campaign=campaign, document="atlas", text=text, content_hash=content_hash(text))
        CompletionPassage.objects.create(completion=answer, passage=passage, rank=rank)

    page = open_labeling(log_in, labeler.username, campaign)
    card = page.locator(f'.completion-card[data-id="{answer.id}"]')
    sources = card.locator(".sources .source-text")
    expect(sources).to_have_text(["The capital of Tanbrisel is Dorganfi.", f"A passage with {EVIL} in it."])
    expect(page.locator(".sources")).to_have_count(1)  # the other answer was given none
    assert card.locator(".sources img").count() == 0 and page.evaluate("window.__xss") is None

    card.get_by_role("button", name=UNSUPPORTED_FLAG).click()
    for key in range(1, len(completion_ids_on_screen(page)) + 1):  # rank them in the order shown
        page.keyboard.press(str(key))
    page.keyboard.press("Enter")
    expect(page.locator("#task[data-task-id]")).to_have_count(0)
    judgment = Judgment.objects.get()
    assert judgment.flags == {str(answer.id): [UNSUPPORTED_FLAG]}
