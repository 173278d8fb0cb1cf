"""Joining takes consent: a lead's invitation waits in the invitee's account
(/api/invitations/) until they accept (then they are a member) or decline (then they are not)."""

import pytest

from labelhub.campaigns.models import Invitation
from tests.campaigns.conftest import ANON

pytestmark = pytest.mark.django_db

MEMBERS = "/api/campaigns/helpful/members/"


@pytest.fixture
def invite(client_as, campaign):
    def invite(role="labeler", **who):
        response = client_as("lead").post(MEMBERS, {**who, "role": role}, format="json")
        assert response.status_code == 202, response.content
        return response

    return invite


def pending_for(api_as, user):
    response = api_as(user).get("/api/invitations/")
    assert response.status_code == 200
    return response.json()["results"]


def test_the_invitee_sees_the_invitation_and_is_no_member_until_accepting(invite, api_as, campaign, outsider):
    invite(username="outsider", role="reviewer")
    [mine] = pending_for(api_as, outsider)
    assert (mine["campaign"], mine["campaign_name"], mine["role"], mine["invited_by"]) == (
        "helpful", "Helpful answers", "reviewer", "lead")
    assert not campaign.memberships.filter(user=outsider).exists()
    assert api_as(outsider).get("/api/campaigns/helpful/").status_code == 404

    response = api_as(outsider).post(f"/api/invitations/{mine['id']}/accept/")
    assert response.status_code == 200
    assert response.json() == {"id": mine["id"], "state": "accepted", "campaign": "helpful", "role": "reviewer"}
    assert set(campaign.memberships.filter(user=outsider).values_list("role", flat=True)) == {"reviewer"}
    assert api_as(outsider).get("/api/campaigns/helpful/").status_code == 200
    assert pending_for(api_as, outsider) == []
    invitation = Invitation.objects.get()
    assert (invitation.state, invitation.invitee, invitation.answered_at is not None) == ("accepted", outsider, True)


def test_declining_enrols_nobody_and_the_lead_sees_it(invite, api_as, client_as, campaign, outsider):
    invite(username="outsider")
    [mine] = pending_for(api_as, outsider)
    response = api_as(outsider).post(f"/api/invitations/{mine['id']}/decline/")
    assert response.status_code == 200 and response.json()["state"] == "declined"
    assert not campaign.memberships.filter(user=outsider).exists()
    [seen] = client_as("lead").get("/api/campaigns/helpful/invitations/").json()["results"]
    assert (seen["invitee"], seen["state"]) == ("outsider", "declined")


def test_an_answered_invitation_cannot_be_answered_again(invite, api_as, campaign, outsider):
    invite(username="outsider")
    [mine] = pending_for(api_as, outsider)
    assert api_as(outsider).post(f"/api/invitations/{mine['id']}/decline/").status_code == 200
    assert api_as(outsider).post(f"/api/invitations/{mine['id']}/accept/").status_code == 404
    assert not campaign.memberships.filter(user=outsider).exists()


def test_nobody_else_can_see_or_answer_it(invite, api_as, campaign, outsider, make_user):
    invite(username="outsider")
    invitation = Invitation.objects.get()
    stranger = make_user("stranger")
    assert pending_for(api_as, stranger) == []
    for answer in ("accept", "decline"):
        response = api_as(stranger).post(f"/api/invitations/{invitation.pk}/{answer}/")
        assert response.status_code == 404
    assert not campaign.memberships.filter(user=stranger).exists()
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_a_revoked_invitation_can_no_longer_be_accepted(invite, api_as, client_as, campaign, outsider):
    invite(username="outsider")
    invitation = Invitation.objects.get()
    assert client_as("lead").delete(f"/api/campaigns/helpful/invitations/{invitation.pk}/").status_code == 204
    assert pending_for(api_as, outsider) == []
    assert api_as(outsider).post(f"/api/invitations/{invitation.pk}/accept/").status_code == 404
    assert not campaign.memberships.filter(user=outsider).exists()
    # revoking twice is a conflict, and changes nothing
    assert client_as("lead").delete(f"/api/campaigns/helpful/invitations/{invitation.pk}/").status_code == 409
    invitation.refresh_from_db()
    assert invitation.state == "revoked"


def test_an_invitation_by_email_reaches_the_account_with_that_address(invite, api_as, campaign, outsider):
    outsider.email = "Out.Sider@Example.org"
    outsider.save()
    invite(email="out.sider@example.ORG")
    [mine] = pending_for(api_as, outsider)
    assert api_as(outsider).post(f"/api/invitations/{mine['id']}/accept/").status_code == 200
    assert campaign.memberships.filter(user=outsider, role="labeler").exists()


def test_an_invitation_to_a_name_without_an_account_reaches_the_account_made_later(invite, api_as, make_user):
    invite(username="newcomer")
    newcomer = make_user("newcomer")
    [mine] = pending_for(api_as, newcomer)
    assert mine["campaign"] == "helpful"


def test_a_member_can_be_invited_to_a_second_role(invite, api_as, campaign, labeler):
    invite(username="labeler", role="reviewer")
    [mine] = pending_for(api_as, labeler)
    assert api_as(labeler).post(f"/api/invitations/{mine['id']}/accept/").status_code == 200
    assert set(campaign.memberships.filter(user=labeler).values_list("role", flat=True)) == {"labeler", "reviewer"}


def test_anonymous_callers_get_401(client_as, campaign):
    anonymous = client_as("anonymous")
    assert anonymous.get("/api/invitations/").status_code == ANON
    assert anonymous.post("/api/invitations/1/accept/").status_code == ANON
    assert anonymous.post("/api/invitations/1/decline/").status_code == ANON


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999"])
def test_an_id_that_is_no_number_or_too_large_is_a_404(api_as, outsider, pk):
    assert api_as(outsider).post(f"/api/invitations/{pk}/accept/").status_code == 404


def test_a_stale_answer_is_a_conflict(campaign, lead, outsider):
    """Two answers at once (two tabs): the second finds the invitation answered and changes nothing."""
    from labelhub.campaigns import services

    invitation = services.invitation_create(campaign=campaign, invited_by=lead, name="outsider", by_email=False,
                                            role="labeler")
    services.invitation_decline(invitation=invitation, user=outsider)
    with pytest.raises(services.InvitationClosed, match="already declined"):
        services.invitation_accept(invitation=invitation, user=outsider)
    assert not campaign.memberships.filter(user=outsider).exists()
