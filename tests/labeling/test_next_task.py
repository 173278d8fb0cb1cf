from datetime import timedelta

import pytest
from django.db.models import F
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


@pytest.fixture
def second_campaign(lead, labeler):
    """Another active campaign of the same labeler, with three tasks."""
    from labelhub.campaigns.services import campaign_create
    from tests.labeling.conftest import add_prompts

    other = campaign_create(user=lead, name="Harmless answers", slug="harmless", task_kind=Campaign.TaskKind.RANK,
                            completions_per_task=3, overlap=2, status=Campaign.Status.ACTIVE)
    membership_add(campaign=other, user=labeler, role=Role.LABELER)
    add_prompts(other, 3)
    assert services.tasks_create(campaign=other).made == 3
    return other


def test_priority_orders_tasks_within_their_campaign_only(campaign, labeler, tasks, second_campaign):
    """Across campaigns the oldest open task comes first: no campaign's priority, however high,
    pushes another campaign's work aside. Within a campaign the higher priority still wins."""
    top = second_campaign.tasks.order_by("id").last()
    services.task_update(task=top, priority=100)  # the most a lead may set
    services.task_update(task=tasks[2], priority=1)
    first = services.next_task(labeler=labeler)
    assert first.task_id == tasks[2].id  # this campaign's tasks are older; its own priority picks among them
    second = services.next_task(labeler=labeler, holding=first.task_id)
    assert second.task_id == tasks[0].id  # still older than anything of the other campaign
    assert services.next_task(labeler=labeler, campaign=second_campaign).task_id == top.id


def test_older_work_of_another_campaign_comes_before_a_new_top_priority_task(campaign, labeler, tasks, second_campaign):
    from labelhub.campaigns.models import Completion, Prompt, content_hash

    Task.objects.filter(campaign=campaign).update(judgment_count=F("overlap"))  # this campaign's first tasks are done
    late = Prompt.objects.create(campaign=campaign, text="a late prompt", content_hash=content_hash("a late prompt"))
    for n, policy in enumerate(campaign.policies.all()):
        Completion.objects.create(prompt=late, policy=policy, text=f"late {n}", content_hash=content_hash(f"late {n}"))
    assert services.tasks_create(campaign=campaign, priority=100).made == 1  # made after the other campaign's
    first = services.next_task(labeler=labeler)
    assert first.task_id == second_campaign.tasks.order_by("id").first().id


def test_it_keeps_to_the_campaign_asked_for(campaign, second_campaign, labeler, tasks):
    services.task_update(task=second_campaign.tasks.first(), priority=9)  # the best overall, elsewhere
    mine = services.next_task(labeler=labeler, campaign=campaign)
    assert mine.task.campaign_id == campaign.pk
    # the live lease counts only in its own campaign: the other campaign still gets a task
    elsewhere = services.next_task(labeler=labeler, campaign="harmless")
    assert elsewhere.task.campaign_id == second_campaign.pk
    assert services.next_task(labeler=labeler, campaign=campaign).pk == mine.pk
    assert services.next_task(labeler=labeler, campaign="no-such-campaign") is None


def test_a_lease_in_a_paused_campaign_is_not_handed_back(campaign, second_campaign, labeler, tasks):
    services.task_update(task=second_campaign.tasks.first(), priority=9)
    held = services.next_task(labeler=labeler)
    assert held.task.campaign_id == second_campaign.pk
    Campaign.objects.filter(pk=second_campaign.pk).update(status=Campaign.Status.PAUSED)
    instead = services.next_task(labeler=labeler)
    assert instead.task.campaign_id == campaign.pk
