"""The review queue's sources: a stable random sample and the flagged judgments, each only
the judgments that count (latest, from labelers, not gold), unreviewed unless asked."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelhub.feedback import services
from labelhub.feedback.review_queue import SOURCES
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment, Task
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/review-queue/"
DATA_SOURCES = ("sample", "flagged")  # every judgment here is in both (each is flagged)


@pytest.fixture
def judged(campaign, three_labelers):
    add_tasks(campaign, 4)
    for user in three_labelers:
        judge_all(campaign, user, by_policy("good", "fair", "poor"))
    return Judgment.objects.order_by("id")


def test_the_sample_is_every_data_judgment_in_one_fixed_random_order(campaign, judged, api_as, reviewer, lead):
    ids = [j["judgment"] for j in api_as(reviewer).get(URL, {"source": "sample"}).json()["judgments"]]
    assert sorted(ids) == [j.pk for j in judged]
    assert ids != sorted(ids)  # shuffled (12 judgments: the identity order has chance 1/12!)
    assert [j["judgment"] for j in api_as(lead).get(URL, {"source": "sample"}).json()["judgments"]] == ids


def test_reviewed_judgments_leave_the_queue_unless_asked_for(campaign, judged, api_as, reviewer):
    first = api_as(reviewer).get(URL, {"source": "sample", "limit": 1}).json()
    assert first["remaining"] == 12
    top = first["judgments"][0]["judgment"]
    services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=top, verdict="reject", note="careless")
    after = api_as(reviewer).get(URL, {"source": "sample"}).json()
    assert after["remaining"] == 11 and top not in [j["judgment"] for j in after["judgments"]]
    everything = api_as(reviewer).get(URL, {"source": "sample", "include_reviewed": "true"}).json()["judgments"]
    reviewed = next(j for j in everything if j["judgment"] == top)
    assert (reviewed["review"]["verdict"], reviewed["review"]["note"], reviewed["review"]["reviewer"]) == (
        "reject", "careless", "reviewer")


def test_the_flagged_source_lists_judgments_with_a_flag_and_gold_tasks_stay_out(campaign, labeler, api_as, reviewer):
    add_tasks(campaign, 3)
    flagged_task, gold_task, _ = Task.objects.order_by("id")
    gold_task.is_gold = True
    gold_task.save(update_fields=["is_gold"])
    while (a := labeling.next_task(labeler=labeler)) is not None:
        flags = {str(a.display_order[0]): ["unsafe"]} if a.task_id in (flagged_task.pk, gold_task.pk) else {}
        unflagged = {str(a.display_order[1]): []}
        labeling.judgment_submit(labeler=labeler, assignment_id=a.pk, data={
            "idempotency_key": f"key-{a.pk:08d}", "ranking": [[c] for c in a.display_order], "flags": flags | unflagged})
    flagged = api_as(reviewer).get(URL, {"source": "flagged"}).json()
    assert [j["task"] for j in flagged["judgments"]] == [flagged_task.pk]
    first = flagged["judgments"][0]["completions"][0]
    assert (first["flags"], first["rank"]) == (["unsafe"], 1)
    sample = api_as(reviewer).get(URL, {"source": "sample"}).json()
    assert gold_task.pk not in {j["task"] for j in sample["judgments"]} and sample["remaining"] == 2


def test_an_unknown_source_is_named(campaign, api_as, reviewer):
    response = api_as(reviewer).get(URL, {"source": "hunch"})
    assert response.status_code == 400
    assert "source" in str(response.json())


def judge_all_flagging(campaign, user):
    while (a := labeling.next_task(labeler=user, campaign=campaign)) is not None:
        labeling.judgment_submit(labeler=user, assignment_id=a.pk, data={
            "idempotency_key": f"{user.username}-{a.pk:08d}", "ranking": [[c] for c in a.display_order],
            "flags": {str(a.display_order[-1]): ["wrong"]}})


def test_the_sample_and_flagged_sources_read_a_page_in_the_same_few_queries(campaign, three_labelers, api_as, reviewer):
    client, counts = api_as(reviewer), []
    client.get(URL)  # the token's first use is written down once
    for n, start in ((1, 0), (6, 1)):
        add_tasks(campaign, n, start=start)
        for user in three_labelers:
            judge_all_flagging(campaign, user)
        for source in DATA_SOURCES:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(URL, {"source": source, "include_reviewed": "true"})
            assert len(response.json()["judgments"]) == 3 * (start + n)
            counts.append((n, source, len(ctx.captured_queries)))
    per_source = {s: {q for _, source, q in counts if source == s} for s in DATA_SOURCES}
    assert all(len(q) == 1 for q in per_source.values()), counts
    # 3 for the token, the campaign and the roles; then the judgments (with labeler, task and prompt),
    # their current reviews, the completions' texts and the unreviewed count
    assert per_source == {s: {3 + 4} for s in DATA_SOURCES}, counts


@pytest.mark.skipif("gold_failures" not in SOURCES, reason="gold scoring (labeling.GoldScore) is not in this code base")
def test_the_gold_failures_source_lists_gold_answers_scored_wrong(campaign, labeler, api_as, reviewer, lead):
    from labelhub.campaigns.services import campaign_update

    add_tasks(campaign, 3)
    gold_right, gold_wrong, _ = Task.objects.order_by("id")
    for task in (gold_right, gold_wrong):
        ids = list(task.task_completions.order_by("position").values_list("completion_id", flat=True))
        labeling.task_gold_set(task=task, answer={"ranking": [[c] for c in ids]})
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0)
    while (a := labeling.next_task(labeler=labeler)) is not None:
        ids = list(Task.objects.get(pk=a.task_id).task_completions.order_by("position").values_list("completion_id", flat=True))
        order = ids if a.task_id == gold_right.pk else list(reversed(ids))
        labeling.judgment_submit(labeler=labeler, assignment_id=a.pk, data={
            "idempotency_key": f"key-{a.pk:08d}", "ranking": [[c] for c in order]})
    listed = api_as(reviewer).get(URL, {"source": "gold_failures"}).json()["judgments"]
    assert [j["task"] for j in listed] == [gold_wrong.pk]
