"""Gold tasks in the queue (docs/quality.md, "Gold tasks"): mixed in at the campaign's rate,
handed to every labeler (no overlap), never the last task of a queue, never counted as data,
and nothing in what a labeler receives tells them apart."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import campaign_update, membership_add
from labelhub.labeling import selectors, services
from labelhub.labeling.models import Task
from tests.labeling.conftest import add_prompts, ranking_for

pytestmark = pytest.mark.django_db


def make_gold(task, order=None):
    ids = order or [tc.completion_id for tc in task.task_completions.all()]
    return services.task_gold_set(task=task, answer={"ranking": [[cid] for cid in ids]})


def answer(labeler, assignment):
    services.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data={
        "idempotency_key": f"key-{assignment.pk:08d}", "ranking": ranking_for(assignment)})


@pytest.fixture
def big_campaign(campaign, lead):
    """190 tasks (overlap 1), 40 of them gold, at a gold rate of 0.2 (answers are not checked
    here: an accuracy threshold of 0 pauses nobody)."""
    campaign_update(campaign=campaign, user=lead, overlap=1, gold_rate=0.2, gold_accuracy_threshold=0.0)
    add_prompts(campaign, 190)
    assert services.tasks_create(campaign=campaign).made == 190
    gold = list(Task.objects.filter(campaign=campaign).order_by("id").prefetch_related("task_completions")[:40])
    for task in gold:
        task.is_gold, task.gold_answer = True, {"ranking": [[tc.completion_id] for tc in task.task_completions.all()]}
    Task.objects.bulk_update(gold, ["is_gold", "gold_answer"])
    return campaign


def test_it_mixes_gold_in_at_the_campaigns_rate(big_campaign, labeler):
    """150 picks at a rate of 0.2 with a fixed seed: 30 gold expected (the binomial's 99.9%
    range is about 16–46); a wrong rate (0.1 or 0.3: 15 or 45) falls outside the band."""
    services.GOLD_DRAW.seed(12)
    gold = 0
    for i in range(150):
        assignment = services.next_task(labeler=labeler)
        assert assignment is not None, f"nothing left at pick {i}"
        gold += Task.objects.get(pk=assignment.task_id).is_gold
        answer(labeler, assignment)
    assert 22 <= gold <= 38, gold


def test_it_hands_out_no_gold_at_a_rate_of_zero(big_campaign, labeler, lead):
    campaign_update(campaign=big_campaign, user=lead, gold_rate=0.0)
    services.GOLD_DRAW.seed(1)
    for _ in range(40):
        assignment = services.next_task(labeler=labeler)
        assert not Task.objects.get(pk=assignment.task_id).is_gold
        answer(labeler, assignment)


def test_it_gives_each_gold_task_to_every_labeler_beyond_the_overlap(campaign, lead, labeler, make_user, tasks):
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0, overlap=1)
    make_gold(tasks[0])
    for name in ("ann", "ben", "cid"):
        user = make_user(name)
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
        assignment = services.next_task(labeler=user)
        assert assignment.task_id == tasks[0].id  # gold task first: the rate is 1
        answer(user, assignment)
    assert Task.objects.get(pk=tasks[0].id).judgment_count == 3


def test_it_never_hands_out_gold_once_the_real_tasks_are_gone(campaign, lead, labeler, tasks):
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0)
    make_gold(tasks[0])
    make_gold(tasks[1])
    seen = []
    while (assignment := services.next_task(labeler=labeler)) is not None:
        seen.append(assignment.task_id)
        answer(labeler, assignment)
    # three real tasks, each pick replaced by a gold one while gold was left: gold 1, gold 2, then real
    assert seen == [tasks[0].id, tasks[1].id, tasks[2].id, tasks[3].id, tasks[4].id][:len(seen)]
    assert set(seen) >= {tasks[2].id, tasks[3].id, tasks[4].id}
    assert seen[-1] not in (tasks[0].id, tasks[1].id)


def test_it_leaves_gold_out_of_progress(campaign, labeler, tasks):
    make_gold(tasks[0])
    progress = selectors.campaign_progress(campaign_id=campaign.pk)
    assert progress["tasks_total"] == 4 and progress["judgments_needed"] == 8


def test_the_labelers_tasks_left_drop_by_one_after_any_task(campaign, lead, labeler, tasks):
    """Gold left counts while real tasks remain, so the count tells no gold task apart."""
    campaign_update(campaign=campaign, user=lead, gold_rate=0.5, gold_accuracy_threshold=0.0)
    make_gold(tasks[0])
    make_gold(tasks[1])
    services.GOLD_DRAW.seed(5)
    lefts = [selectors.labeler_home(user=labeler)[0]["tasks_left"]]
    while (assignment := services.next_task(labeler=labeler)) is not None:
        answer(labeler, assignment)
        lefts.append(selectors.labeler_home(user=labeler)[0]["tasks_left"])
    assert lefts[0] == 5 and lefts[-1] == 0
    steps = [a - b for a, b in zip(lefts, lefts[1:], strict=False)]
    assert all(step == 1 for step in steps[:-1]), lefts  # the last real task also ends the gold left


def test_the_lease_a_labeler_gets_says_nothing_of_gold(campaign, lead, labeler, tasks, api_as):
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0)
    make_gold(tasks[0])
    response = api_as(labeler).post("/api/labeling/next/?campaign=helpful")
    assert response.status_code == 200 and response.json()["task"]["id"] == tasks[0].id
    text = json.dumps(response.json()).lower()
    assert "gold" not in text and "expected" not in text
    assert response.json()["qualification"] is None
    lease = response.json()["assignment"]
    submitted = api_as(labeler).post(f"/api/labeling/assignments/{lease}/submit/", {
        "idempotency_key": "answer-0001", "ranking": [[c["id"]] for c in response.json()["completions"]]},
        format="json")
    assert submitted.status_code == 201
    assert "gold" not in json.dumps(submitted.json()).lower() and submitted.json()["qualification"] is None


def test_mixing_gold_in_adds_no_query_to_next_task(big_campaign, labeler):
    services.GOLD_DRAW.seed(3)
    counts = set()
    for _ in range(30):
        with CaptureQueriesContext(connection) as queries:
            assignment = services.next_task(labeler=labeler)
        counts.add(len(queries))
        answer(labeler, assignment)
    # the advisory lock, the expiry sweep, the live lease, the pick, the lease (+ savepoint pair)
    assert len(counts) == 1, counts
