"""A removal racing the labeler's next-task request: the lease taken meanwhile is revoked too
(removal waits on the per-labeler lock that next_task holds), never left live for a non-member."""

import threading

import pytest
from django.db import connections, transaction

from labelhub.campaigns.models import Membership
from labelhub.labeling import services
from labelhub.labeling.models import Assignment, Task

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lease_taken_while_the_member_is_removed_is_revoked(campaign, labeler, tasks):
    leased, release = threading.Event(), threading.Event()
    removal_done = threading.Event()

    def labeler_asks():
        try:
            with transaction.atomic():
                assert services.next_task(labeler=labeler) is not None
                leased.set()
                release.wait(10)  # still uncommitted, the per-labeler lock held
        finally:
            connections.close_all()

    def lead_removes():
        try:
            services.member_remove(membership=Membership.objects.get(campaign=campaign, user=labeler))
            removal_done.set()
        finally:
            connections.close_all()

    asking = threading.Thread(target=labeler_asks)
    asking.start()
    assert leased.wait(10)
    removing = threading.Thread(target=lead_removes)
    removing.start()
    assert not removal_done.wait(1), "the removal should wait for the lease being taken"
    release.set()
    asking.join(10)
    removing.join(10)
    assert removal_done.is_set()
    assert list(Assignment.objects.values_list("state", flat=True)) == [Assignment.State.REVOKED]
    assert sum(Task.objects.values_list("lease_count", flat=True)) == 0
