"""Every way a judgment can be wrong gets an error naming the field, and nothing is written."""

import pytest

from labelhub.campaigns.models import Campaign
from labelhub.labeling import services
from labelhub.labeling.models import Judgment, Strength
from labelhub.labeling.validation import JudgmentInvalid, validate_judgment
from tests.labeling.conftest import add_prompts

pytestmark = pytest.mark.django_db


@pytest.fixture
def leased(labeler, tasks):
    return services.next_task(labeler=labeler)


def errors_of(labeler, assignment, **data):
    with pytest.raises(JudgmentInvalid) as info:
        services.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data={"idempotency_key": "key-12345678", **data})
    assert Judgment.objects.count() == 0
    return info.value.errors


@pytest.mark.parametrize("ranking, message", [
    (None, "required"),
    ([], "required"),
    ([[1], "x"], "group 1"),
    ([[]], "group 0"),
])
def test_it_rejects_a_malformed_ranking(labeler, leased, ranking, message):
    assert message in errors_of(labeler, leased, ranking=ranking)["ranking"]


def test_it_rejects_a_completion_ranked_twice(labeler, leased):
    a, b, c = leased.display_order
    assert "more than once" in errors_of(labeler, leased, ranking=[[a], [a, b], [c]])["ranking"]


def test_it_rejects_a_missing_completion(labeler, leased):
    a, b, _ = leased.display_order
    assert "not ranked" in errors_of(labeler, leased, ranking=[[a], [b]])["ranking"]


def test_it_rejects_a_completion_from_another_task(labeler, leased):
    a, b, c = leased.display_order
    assert "not in this task" in errors_of(labeler, leased, ranking=[[a], [b], [c], [999999]])["ranking"]


def test_it_rejects_ratings_out_of_range_or_on_unknown_axes(labeler, leased):
    a, b, c = leased.display_order
    errors = errors_of(labeler, leased, ranking=[[a], [b], [c]], ratings={str(a): {"helpfulness": 9, "style": 3}, "999": {}})
    assert "from 1 to 5" in errors[f"ratings.{a}.helpfulness"]
    assert "unknown axis" in errors[f"ratings.{a}.style"]
    assert "not a completion" in errors["ratings.999"]


def test_it_rejects_flags_outside_the_vocabulary(labeler, leased):
    a, b, c = leased.display_order
    errors = errors_of(labeler, leased, ranking=[[a], [b], [c]], flags={str(a): ["unsafe", "boring"]})
    assert "boring" in errors[f"flags.{a}"]


def test_it_rejects_overlong_text_and_bad_time(labeler, leased):
    a, b, c = leased.display_order
    errors = errors_of(labeler, leased, ranking=[[a], [b], [c]], rationale="x" * 10_001, time_spent_ms=-5)
    assert "limit" in errors["rationale"]
    assert "milliseconds" in errors["time_spent_ms"]


def test_it_requires_an_idempotency_key(labeler, leased):
    with pytest.raises(JudgmentInvalid) as info:
        services.judgment_submit(labeler=labeler, assignment_id=leased.pk, data={"ranking": [[1]]})
    assert "idempotency_key" in info.value.errors


@pytest.fixture
def pairwise(campaign):
    campaign.task_kind, campaign.completions_per_task = Campaign.TaskKind.PAIRWISE, 2
    campaign.save()
    return campaign


@pytest.mark.parametrize("strength", list(Strength))
def test_it_accepts_every_pairwise_strength(pairwise, strength):
    a, b = 1, 2
    preferred = a if strength in {Strength.MUCH_BETTER, Strength.BETTER, Strength.SLIGHTLY_BETTER} else None
    cleaned = validate_judgment(campaign=pairwise, kind="pairwise", completion_ids=[a, b],
                                data={"preferred": preferred, "strength": strength})
    assert (cleaned["preferred_id"], cleaned["strength"]) == (preferred, strength)


@pytest.mark.parametrize("data, field", [
    ({"preferred": 1, "strength": "way_better"}, "strength"),
    ({"preferred": 3, "strength": "better"}, "preferred"),
    ({"preferred": None, "strength": "better"}, "preferred"),
    ({"preferred": 1, "strength": "tie"}, "preferred"),
])
def test_it_rejects_bad_pairwise_answers(pairwise, data, field):
    with pytest.raises(JudgmentInvalid) as info:
        validate_judgment(campaign=pairwise, kind="pairwise", completion_ids=[1, 2], data=data)
    assert field in info.value.errors


def test_it_requires_every_rating_in_rating_campaigns(campaign):
    campaign.task_kind = Campaign.TaskKind.RATING
    with pytest.raises(JudgmentInvalid) as info:
        validate_judgment(campaign=campaign, kind="rating", completion_ids=[1, 2], data={"ratings": {"1": {"helpfulness": 4}}})
    assert "every completion" in info.value.errors["ratings"]
    cleaned = validate_judgment(campaign=campaign, kind="rating", completion_ids=[1, 2],
                                data={"ratings": {"1": {"helpfulness": 4}, "2": {"helpfulness": 2}}})
    assert cleaned["ratings"] == {"1": {"helpfulness": 4}, "2": {"helpfulness": 2}}


def test_it_makes_pairwise_tasks_from_pairs_of_policies(pairwise):
    add_prompts(pairwise, 2, per_prompt=3)
    assert services.tasks_create(campaign=pairwise).made == 6  # 3 pairs of policies × 2 prompts
    assert services.tasks_create(campaign=pairwise).made == 0  # the same sets are not made twice
    assert all(t.task_completions.count() == 2 for t in pairwise.tasks.all())
