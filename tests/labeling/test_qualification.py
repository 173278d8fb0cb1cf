"""Qualification (docs/quality.md): a campaign may ask labelers to pass a set of qualification
tasks before they get real ones; attempts and their scores are kept, and the labeling API
tells the labeler they are qualifying and how it went."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labelhub.campaigns.services import campaign_update
from labelhub.labeling import services
from labelhub.labeling.models import GoldScore, PauseEvent, QualificationAttempt, Task

pytestmark = pytest.mark.django_db

NEXT = "/api/labeling/next/?campaign=helpful"


def order_of(task_id):
    return [tc.completion_id for tc in Task.objects.get(pk=task_id).task_completions.all()]


@pytest.fixture
def qualifying(campaign, lead, tasks):
    """Tasks 0–3 are the qualification set (2 a attempt, all right to pass, 2 attempts); task 4 is real."""
    campaign_update(campaign=campaign, user=lead, qualification_size=2, qualification_threshold=1.0,
                    qualification_max_attempts=2, gold_rate=0.0)
    for task in tasks[:4]:
        services.task_gold_set(task=task, answer={"ranking": [[cid] for cid in order_of(task.pk)]}, qualification=True)
    return campaign


def take_and_answer(client, *, right: bool, n: int):
    lease = client.post(NEXT)
    assert lease.status_code == 200, lease.content
    order = order_of(lease.json()["task"]["id"])
    submitted = client.post(f"/api/labeling/assignments/{lease.json()['assignment']}/submit/", {
        "idempotency_key": f"qualify-{n:04d}", "ranking": [[cid] for cid in (order if right else order[::-1])]},
        format="json")
    assert submitted.status_code == 201, submitted.json()
    return lease.json(), submitted.json()


def test_a_labeler_qualifies_on_a_second_attempt_then_gets_real_tasks(qualifying, labeler, api_as, tasks):
    client = api_as(labeler)
    lease, result = take_and_answer(client, right=True, n=1)
    assert lease["qualification"] == {"attempt": 1, "answered": 0, "size": 2, "threshold": 1.0, "max_attempts": 2}
    assert lease["task"]["id"] in {t.id for t in tasks[:4]} and result["qualification"] is None
    lease, result = take_and_answer(client, right=False, n=2)
    assert lease["qualification"]["answered"] == 1
    assert result["qualification"] == {"attempt": 1, "passed": False, "correct": 1, "size": 2, "threshold": 1.0}
    seen = set()
    for n in (3, 4):
        lease, result = take_and_answer(client, right=True, n=n)
        assert lease["qualification"]["attempt"] == 2
        seen.add(lease["task"]["id"])
    assert result["qualification"] == {"attempt": 2, "passed": True, "correct": 2, "size": 2, "threshold": 1.0}
    assert len(seen) == 2  # the second attempt is on tasks the labeler had not seen
    lease = client.post(NEXT).json()
    assert lease["task"]["id"] == tasks[4].id and lease["qualification"] is None
    assert [(a.number, a.correct, a.passed) for a in QualificationAttempt.objects.order_by("number")] == [
        (1, 1, False), (2, 2, True)]
    # qualification answers are not gold accuracy: nobody is paused for them
    assert GoldScore.objects.filter(attempt__isnull=True).count() == 0 and not PauseEvent.objects.exists()


def test_a_labeler_out_of_attempts_is_told_so(qualifying, labeler, lead, api_as):
    campaign_update(campaign=qualifying, user=lead, qualification_max_attempts=1)
    client = api_as(labeler)
    take_and_answer(client, right=False, n=1)
    take_and_answer(client, right=True, n=2)
    response = client.post(NEXT)
    assert response.status_code == 403
    assert response.json()["code"] == "qualification_failed"
    assert "did not pass the qualification of Helpful answers: 1 of 2 right, 100% needed" in response.json()["detail"]


def test_a_campaign_without_enough_qualification_tasks_says_so(campaign, lead, labeler, api_as, tasks):
    campaign_update(campaign=campaign, user=lead, qualification_size=3)
    response = api_as(labeler).post(NEXT)
    assert response.status_code == 403 and response.json()["code"] == "qualification_waiting"
    assert services.next_task(labeler=labeler) is None  # real tasks wait until the labeler qualifies


def test_qualification_tasks_are_not_mixed_into_a_qualified_labelers_queue(qualifying, lead, labeler, api_as, tasks):
    campaign_update(campaign=qualifying, user=lead, qualification_size=0, gold_rate=1.0)
    lease = api_as(labeler).post(NEXT).json()
    assert lease["task"]["id"] == tasks[4].id and lease["qualification"] is None


@pytest.mark.parametrize("role, status", [("lead", 200), ("reviewer", 403), ("engineer", 403), ("labeler", 403)])
def test_only_leads_mark_qualification_tasks(role, status, users_by_role, api_as, tasks):
    task = tasks[4]
    response = api_as(users_by_role[role]).patch(f"/api/campaigns/helpful/tasks/{task.pk}/", {
        "is_qualification": True, "gold_answer": {"ranking": [[cid] for cid in order_of(task.pk)]}}, format="json")
    assert response.status_code == status
    task.refresh_from_db()
    assert (task.is_gold, task.is_qualification) == ((True, True) if status == 200 else (False, False))


def test_a_qualification_task_needs_an_expected_answer(api_as, lead, tasks):
    response = api_as(lead).patch(f"/api/campaigns/helpful/tasks/{tasks[4].pk}/", {"is_qualification": True},
                                  format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "gold_answer"


def test_a_gold_file_marks_qualification_tasks(api_as, lead, tasks):
    lines = [{"task": tasks[0].pk, "gold_answer": {"ranking": [[c] for c in order_of(tasks[0].pk)]}, "qualification": True},
             {"task": tasks[1].pk, "gold_answer": {"ranking": [[c] for c in order_of(tasks[1].pk)]}}]
    upload = SimpleUploadedFile("gold.jsonl", "\n".join(map(json.dumps, lines)).encode())
    response = api_as(lead).post("/api/campaigns/helpful/tasks/gold/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert [(t.is_gold, t.is_qualification) for t in Task.objects.filter(pk__in=[tasks[0].pk, tasks[1].pk]).order_by("id")] \
        == [(True, True), (True, False)]
    bad = SimpleUploadedFile("gold.jsonl", json.dumps({**lines[0], "qualification": "yes"}).encode())
    response = api_as(lead).post("/api/campaigns/helpful/tasks/gold/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"line": 1, "field": "qualification", "message": "must be true or false"}]
