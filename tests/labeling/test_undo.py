"""Undo the last submit: the labeler reopens their judged task and sends a correction — a new
judgment that supersedes the one that counted — only while the task's lease lasts, and only
their own; the snapshot uses the end of the chain."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add
from labelhub.labeling import services
from labelhub.labeling.models import Assignment, Judgment, Task
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db


def judged(api_as, labeler):
    """A lease of ``labeler`` with one judgment on it (ranked in display order)."""
    assignment = services.next_task(labeler=labeler)
    response = api_as(labeler).post(f"/api/labeling/assignments/{assignment.pk}/submit/",
                                    {"idempotency_key": "first-answer", "ranking": ranking_for(assignment)}, format="json")
    assert response.status_code == 201
    return assignment, response.json()


def correct(client, assignment, corrects, key="correction-1", ranking=None):
    ranking = ranking or list(reversed(ranking_for(assignment)))
    return client.post(f"/api/labeling/assignments/{assignment.pk}/submit/",
                       {"idempotency_key": key, "ranking": ranking, "corrects": corrects}, format="json")


def test_it_reopens_the_judged_task_with_the_answer_that_counts(api_as, labeler, tasks):
    assignment, first = judged(api_as, labeler)
    client = api_as(labeler)
    shown = client.get(f"/api/labeling/assignments/{assignment.pk}/").json()
    assert (shown["state"], shown["correctable"], shown["judgment"]["id"]) == ("submitted", True, first["id"])
    assert [c["id"] for c in shown["completions"]] == assignment.display_order
    assert shown["prompt"]["html"].startswith("<p>prompt")

    second = correct(client, assignment, first["id"])
    assert second.status_code == 201
    assert second.json()["supersedes"] == first["id"]
    shown = client.get(f"/api/labeling/assignments/{assignment.pk}/").json()
    assert shown["judgment"]["id"] == second.json()["id"]
    assert shown["judgment"]["ranking"] == list(reversed(ranking_for(assignment)))
    task = Task.objects.get(pk=assignment.task_id)
    assert (task.judgment_count, Judgment.objects.count()) == (1, 2)  # counted once, both kept


def test_it_keeps_one_chain_a_correction_corrects_the_latest_answer(api_as, labeler, tasks):
    assignment, first = judged(api_as, labeler)
    client = api_as(labeler)
    second = correct(client, assignment, first["id"]).json()
    again = correct(client, assignment, first["id"], key="correction-2")
    assert again.status_code == 409
    assert f"correct the latest one, {second['id']}" in again.json()["detail"]
    assert correct(client, assignment, second["id"], key="correction-3", ranking=ranking_for(assignment)).status_code == 201
    counting = Judgment.objects.filter(assignment_id=assignment.pk, corrections__isnull=True)  # what snapshots read
    assert [j.ranking for j in counting] == [ranking_for(assignment)]


def test_it_refuses_a_correction_once_the_lease_has_ended(api_as, labeler, tasks):
    assignment, first = judged(api_as, labeler)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = api_as(labeler)
    assert client.get(f"/api/labeling/assignments/{assignment.pk}/").json()["correctable"] is False
    response = correct(client, assignment, first["id"])
    assert response.status_code == 409
    assert "Too late to change this answer" in response.json()["detail"]
    assert Judgment.objects.count() == 1


def test_it_still_answers_a_retry_of_the_first_submit_after_the_lease_ended(api_as, labeler, tasks):
    assignment, first = judged(api_as, labeler)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    retry = api_as(labeler).post(f"/api/labeling/assignments/{assignment.pk}/submit/",
                                 {"idempotency_key": "first-answer", "ranking": ranking_for(assignment)}, format="json")
    assert (retry.status_code, retry.json()["id"]) == (200, first["id"])


@pytest.mark.parametrize("role, expected", [
    ("lead", 404), ("reviewer", 404), ("engineer", 404), ("outsider", 404), ("other labeler", 404), (None, 401),
])
def test_it_shows_and_corrects_a_judgment_only_for_its_labeler(campaign, users_by_role, make_user, api_as, labeler, tasks,
                                                              role, expected):
    assignment, first = judged(api_as, labeler)
    if role == "other labeler":
        user = make_user("other")
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
    else:
        user = users_by_role.get(role)
    client = api_as(user)
    assert client.get(f"/api/labeling/assignments/{assignment.pk}/").status_code == expected
    assert correct(client, assignment, first["id"]).status_code == expected
    assert Judgment.objects.count() == 1
