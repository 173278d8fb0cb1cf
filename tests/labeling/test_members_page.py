"""/campaigns/<slug>/members/: a lead's page to invite (by username or e-mail, with a role),
change a role, remove a member and revoke an invitation; it shows each member's role,
judgments and last activity. Everyone else is refused, and refused requests change nothing."""

import pytest

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import Invitation, Membership
from labelhub.labeling import services
from labelhub.labeling.models import Assignment
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db

URL = "/campaigns/helpful/members/"
REFUSED = [("labeler", 403), ("reviewer", 403), ("engineer", 403), ("outsider", 404), ("anonymous", 302)]


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        if role in users_by_role:
            client.force_login(users_by_role[role])
        return client

    return make


def row(html: str, username: str, role: str) -> str:
    start = html.index(f'<tr data-member="{username}" data-role="{role}">')
    return html[start:html.index("</tr>", start)]


@pytest.mark.parametrize("role, status", [("lead", 200), *REFUSED])
def test_only_leads_see_the_page(page_as, campaign, role, status):
    response = page_as(role).get(URL)
    assert response.status_code == status
    if role == "anonymous":
        assert response["Location"] == f"/login/?next={URL}"


def test_it_shows_each_members_role_judgments_and_last_activity(page_as, campaign, labeler, tasks):
    lease = services.next_task(labeler=labeler)
    services.judgment_submit(labeler=labeler, assignment_id=lease.pk,
                             data={"idempotency_key": "key-page-0001", "ranking": ranking_for(lease)})
    html = page_as("lead").get(URL).content.decode()
    mine = row(html, "labeler", "labeler")
    assert '<td data-field="judgments">1</td>' in mine
    assert "<time datetime=" in mine.split('data-field="last-activity"')[1]
    assert '<option value="labeler" selected>' in mine
    engineer = row(html, "engineer", "engineer")
    assert '<td data-field="judgments">0</td>' in engineer and "none" in engineer


def test_a_lead_invites_and_nobody_is_enrolled(page_as, campaign, outsider):
    response = page_as("lead").post(f"{URL}invite/", {"username": "outsider", "role": "reviewer"}, follow=True)
    assert response.status_code == 200
    assert "Invited outsider as reviewer" in response.content.decode()
    assert not campaign.memberships.filter(user=outsider).exists()
    invitation = Invitation.objects.get()
    assert (invitation.invitee_name, invitation.role, invitation.state) == ("outsider", "reviewer", "pending")
    assert 'data-invitee="outsider" data-state="pending"' in response.content.decode()


def test_an_invitation_to_no_account_reads_the_same(page_as, campaign, outsider):
    said = []
    for name in ("outsider", "nobody"):
        response = page_as("lead").post(f"{URL}invite/", {"username": name, "role": "labeler"}, follow=True)
        [message] = [str(m) for m in response.context["messages"]]
        said.append(message.replace(name, "<name>"))
    assert said[0] == said[1]


@pytest.mark.parametrize("form, field", [
    ({"role": "labeler"}, "username"),
    ({"email": "not an address", "role": "labeler"}, "email"),
    ({"username": "outsider", "role": "owner"}, "role"),
])
def test_a_bad_invitation_shows_the_error_next_to_its_field(page_as, campaign, form, field):
    response = page_as("lead").post(f"{URL}invite/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<span class="field-error" id="{field}-error">' in html
    assert f'aria-describedby="{field}-error"' in html
    assert not Invitation.objects.exists()


def test_a_lead_changes_a_role_and_the_leases_go(page_as, campaign, labeler, tasks):
    lease = services.next_task(labeler=labeler)
    membership = campaign.memberships.get(user=labeler)
    response = page_as("lead").post(f"{URL}{membership.pk}/role/", {"role": "reviewer"}, follow=True)
    assert "labeler is now reviewer here." in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "reviewer"
    lease.refresh_from_db()
    assert lease.state == Assignment.State.REVOKED


def test_a_lead_removes_a_member(page_as, campaign, labeler):
    membership = campaign.memberships.get(user=labeler)
    response = page_as("lead").post(f"{URL}{membership.pk}/remove/", follow=True)
    assert "labeler is no longer labeler here." in response.content.decode()
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_lead_cannot_leave_or_change_role(page_as, campaign, lead):
    own = campaign.memberships.get(user=lead)
    html = page_as("lead").post(f"{URL}{own.pk}/remove/", follow=True).content.decode()
    assert "A campaign needs at least one lead" in html
    html = page_as("lead").post(f"{URL}{own.pk}/role/", {"role": "labeler"}, follow=True).content.decode()
    assert "A campaign needs at least one lead" in html
    own.refresh_from_db()
    assert own.role == "lead"


def test_a_lead_revokes_an_invitation(page_as, campaign, lead):
    invitation = campaign_services.invitation_create(campaign=campaign, invited_by=lead, name="newcomer",
                                                     by_email=False, role="labeler")
    response = page_as("lead").post(f"/campaigns/helpful/invitations/{invitation.pk}/revoke/", follow=True)
    assert "The invitation to newcomer is revoked." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.state == "revoked"


@pytest.mark.parametrize("role, status", REFUSED)
def test_others_cannot_invite_change_remove_or_revoke(page_as, campaign, lead, labeler, role, status):
    invitation = campaign_services.invitation_create(campaign=campaign, invited_by=lead, name="newcomer",
                                                     by_email=False, role="labeler")
    membership = campaign.memberships.get(user=labeler)
    client = page_as(role)
    posts = [
        (f"{URL}invite/", {"username": "someone", "role": "lead"}),
        (f"{URL}{membership.pk}/role/", {"role": "lead"}),
        (f"{URL}{membership.pk}/remove/", {}),
        (f"/campaigns/helpful/invitations/{invitation.pk}/revoke/", {}),
    ]
    for path, form in posts:
        response = client.post(path, form)
        assert response.status_code == status, path
    membership.refresh_from_db()
    assert membership.role == "labeler"
    assert list(Invitation.objects.values_list("invitee_name", "state")) == [("newcomer", "pending")]


def test_another_campaigns_member_is_not_found(page_as, campaign, outsider):
    other_campaign = campaign_services.campaign_create(user=outsider, name="Someone else's", slug="elsewhere")
    theirs = other_campaign.memberships.get(user=outsider)
    assert page_as("lead").post(f"{URL}{theirs.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_names_are_escaped(page_as, campaign, lead):
    campaign_services.invitation_create(campaign=campaign, invited_by=lead, name="<img src=x onerror=alert(1)>",
                                        by_email=False, role="labeler")
    html = page_as("lead").get(URL).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("role, sees", [("lead", True), ("reviewer", False), ("engineer", False), ("labeler", False)])
def test_the_campaign_page_links_to_it_for_leads(page_as, campaign, role, sees):
    html = page_as(role).get("/campaigns/helpful/").content.decode()
    assert ('href="/campaigns/helpful/members/"' in html) == sees
