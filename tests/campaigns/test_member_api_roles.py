"""/api/campaigns/<slug>/members/: leads, reviewers and engineers list members; only leads
invite (POST — nobody joins until they accept), change a role (PATCH) or remove one (DELETE)."""

import pytest

from labelhub.campaigns.models import Invitation, Membership
from tests.api_errors import error_fields
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/members/"


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON}),
)
def test_it_lists_members_to_leads_reviewers_and_engineers(client_as, campaign, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        listed = {(m["username"], m["role"]) for m in response.json()["results"]}
        assert listed == {("lead", "lead"), ("labeler", "labeler"), ("reviewer", "reviewer"), ("engineer", "engineer")}
        assert all(m["judgments"] == 0 and m["last_activity"] is None for m in response.json()["results"])


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 202, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_invite_and_invitations_enrol_nobody(client_as, campaign, make_user, role, status):
    newcomer = make_user("newcomer")
    response = client_as(role).post(URL, {"username": "newcomer", "role": "labeler"}, format="json")
    assert response.status_code == status
    assert not campaign.memberships.filter(user=newcomer).exists()  # not even for a lead: consent first
    assert Invitation.objects.filter(campaign=campaign, invitee_name="newcomer").exists() == (status == 202)


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 204, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_remove_members(client_as, campaign, labeler, role, status):
    membership = campaign.memberships.get(user=labeler)
    response = client_as(role).delete(f"{URL}{membership.id}/")
    assert response.status_code == status
    assert Membership.objects.filter(pk=membership.pk).exists() == (status != 204)


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_change_a_role(client_as, campaign, labeler, role, status):
    membership = campaign.memberships.get(user=labeler)
    response = client_as(role).patch(f"{URL}{membership.id}/", {"role": "reviewer"}, format="json")
    assert response.status_code == status
    membership.refresh_from_db()
    assert membership.role == ("reviewer" if status == 200 else "labeler")
    if status == 200:
        assert (response.json()["username"], response.json()["role"]) == ("labeler", "reviewer")


def test_a_role_the_member_already_holds_merges_into_one_membership(client_as, campaign, reviewer):
    from labelhub.campaigns.services import membership_add

    second = membership_add(campaign=campaign, user=reviewer, role="labeler")
    response = client_as("lead").patch(f"{URL}{second.id}/", {"role": "reviewer"}, format="json")
    assert response.status_code == 200
    assert list(campaign.memberships.filter(user=reviewer).values_list("role", flat=True)) == ["reviewer"]


def test_it_refuses_put(client_as, campaign, labeler):
    membership = campaign.memberships.get(user=labeler)
    response = client_as("lead").put(f"{URL}{membership.id}/", {"role": "reviewer"}, format="json")
    assert response.status_code == 405


def test_the_last_lead_keeps_the_role(client_as, campaign, lead):
    own = campaign.memberships.get(user=lead)
    response = client_as("lead").patch(f"{URL}{own.id}/", {"role": "labeler"}, format="json")
    assert response.status_code == 409
    own.refresh_from_db()
    assert own.role == "lead"


def test_it_names_the_field_when_the_role_is_unknown(client_as, campaign, outsider):
    response = client_as("lead").post(URL, {"username": "outsider", "role": "owner"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"role"}
    assert not Invitation.objects.exists()


def test_it_names_the_field_when_a_new_role_is_unknown(client_as, campaign, labeler):
    membership = campaign.memberships.get(user=labeler)
    response = client_as("lead").patch(f"{URL}{membership.id}/", {"role": "owner"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"role"}
    membership.refresh_from_db()
    assert membership.role == "labeler"


@pytest.mark.parametrize("body, field", [
    ({"role": "labeler"}, "username"),  # neither
    ({"username": "  ", "role": "labeler"}, "username"),
    ({"username": "outsider", "email": "o@example.com", "role": "labeler"}, "email"),  # both
    ({"email": "not an address", "role": "labeler"}, "email"),
    ({"username": "x" * 151, "role": "labeler"}, "username"),
])
def test_it_wants_a_username_or_an_email_address(client_as, campaign, body, field):
    response = client_as("lead").post(URL, body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert not Invitation.objects.exists()


def test_inviting_a_member_to_a_role_they_hold_changes_nothing(client_as, campaign, labeler):
    response = client_as("lead").post(URL, {"username": "labeler", "role": "labeler"}, format="json")
    assert response.status_code == 202
    assert not Invitation.objects.exists()
    assert campaign.memberships.filter(user=labeler, role="labeler").count() == 1


def test_inviting_twice_keeps_one_pending_invitation(client_as, campaign, outsider):
    for _ in range(2):
        assert client_as("lead").post(URL, {"username": "outsider", "role": "labeler"}, format="json").status_code == 202
    assert Invitation.objects.filter(state="pending").count() == 1
