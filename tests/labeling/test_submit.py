from datetime import timedelta

import pytest
from django.utils import timezone

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import campaign_update, membership_add
from labelhub.labeling import services
from labelhub.labeling.models import Assignment, Judgment, Task
from labelhub.labeling.validation import JudgmentInvalid
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db


def submit(labeler, assignment, key="key-00000001", **data):
    data.setdefault("ranking", ranking_for(assignment))
    return services.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data={"idempotency_key": key, **data})


def test_it_writes_the_judgment_closes_the_lease_and_counts_it(campaign, labeler, tasks):
    assignment = services.next_task(labeler=labeler)
    a, b, c = assignment.display_order
    judgment, created = submit(labeler, assignment, ranking=[[b], [a, c]], rationale="b is right", time_spent_ms=4200)
    assert created
    assert judgment.ranking == [[b], [a, c]]
    assert judgment.display_order == assignment.display_order
    assert judgment.guideline_version == campaign.guidelines_version
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.SUBMITTED
    task = Task.objects.get(pk=assignment.task_id)
    assert (task.judgment_count, task.lease_count) == (1, 0)


def test_it_returns_the_first_judgment_on_a_retry_with_the_same_key(labeler, tasks):
    assignment = services.next_task(labeler=labeler)
    first, created = submit(labeler, assignment)
    again, created_again = submit(labeler, assignment)
    assert created and not created_again
    assert again.pk == first.pk
    assert Judgment.objects.count() == 1
    assert Task.objects.get(pk=assignment.task_id).judgment_count == 1


def test_it_refuses_a_key_reused_for_another_task(labeler, tasks):
    first = services.next_task(labeler=labeler)
    submit(labeler, first)
    second = services.next_task(labeler=labeler)
    with pytest.raises(services.LabelingConflict, match="another task"):
        submit(labeler, second)


def test_it_refuses_someone_elses_lease(campaign, labeler, make_user, tasks):
    other = make_user("other")
    membership_add(campaign=campaign, user=other, role=Role.LABELER)
    assignment = services.next_task(labeler=labeler)
    with pytest.raises(services.NotFound):
        submit(other, assignment)
    assert Judgment.objects.count() == 0


def test_it_accepts_a_late_answer_while_the_slot_is_still_free(labeler, tasks):
    assignment = services.next_task(labeler=labeler)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    services.leases_expire()
    judgment, created = submit(labeler, assignment)
    assert created
    assert Task.objects.get(pk=assignment.task_id).judgment_count == 1


def test_it_refuses_an_expired_lease_handed_to_someone_else(campaign, labeler, make_user, tasks):
    Task.objects.update(overlap=1)
    assignment = services.next_task(labeler=labeler)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    other = make_user("other")
    membership_add(campaign=campaign, user=other, role=Role.LABELER)
    taken = services.next_task(labeler=other)
    assert taken.task_id == assignment.task_id
    with pytest.raises(services.LabelingConflict, match="went to another labeler"):
        submit(labeler, assignment)
    assert Judgment.objects.count() == 0


def test_it_appends_a_correction_without_counting_it_twice(labeler, tasks):
    assignment = services.next_task(labeler=labeler)
    first, _ = submit(labeler, assignment)
    with pytest.raises(services.LabelingConflict, match="corrects"):
        submit(labeler, assignment, key="key-00000002")
    reversed_ranking = list(reversed(ranking_for(assignment)))
    correction, created = submit(labeler, assignment, key="key-00000003", ranking=reversed_ranking, corrects=first.pk)
    assert created and correction.supersedes_id == first.pk
    first.refresh_from_db()
    assert first.ranking == ranking_for(assignment)  # nothing overwritten
    assert Task.objects.get(pk=assignment.task_id).judgment_count == 1


def test_it_records_the_guideline_version_in_force(campaign, labeler, tasks):
    campaign_update(campaign=campaign, guidelines="New rules")
    assignment = services.next_task(labeler=labeler)
    judgment, _ = submit(labeler, assignment)
    assert judgment.guideline_version == 2


def test_it_skips_with_a_reason_and_frees_the_slot(labeler, tasks):
    assignment = services.next_task(labeler=labeler)
    with pytest.raises(JudgmentInvalid, match="reason"):
        services.assignment_skip(labeler=labeler, assignment_id=assignment.pk, reason="  ")
    services.assignment_skip(labeler=labeler, assignment_id=assignment.pk, reason="needs medical expertise")
    assignment.refresh_from_db()
    assert (assignment.state, assignment.skip_reason) == (Assignment.State.SKIPPED, "needs medical expertise")
    assert Task.objects.get(pk=assignment.task_id).lease_count == 0
    assert services.next_task(labeler=labeler).task_id != assignment.task_id
