"""/api/campaigns/<slug>/invitations/: only leads list a campaign's invitations and revoke them."""

import pytest

from labelhub.campaigns import services
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/invitations/"


@pytest.fixture
def invitation(campaign, lead):
    return services.invitation_create(campaign=campaign, invited_by=lead, name="newcomer", by_email=False, role="labeler")


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lists_invitations_to_leads_only(client_as, invitation, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        [listed] = response.json()["results"]
        assert (listed["id"], listed["invitee"], listed["by"], listed["role"], listed["state"], listed["invited_by"]) == (
            invitation.pk, "newcomer", "username", "labeler", "pending", "lead")


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 204, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_revoke(client_as, invitation, role, status):
    response = client_as(role).delete(f"{URL}{invitation.pk}/")
    assert response.status_code == status
    invitation.refresh_from_db()
    assert invitation.state == ("revoked" if status == 204 else "pending")


def test_another_campaigns_invitation_is_not_found(client_as, campaign, other_campaign, outsider):
    elsewhere = services.invitation_create(campaign=other_campaign, invited_by=outsider, name="lead", by_email=False,
                                           role="labeler")
    assert client_as("lead").delete(f"{URL}{elsewhere.pk}/").status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.state == "pending"
