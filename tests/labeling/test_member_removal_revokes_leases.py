"""Removing a labeler (or changing their role) revokes their live leases at once: the tasks go
back to the queue, and a late submit or skip on such a lease is refused."""

import pytest

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add
from labelhub.labeling import services
from labelhub.labeling.models import Assignment, Judgment, Task
from tests.api_errors import error_fields
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db

MEMBERS = "/api/campaigns/helpful/members/"


@pytest.fixture
def held(labeler, tasks):
    """The labeler's two live leases: the task on screen and the prefetched one."""
    first = services.next_task(labeler=labeler)
    second = services.next_task(labeler=labeler, holding=first.task_id)
    assert first.task_id != second.task_id
    return [first, second]


def submit(api_as, user, assignment, key="key-late-0001"):
    body = {"idempotency_key": key, "ranking": ranking_for(assignment)}
    return api_as(user).post(f"/api/labeling/assignments/{assignment.pk}/submit/", body, format="json")


def remove(api_as, lead, campaign, user, role=Role.LABELER):
    membership = campaign.memberships.get(user=user, role=role)
    assert api_as(lead).delete(f"{MEMBERS}{membership.pk}/").status_code == 204


def test_removal_puts_the_tasks_back_in_the_queue(api_as, lead, campaign, labeler, held):
    remove(api_as, lead, campaign, labeler)
    for lease in held:
        lease.refresh_from_db()
        assert lease.state == Assignment.State.REVOKED and lease.closed_at is not None
        assert Task.objects.get(pk=lease.task_id).lease_count == 0


def test_a_late_submit_or_skip_is_refused_and_writes_nothing(api_as, lead, campaign, labeler, held):
    remove(api_as, lead, campaign, labeler)
    response = submit(api_as, labeler, held[0])
    assert response.status_code == 403
    assert "no longer a labeler" in response.json()["detail"]
    skip = api_as(labeler).post(f"/api/labeling/assignments/{held[1].pk}/skip/", {"reason": "gone"}, format="json")
    assert skip.status_code == 403
    assert Judgment.objects.count() == 0
    assert set(Assignment.objects.values_list("state", flat=True)) == {Assignment.State.REVOKED}
    assert api_as(labeler).post("/api/labeling/next/").status_code == 204


def test_another_labeler_gets_the_revoked_task(api_as, lead, campaign, labeler, make_user, tasks):
    Task.objects.update(overlap=1)  # one judgment each: a held task is nobody else's
    mine = services.next_task(labeler=labeler)
    other = make_user("other")
    membership_add(campaign=campaign, user=other, role=Role.LABELER)
    Task.objects.exclude(pk=mine.task_id).update(judgment_count=1)  # only the held task is left
    assert services.next_task(labeler=other) is None
    remove(api_as, lead, campaign, labeler)
    assert services.next_task(labeler=other).task_id == mine.task_id


def test_changing_a_labelers_role_revokes_too(api_as, lead, campaign, labeler, held):
    membership = campaign.memberships.get(user=labeler)
    response = api_as(lead).patch(f"{MEMBERS}{membership.pk}/", {"role": "reviewer"}, format="json")
    assert response.status_code == 200
    assert set(Assignment.objects.values_list("state", flat=True)) == {Assignment.State.REVOKED}
    assert submit(api_as, labeler, held[0]).status_code == 403


def test_taking_another_role_leaves_the_leases_of_a_labeler_alone(api_as, lead, campaign, labeler, held):
    membership_add(campaign=campaign, user=labeler, role=Role.REVIEWER)
    remove(api_as, lead, campaign, labeler, role=Role.REVIEWER)
    assert set(Assignment.objects.values_list("state", flat=True)) == {Assignment.State.LEASED}
    assert submit(api_as, labeler, held[0]).status_code == 201


def test_a_labeler_who_comes_back_cannot_answer_a_revoked_lease(api_as, lead, campaign, labeler, held):
    remove(api_as, lead, campaign, labeler)
    membership_add(campaign=campaign, user=labeler, role=Role.LABELER)
    response = submit(api_as, labeler, held[0])
    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]
    assert error_fields(response) == set()
    # they never see that task again, and can take others
    assert services.next_task(labeler=labeler).task_id not in {lease.task_id for lease in held}


def test_a_retry_of_an_answer_recorded_before_removal_still_gets_it(api_as, lead, campaign, labeler, held):
    first = submit(api_as, labeler, held[0], key="key-before-01")
    assert first.status_code == 201
    remove(api_as, lead, campaign, labeler)
    again = submit(api_as, labeler, held[0], key="key-before-01")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # a correction, though, is an answer of a labeler, which they no longer are
    correction = {"idempotency_key": "key-correct-1", "ranking": ranking_for(held[0]), "corrects": first.json()["id"]}
    response = api_as(labeler).post(f"/api/labeling/assignments/{held[0].pk}/submit/", correction, format="json")
    assert response.status_code == 403
    assert Judgment.objects.count() == 1


def test_only_this_campaigns_leases_are_revoked(api_as, lead, campaign, labeler, tasks):
    from labelhub.campaigns.models import Campaign
    from labelhub.campaigns.services import campaign_create
    from tests.labeling.conftest import add_prompts

    other = campaign_create(user=lead, name="Harmless", slug="harmless", completions_per_task=3, overlap=2,
                            status=Campaign.Status.ACTIVE)
    membership_add(campaign=other, user=labeler, role=Role.LABELER)
    add_prompts(other, 2)
    services.tasks_create(campaign=other)
    here = services.next_task(labeler=labeler, campaign=campaign)
    there = services.next_task(labeler=labeler, campaign=other)
    remove(api_as, lead, campaign, labeler)
    here.refresh_from_db()
    there.refresh_from_db()
    assert (here.state, there.state) == (Assignment.State.REVOKED, Assignment.State.LEASED)
    assert submit(api_as, labeler, there).status_code == 201


def test_a_lease_left_by_a_removal_outside_the_services_is_never_handed_back(labeler, campaign, tasks):
    """Memberships deleted elsewhere (the admin) leave leases behind: next_task does not
    return them, and submitting them is refused."""
    lease = services.next_task(labeler=labeler)
    campaign.memberships.filter(user=labeler).delete()
    assert services.next_task(labeler=labeler) is None
    with pytest.raises(services.NotALabeler):
        services.judgment_submit(labeler=labeler, assignment_id=lease.pk,
                                 data={"idempotency_key": "key-admin-01", "ranking": ranking_for(lease)})


def test_a_removed_labeler_can_no_longer_reopen_a_lease(api_as, lead, campaign, labeler, held):
    """The undo view (GET …/assignments/<id>/) shows the task's content: not to someone who left."""
    url = f"/api/labeling/assignments/{held[0].pk}/"
    assert api_as(labeler).get(url).status_code == 200
    remove(api_as, lead, campaign, labeler)
    assert api_as(labeler).get(url).status_code == 404
