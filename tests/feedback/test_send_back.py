"""Sending a task back to labeling raises the judgments it wants, so the queue hands it out
again — to a labeler who has not judged it — and refuses what it cannot do, naming why."""

import pytest

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Task
from tests.api_errors import error_fields
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/disagreements/send-back/"


def test_a_task_sent_back_returns_to_the_queue_with_more_overlap(campaign, three_labelers, make_user, api_as, reviewer):
    add_tasks(campaign, 1)
    for user in three_labelers:
        judge_all(campaign, user, by_policy("good", "fair", "poor"))
    task = Task.objects.get()
    assert (task.overlap, task.judgment_count) == (3, 3)
    newcomer = make_user("cat")
    membership_add(campaign=campaign, user=newcomer, role=Role.LABELER)
    assert labeling.next_task(labeler=newcomer) is None  # done: nothing to hand out

    response = api_as(reviewer).post(URL, {"task": task.pk, "extra": 2, "priority": 90}, format="json")
    assert response.status_code == 200
    assert response.json() == {"task": task.pk, "overlap": 5, "judgment_count": 3, "priority": 90, "labelers_left": 1}
    assert labeling.next_task(labeler=three_labelers[0]) is None  # nobody gets a task twice
    lease = labeling.next_task(labeler=newcomer)
    assert lease is not None and lease.task_id == task.pk


@pytest.mark.parametrize(("body", "fields"), [
    ({"extra": 0}, {"extra"}), ({"extra": 11}, {"extra"}), ({"extra": 1, "priority": 101}, {"priority"}),
    ({"extra": 1, "task": 10**9}, {"task"}),
])
def test_it_names_what_it_refuses_and_changes_nothing(campaign, labeler, api_as, lead, body, fields):
    add_tasks(campaign, 1)
    task = Task.objects.get()
    response = api_as(lead).post(URL, {"task": task.pk} | body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == fields
    assert Task.objects.get().overlap == 2


def test_gold_tasks_and_overlaps_past_the_bound_are_refused(campaign, api_as, lead):
    add_tasks(campaign, 2)
    gold, big = Task.objects.order_by("id")
    Task.objects.filter(pk=gold.pk).update(is_gold=True)
    Task.objects.filter(pk=big.pk).update(overlap=45)
    assert error_fields(api_as(lead).post(URL, {"task": gold.pk}, format="json")) == {"task"}
    assert error_fields(api_as(lead).post(URL, {"task": big.pk, "extra": 6}, format="json")) == {"extra"}
    assert api_as(lead).post(URL, {"task": big.pk, "extra": 5}, format="json").json()["overlap"] == 50
