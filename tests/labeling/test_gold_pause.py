"""A labeler whose gold accuracy falls below the campaign's threshold, after its minimum of
gold answers, is paused: an append-only record, their queue stops with a message saying why,
their leases go back to the queue; a lead reinstates them (docs/quality.md)."""

import pytest

from labelhub.campaigns.services import campaign_update
from labelhub.core import webhooks as events_out
from labelhub.labeling import selectors, services
from labelhub.labeling.models import Assignment, PauseEvent, Task
from labelhub.webhooks import services as webhook_services
from labelhub.webhooks.models import Delivery
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db


def gold_order(task):
    return [tc.completion_id for tc in task.task_completions.all()]


@pytest.fixture
def gold_tasks(campaign, lead, tasks):
    """Tasks 0–2 gold (expected: the task's own order), 3–4 real; every pick that can be gold is."""
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0, gold_min_answers=2, gold_accuracy_threshold=0.7)
    for task in tasks[:3]:
        services.task_gold_set(task=task, answer={"ranking": [[cid] for cid in gold_order(task)]})
    return tasks[:3]


def answer_gold(labeler, *, right: bool, key: str):
    assignment = services.next_task(labeler=labeler)
    task = Task.objects.get(pk=assignment.task_id)
    assert task.is_gold
    order = gold_order(task) if right else gold_order(task)[::-1]
    judgment, _ = services.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data={
        "idempotency_key": key, "ranking": [[cid] for cid in order]})
    return judgment


def test_it_scores_each_gold_answer(labeler, gold_tasks):
    right = answer_gold(labeler, right=True, key="key-right-1")
    wrong = answer_gold(labeler, right=False, key="key-wrong-1")
    assert right.gold_score.correct is True
    assert wrong.gold_score.correct is False and wrong.gold_score.detail["opposite"] == 3


def test_it_pauses_a_labeler_below_the_threshold_after_the_minimum(campaign, labeler, gold_tasks):
    answer_gold(labeler, right=False, key="key-wrong-1")
    assert not PauseEvent.objects.exists()  # one answer: under the minimum of 2
    prefetched = services.next_task(labeler=labeler, holding=None)
    services.judgment_submit(labeler=labeler, assignment_id=prefetched.pk, data={
        "idempotency_key": "key-wrong-2",
        "ranking": [[cid] for cid in gold_order(Task.objects.get(pk=prefetched.task_id))[::-1]]})
    event = PauseEvent.objects.get()
    assert (event.action, event.labeler, event.by) == ("paused", labeler, None)
    assert "0/2" in event.reason and "70%" in event.reason
    assert event.figures["accuracy"] == 0.0 and event.figures["high"] < 0.7
    assert services.next_task(labeler=labeler) is None  # real tasks are left, but not for them


def test_the_pause_revokes_the_labelers_live_leases(campaign, labeler, gold_tasks):
    answer_gold(labeler, right=False, key="key-wrong-1")
    on_screen = services.next_task(labeler=labeler)
    prefetched = services.next_task(labeler=labeler, holding=on_screen.task_id)
    services.judgment_submit(labeler=labeler, assignment_id=on_screen.pk, data={
        "idempotency_key": "key-wrong-2",
        "ranking": [[cid] for cid in gold_order(Task.objects.get(pk=on_screen.task_id))[::-1]]})
    assert Assignment.objects.get(pk=prefetched.pk).state == Assignment.State.REVOKED
    assert Task.objects.get(pk=prefetched.task_id).lease_count == 0


def test_it_pauses_only_once_the_accuracy_is_under_the_threshold(labeler, gold_tasks):
    answer_gold(labeler, right=True, key="key-right-1")
    answer_gold(labeler, right=True, key="key-right-2")
    assert not PauseEvent.objects.exists()  # 2 of 2
    answer_gold(labeler, right=False, key="key-wrong-1")  # 2 of 3: 67% < 70%
    assert PauseEvent.objects.get().figures | {"low": 0, "high": 0} == {
        "answered": 3, "correct": 2, "accuracy": 2 / 3, "low": 0, "high": 0, "threshold": 0.7, "min_answers": 2}


def test_the_paused_labeler_is_told_why_by_the_api(labeler, gold_tasks, api_as):
    answer_gold(labeler, right=False, key="key-wrong-1")
    answer_gold(labeler, right=False, key="key-wrong-2")
    for url in ("/api/labeling/next/?campaign=helpful", "/api/labeling/next/"):
        response = api_as(labeler).post(url)
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "labeler_paused" and body["campaign"] == "helpful"
        assert "paused in Helpful answers" in body["detail"] and "reinstate" in body["detail"]


