from datetime import timedelta

import pytest
from django.utils import timezone

from labelhub.campaigns.models import Campaign, Role
from labelhub.campaigns.services import membership_add
from labelhub.labeling import services
from labelhub.labeling.models import Assignment, Task
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db


def test_it_leases_the_highest_priority_task_first(campaign, labeler, tasks):
    services.task_update(task=tasks[3], priority=5)
    assignment = services.next_task(labeler=labeler)
    assert assignment.task_id == tasks[3].id
    assert Task.objects.get(pk=tasks[3].id).lease_count == 1
    assert sorted(assignment.display_order) == sorted(tasks[3].task_completions.values_list("completion_id", flat=True))


def test_it_returns_the_same_task_while_the_lease_is_live(labeler, tasks):
    first = services.next_task(labeler=labeler)
    again = services.next_task(labeler=labeler)
    assert again.pk == first.pk
    assert Assignment.objects.filter(labeler=labeler).count() == 1


def test_it_prefetches_a_second_task_after_the_one_on_screen(labeler, tasks):
    first = services.next_task(labeler=labeler)
    prefetched = services.next_task(labeler=labeler, holding=first.task_id)
    assert prefetched.task_id != first.task_id
    assert services.next_task(labeler=labeler, holding=first.task_id).pk == prefetched.pk


def test_it_never_gives_a_labeler_a_task_twice(labeler, tasks):
    seen = []
    while (assignment := services.next_task(labeler=labeler)) is not None:
        seen.append(assignment.task_id)
        services.judgment_submit(labeler=labeler, assignment_id=assignment.pk,
                                 data={"idempotency_key": f"key-{assignment.pk:06d}", "ranking": ranking_for(assignment)})
    assert sorted(seen) == [t.id for t in tasks]


def test_it_stops_handing_out_a_task_at_its_overlap(campaign, labeler, make_user, tasks):
    others = [make_user(f"other{i}") for i in range(3)]
    for user in others:
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
    services.task_update(task=tasks[0], priority=10)
    got = [services.next_task(labeler=user).task_id for user in [labeler, *others]]
    assert got.count(tasks[0].id) == campaign.overlap == 2


def test_it_returns_expired_leases_to_the_pool(campaign, labeler, make_user, tasks):
    campaign.overlap = 1
    campaign.save()
    Task.objects.update(overlap=1)
    Task.objects.exclude(pk=tasks[0].pk).delete()
    held = services.next_task(labeler=labeler)
    other = make_user("other")
    membership_add(campaign=campaign, user=other, role=Role.LABELER)
    assert services.next_task(labeler=other) is None
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    requeued = services.next_task(labeler=other)
    assert requeued.task_id == tasks[0].id
    assert Assignment.objects.get(pk=held.pk).state == Assignment.State.EXPIRED
    assert Task.objects.get(pk=tasks[0].pk).lease_count == 1


@pytest.mark.parametrize("status", [Campaign.Status.DRAFT, Campaign.Status.PAUSED, Campaign.Status.DONE])
def test_it_serves_only_active_campaigns(campaign, labeler, tasks, status):
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    assert services.next_task(labeler=labeler) is None


@pytest.mark.parametrize("role", ["lead", "reviewer", "engineer", "outsider"])
def test_it_serves_only_labelers_of_the_campaign(users_by_role, tasks, role):
    assert services.next_task(labeler=users_by_role[role]) is None
