"""Races on the real PostgreSQL: many threads, each with its own connection, at once."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add
from labelhub.labeling import services
from labelhub.labeling.models import Assignment, Judgment, Task
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(n, fn):
    """Run fn(i) in n threads released together; each thread closes its connection."""
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait()
            return fn(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(worker, range(n)))


@pytest.fixture
def labelers(campaign, make_user):
    users = [make_user(f"racer{i}") for i in range(12)]
    for user in users:
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
    return users


def test_it_never_exceeds_overlap_or_repeats_a_task_when_labelers_race(campaign, labelers, tasks):
    def label_until_empty(i):
        judged = []
        while (assignment := services.next_task(labeler=labelers[i])) is not None:
            services.judgment_submit(labeler=labelers[i], assignment_id=assignment.pk,
                                     data={"idempotency_key": f"k-{i}-{assignment.pk:08d}", "ranking": ranking_for(assignment)})
            judged.append(assignment.task_id)
        return judged

    results = run_at_once(len(labelers), label_until_empty)
    for judged in results:
        assert len(judged) == len(set(judged)), "a labeler got the same task twice"
    per_task = Counter(task_id for judged in results for task_id in judged)
    assert per_task == {t.id: campaign.overlap for t in tasks}
    assert Judgment.objects.count() == len(tasks) * campaign.overlap
    for task in Task.objects.all():
        assert (task.judgment_count, task.lease_count) == (campaign.overlap, 0)


def test_it_gives_the_last_slot_to_exactly_one_labeler(campaign, labelers, tasks):
    Task.objects.exclude(pk=tasks[0].pk).delete()
    Task.objects.update(overlap=1)
    got = run_at_once(len(labelers), lambda i: services.next_task(labeler=labelers[i]))
    assert sum(a is not None for a in got) == 1
    assert Assignment.objects.filter(state=Assignment.State.LEASED).count() == 1
    assert Task.objects.get().lease_count == 1


def test_it_makes_one_judgment_from_concurrent_retries_of_one_key(labeler, tasks):
    assignment = services.next_task(labeler=labeler)
    data = {"idempotency_key": "same-key-123", "ranking": ranking_for(assignment)}
    results = run_at_once(8, lambda i: services.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data=data))
    assert len({judgment.pk for judgment, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Judgment.objects.count() == 1
    assert Task.objects.get(pk=assignment.task_id).judgment_count == 1


def test_it_lets_one_labeler_in_two_tabs_hold_one_lease(labeler, tasks):
    got = run_at_once(6, lambda i: services.next_task(labeler=labeler))
    assert len({a.pk for a in got if a is not None}) == 1
    assert Assignment.objects.filter(labeler=labeler).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(lease_count) FROM labeling_task")
        assert cursor.fetchone()[0] == 1