def test_a_lead_reinstates_and_the_accuracy_starts_afresh(campaign, lead, labeler, gold_tasks, api_as):
    answer_gold(labeler, right=False, key="key-wrong-1")
    answer_gold(labeler, right=False, key="key-wrong-2")
    response = api_as(lead).post(f"/api/campaigns/helpful/labelers/{labeler.pk}/reinstate/",
                                 {"note": "Talked it through."}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() | {"created_at": None, "id": None} == {
        "id": None, "labeler": "labeler", "action": "reinstated", "by": "lead", "automatic": False,
        "reason": "Talked it through.", "figures": response.json()["figures"], "created_at": None}
    assert [e.action for e in PauseEvent.objects.order_by("id")] == ["paused", "reinstated"]  # history kept
    # the queue gives tasks again; the two earlier wrong answers no longer count towards a pause
    answer_gold(labeler, right=True, key="key-right-1")
    assert PauseEvent.objects.count() == 2
    row = next(r for r in selectors.gold_accuracy(campaign=campaign) if r["labeler"] == "labeler")
    assert (row["answered"], row["correct"], row["paused"]) == (3, 1, False)
    assert (row["since_reinstated"]["answered"], row["since_reinstated"]["correct"]) == (1, 1)


def test_reinstating_someone_not_paused_is_a_conflict(labeler, gold_tasks, api_as, lead):
    response = api_as(lead).post(f"/api/campaigns/helpful/labelers/{labeler.pk}/reinstate/", {}, format="json")
    assert response.status_code == 409 and "not paused" in response.json()["detail"]
    assert api_as(lead).post("/api/campaigns/helpful/labelers/999999/reinstate/", {}, format="json").status_code == 404


@pytest.mark.parametrize("role, status", role_cases({
    "lead": 201, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}))
def test_only_leads_reinstate(role, status, users_by_role, labeler, gold_tasks, api_as):
    answer_gold(labeler, right=False, key="key-wrong-1")
    answer_gold(labeler, right=False, key="key-wrong-2")
    response = api_as(users_by_role.get(role)).post(f"/api/campaigns/helpful/labelers/{labeler.pk}/reinstate/", {},
                                                    format="json")
    assert response.status_code == status
    assert PauseEvent.objects.count() == (2 if status == 201 else 1)


@pytest.mark.parametrize("role, status", role_cases({
    "lead": 200, "labeler": 403, "reviewer": 200, "engineer": 403, "outsider": 404, "anonymous": ANON}))
def test_leads_and_reviewers_read_gold_accuracy_and_pauses(role, status, users_by_role, labeler, gold_tasks, api_as):
    answer_gold(labeler, right=False, key="key-wrong-1")
    answer_gold(labeler, right=False, key="key-wrong-2")
    client = api_as(users_by_role.get(role))
    listed = client.get("/api/campaigns/helpful/labelers/")
    pauses = client.get("/api/campaigns/helpful/labelers/pauses/")
    assert (listed.status_code, pauses.status_code) == (status, status)
    if status == 200:
        row = next(r for r in listed.json()["labelers"] if r["labeler"] == "labeler")
        assert (row["answered"], row["correct"], row["paused"]) == (2, 0, True)
        assert row["low"] == 0.0 and 0.6 < row["high"] < 0.7  # Wilson, 0 of 2
        assert listed.json()["settings"]["gold_accuracy_threshold"] == 0.7
        assert [(p["action"], p["automatic"]) for p in pauses.json()] == [("paused", True)]


def test_on_labeler_paused_is_called_once_per_pause(monkeypatch, labeler, gold_tasks):
    calls = []
    monkeypatch.setattr(services, "on_labeler_paused", lambda *, event: calls.append(event))
    answer_gold(labeler, right=False, key="key-wrong-1")
    answer_gold(labeler, right=False, key="key-wrong-2")
    assert [e.action for e in calls] == ["paused"]


def test_the_answer_that_pauses_says_the_queue_stopped(labeler, gold_tasks, api_as):
    answer_gold(labeler, right=False, key="key-wrong-1")
    client = api_as(labeler)
    lease = client.post("/api/labeling/next/?campaign=helpful").json()
    order = gold_order(Task.objects.get(pk=lease["task"]["id"]))
    response = client.post(f"/api/labeling/assignments/{lease['assignment']}/submit/", {
        "idempotency_key": "key-wrong-2", "ranking": [[cid] for cid in order[::-1]]}, format="json")
    assert response.status_code == 201
    assert response.json()["stopped"]["code"] == "labeler_paused"
    assert "0/2" in response.json()["stopped"]["detail"]


def test_a_pause_is_the_labeler_paused_webhook(campaign, lead, labeler, gold_tasks):
    webhook_services.webhook_create(campaign=campaign, user=lead, url="https://example.org/hook",
                                    events=[events_out.LABELER_PAUSED])
    answer_gold(labeler, right=False, key="key-wrong-1")
    assert not Delivery.objects.exists()  # not paused yet
    answer_gold(labeler, right=False, key="key-wrong-2")
    [delivery] = Delivery.objects.all()
    data = delivery.body["data"]
    assert (delivery.event, data["labeler"], data["by"]) == ("labeler.paused", "labeler", None)
    assert data["figures"]["accuracy"] == 0.0 and "below the campaign's threshold" in data["reason"]
