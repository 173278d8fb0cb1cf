"""Snapshots keep what labelers wrote besides their order: ratings, flags, rationales and
better answers, per judgment, in every kind of snapshot and through every aggregation."""

import json

import pytest

from labelhub.campaigns.models import Campaign, Role
from labelhub.campaigns.services import membership_add
from labelhub.feedback import services
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment
from tests.labeling.conftest import add_prompts

pytestmark = pytest.mark.django_db


def build(campaign, user, **options):
    snapshot = services.snapshot_create(campaign=campaign, user=user, **options)
    return services.snapshot_build(snapshot_id=snapshot.pk)


def rows_of(snapshot):
    with open(snapshot.jsonl_path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def noted(campaign, labeler, make_user):
    """One prompt with three completions, ranked the same way by two labelers who rated,
    flagged and explained differently."""
    add_prompts(campaign, 1)
    labeling.tasks_create(campaign=campaign)
    second = make_user("labeler2")
    membership_add(campaign=campaign, user=second, role=Role.LABELER)
    order = None
    for user, score, note in ((labeler, 5, "First is clearly right."), (second, 4, "")):
        a = labeling.next_task(labeler=user)
        order = order or list(a.display_order)
        best, middle, worst = order
        labeling.judgment_submit(labeler=user, assignment_id=a.pk, data={
            "idempotency_key": f"{user.username}-notes", "ranking": [[best], [middle], [worst]],
            "ratings": {str(c): {"helpfulness": s} for c, s in zip(order, (score, 3, 1), strict=True)},
            "flags": {str(worst): ["wrong"]} if user == labeler else {},
            "rationale": note, "better_answer": "Better." if user == second else ""})
    return order


def pair_row(rows, chosen, rejected):
    return next(r for r in rows if (r["chosen_id"], r["rejected_id"]) == (chosen, rejected))


def test_it_puts_each_judgments_notes_beside_each_pair(campaign, lead, labeler, noted):
    best, _, worst = noted
    row = pair_row([r for r in rows_of(build(campaign, lead)) if r["labelers"] == ["labeler"]], best, worst)
    judgment = Judgment.objects.get(labeler=labeler)
    assert row["judgment_ids"] == [judgment.pk]
    assert row["chosen_ratings"] == [{"helpfulness": 5}] and row["rejected_ratings"] == [{"helpfulness": 1}]
    assert row["chosen_flags"] == [[]] and row["rejected_flags"] == [["wrong"]]
    assert row["rationales"] == ["First is clearly right."] and row["better_answers"] == [""]


def test_it_keeps_every_labelers_notes_when_pairs_are_aggregated(campaign, lead, noted):
    best, _, worst = noted
    for aggregation in ("majority", "bradley_terry"):
        rows = rows_of(build(campaign, lead, aggregation=aggregation))
        row = pair_row(rows, best, worst)
        assert len(row["judgment_ids"]) == 2, aggregation
        assert sorted(r["helpfulness"] for r in row["chosen_ratings"]) == [4, 5]
        assert sorted(row["rationales"]) == ["", "First is clearly right."]
        assert sorted(row["better_answers"]) == ["", "Better."]
        assert sorted(map(tuple, row["rejected_flags"])) == [(), ("wrong",)]


def test_it_gives_sft_rows_the_judgments_ratings_flags_and_rationale(campaign, lead, noted):
    second = Judgment.objects.get(labeler__username="labeler2")
    [row] = rows_of(build(campaign, lead, kind="sft"))
    assert row["response"] == "Better." and row["judgment_id"] == second.pk
    assert row["ratings"] == [{"completion_id": c, "ratings": {"helpfulness": s}} for c, s in
                              sorted(zip(noted, (4, 3, 1), strict=True))]
    assert row["flags"] == [] and row["rationale"] == ""


def test_it_exports_a_rating_campaign_as_one_row_per_rated_completion(lead, labeler):
    from labelhub.campaigns import services as campaigns

    rated = campaigns.campaign_create(
        user=lead, name="Rated", slug="rated", task_kind=Campaign.TaskKind.RATING, completions_per_task=2, overlap=1,
        rating_axes=[{"name": "clarity", "min": 1, "max": 7}], flag_vocabulary=["unsafe"], guidelines="Rate.",
        status=Campaign.Status.ACTIVE)
    membership_add(campaign=rated, user=labeler, role=Role.LABELER)
    add_prompts(rated, 1, per_prompt=2)
    labeling.tasks_create(campaign=rated)
    a = labeling.next_task(labeler=labeler)
    first, second = a.display_order
    labeling.judgment_submit(labeler=labeler, assignment_id=a.pk, data={
        "idempotency_key": "rating-0001", "ratings": {str(first): {"clarity": 6}, str(second): {"clarity": 2}},
        "flags": {str(second): ["unsafe"]}, "rationale": "The second one is reckless."})
    rows = rows_of(build(rated, lead, kind="ratings"))
    assert [(r["completion_id"], r["ratings"], r["flags"]) for r in rows] == [
        (first, {"clarity": 6}, []), (second, {"clarity": 2}, ["unsafe"])]
    assert {r["rationale"] for r in rows} == {"The second one is reckless."}
    assert all(r["labeler"] == "labeler" and r["completion"].startswith("answer ") for r in rows)
    preference = build(rated, lead)  # ratings order nothing: an empty pair file, not a crash
    assert preference.state == "ready" and preference.row_count == 0
