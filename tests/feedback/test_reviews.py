"""Reviews are records of their own: a verdict is a new row, a later one supersedes the
earlier (history kept), and the judgment itself is never changed."""

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from labelhub.feedback import services
from labelhub.feedback.models import Review
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment
from tests.api_errors import error_fields
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/reviews/"


@pytest.fixture
def judgment(campaign, labeler):
    add_tasks(campaign, 1)
    judge_all(campaign, labeler, by_policy("good", "fair", "poor"))
    return Judgment.objects.get()


def test_it_records_a_review_without_touching_the_judgment(campaign, reviewer, judgment):
    before = model_to_dict(Judgment.objects.get(pk=judgment.pk))
    review = services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=judgment.pk,
                                    verdict="reject", note="  ranked the rude answer first  ")
    assert (review.verdict, review.note, review.supersedes) == ("reject", "ranked the rude answer first", None)
    assert model_to_dict(Judgment.objects.get(pk=judgment.pk)) == before


def test_a_later_review_supersedes_the_earlier_and_the_history_stays(campaign, reviewer, lead, judgment, api_as):
    first = services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=judgment.pk, verdict="reject",
                                   note="wrong order")
    second = services.review_record(campaign=campaign, reviewer=lead, judgment_id=judgment.pk, verdict="accept")
    third = services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=judgment.pk, verdict="accept",
                                   note="on a second look it is fine")
    assert (second.supersedes, third.supersedes) == (first, second)
    first.refresh_from_db()
    assert (first.verdict, first.note) == ("reject", "wrong order")  # never edited
    history = api_as(lead).get(URL, {"judgment": judgment.pk}).json()
    assert [(r["id"], r["verdict"], r["current"], r["supersedes"]) for r in history] == [
        (third.pk, "accept", True, second.pk), (second.pk, "accept", False, first.pk), (first.pk, "reject", False, None)]


def test_a_review_is_superseded_once_only(campaign, reviewer, judgment):
    first = services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=judgment.pk, verdict="accept")
    services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=judgment.pk, verdict="accept")
    with pytest.raises(IntegrityError), transaction.atomic():  # a second branch of the history is refused
        Review.objects.create(campaign=campaign, judgment=judgment, reviewer=reviewer, verdict="accept", supersedes=first)


def test_a_rejection_needs_a_note_and_writes_nothing_without_one(campaign, reviewer, judgment, api_as):
    response = api_as(reviewer).post(URL, {"judgment": judgment.pk, "verdict": "reject", "note": "   "}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"note"}
    assert not Review.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        Review.objects.create(campaign=campaign, judgment=judgment, reviewer=reviewer, verdict="reject", note="")


def test_it_names_what_is_wrong_with_a_review(campaign, reviewer, labeler, judgment, api_as, make_user):
    from labelhub.campaigns.models import Role
    from labelhub.campaigns.services import membership_add

    membership_add(campaign=campaign, user=labeler, role=Role.REVIEWER)
    own = api_as(labeler).post(URL, {"judgment": judgment.pk, "verdict": "accept"}, format="json")
    assert own.status_code == 400 and error_fields(own) == {"judgment"}  # nobody reviews their own judgment
    elsewhere = api_as(reviewer).post(URL, {"judgment": 10**9, "verdict": "maybe"}, format="json")
    assert elsewhere.status_code == 400 and error_fields(elsewhere) == {"verdict"}
    missing = api_as(reviewer).post(URL, {"judgment": 10**9, "verdict": "accept", "source": "hunch"}, format="json")
    assert error_fields(missing) == {"judgment", "source"}
    assert not Review.objects.exists()


def test_a_corrected_judgment_is_reviewed_through_its_correction(campaign, reviewer, labeler, judgment, api_as):
    order = [[c] for c in reversed(judgment.display_order)]
    correction, _ = labeling.judgment_submit(labeler=labeler, assignment_id=judgment.assignment_id, data={
        "idempotency_key": "correction-1", "ranking": order, "corrects": judgment.pk})
    assert correction.supersedes_id == judgment.pk
    response = api_as(reviewer).post(URL, {"judgment": judgment.pk, "verdict": "accept"}, format="json")
    assert response.status_code == 400
    assert f"corrected by judgment {correction.pk}" in response.json()["errors"][0]["message"]
    assert api_as(reviewer).post(URL, {"judgment": correction.pk, "verdict": "accept"}, format="json").status_code == 201
