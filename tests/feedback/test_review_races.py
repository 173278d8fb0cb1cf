"""Reviewers racing on one judgment, on the real PostgreSQL: every review is kept and the
history stays one chain (each review superseded at most once), whatever the timing. Two
send-backs of one task at once both count."""

import pytest

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add
from labelhub.feedback import services
from labelhub.feedback.models import Review
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment, Task
from tests.feedback.conftest import add_tasks, by_policy, judge_all
from tests.labeling.test_concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_reviews_of_one_judgment_form_one_chain(campaign, labeler, make_user):
    add_tasks(campaign, 1)
    judge_all(campaign, labeler, by_policy("good", "fair", "poor"))
    judgment = Judgment.objects.get()
    reviewers = [make_user(f"rev{i}") for i in range(6)]
    for user in reviewers:
        membership_add(campaign=campaign, user=user, role=Role.REVIEWER)

    run_at_once(6, lambda i: services.review_record(campaign=campaign, reviewer=reviewers[i], judgment_id=judgment.pk,
                                                    verdict="reject" if i % 2 else "accept", note=f"reviewer {i}"))
    reviews = list(Review.objects.order_by("id"))
    assert len(reviews) == 6
    assert [r.supersedes_id for r in reviews] == [None, *(r.pk for r in reviews[:-1])]  # one chain, in order


def test_racing_send_backs_both_add_their_overlap(campaign):
    add_tasks(campaign, 1)
    task = Task.objects.get()
    run_at_once(4, lambda i: labeling.task_send_back(campaign=campaign, task_id=task.pk, extra=2))
    assert Task.objects.get().overlap == task.overlap + 8
