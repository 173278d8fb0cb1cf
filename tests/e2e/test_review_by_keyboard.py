"""A reviewer rejects a judgment with the keyboard alone, in Chromium: the campaign page's
Review link → the queue → R (the note opens) → a note → Enter. The rejection is a review
record; the judgment is unchanged; the next judgment is on screen."""

import pytest
from django.forms.models import model_to_dict
from playwright.sync_api import expect

from labelhub.feedback.models import Review
from labelhub.labeling.models import Judgment
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def judged(campaign, labeler):
    """Two judgments, made before the browser starts (its event loop would hold this thread)."""
    add_tasks(campaign, 2)
    judge_all(campaign, labeler, by_policy("good", "fair", "poor"))
    return campaign


def test_a_reviewer_rejects_a_judgment_by_keyboard(judged, log_in):
    campaign = judged
    before = {j.pk: model_to_dict(j) for j in Judgment.objects.all()}

    page = log_in("reviewer", PASSWORD)
    page.goto(f"/campaigns/{campaign.slug}/")
    page.locator(".page-head").get_by_role("link", name="Review", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review")
    expect(page.locator("#review-status")).to_contain_text("Judgment 1 of 2 (2 unreviewed")
    first = int(page.locator("#judgment").get_attribute("data-judgment"))
    expect(page.locator("#judgment .completion")).to_have_count(3)
    expect(page.locator("#judgment .completion .rank")).to_contain_text(["ranked #", "ranked #", "ranked #"])
    expect(page.locator("#judgment .completion", has_text="good answer")).to_contain_text("ranked #1")

    page.keyboard.press("r")
    expect(page.locator("#review-note")).to_be_focused()
    assert not Review.objects.exists()  # no rejection without a note
    page.keyboard.type("Ranked by length, not by content.")
    page.keyboard.press("Enter")

    expect(page.locator("#review-status")).to_contain_text(f"Judgment #{first} rejected.")
    expect(page.locator("#judgment")).not_to_have_attribute("data-judgment", str(first))
    review = Review.objects.get()
    assert (review.judgment_id, review.verdict, review.note, review.reviewer.username, review.source) == (
        first, "reject", "Ranked by length, not by content.", "reviewer", "sample")
    assert {j.pk: model_to_dict(j) for j in Judgment.objects.all()} == before

    page.keyboard.press("a")  # the second one, accepted with a key
    expect(page.locator("#review-status")).to_contain_text("accepted.")
    assert sorted(Review.objects.values_list("verdict", flat=True)) == ["accept", "reject"]
