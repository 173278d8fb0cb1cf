"""/invitations/: the invited person sees what they were invited to and accepts (then they are
a member) or declines (then they are not); the campaign list and the labeling start page say
when invitations are waiting."""

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.models import Invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(campaign, lead):
    return services.invitation_create(campaign=campaign, invited_by=lead, name="outsider", by_email=False, role="labeler")


@pytest.fixture
def as_outsider(client, outsider):
    client.force_login(outsider)
    return client


def test_the_invitee_sees_it(as_outsider, invitation):
    html = as_outsider.get("/invitations/").content.decode()
    assert '<section class="card invitation" data-campaign="helpful">' in html
    assert "<h2>Helpful answers</h2>" in html and "<strong>labeler</strong>, invited by lead" in html
    assert f'action="/invitations/{invitation.pk}/accept/"' in html


def test_accepting_makes_a_member(as_outsider, invitation, campaign, outsider):
    response = as_outsider.post(f"/invitations/{invitation.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == "/label/"  # a labeler goes to their queue
    assert campaign.memberships.filter(user=outsider, role="labeler").exists()
    invitation.refresh_from_db()
    assert invitation.state == "accepted"
    assert "No invitations are waiting for you." in as_outsider.get("/invitations/").content.decode()


def test_accepting_another_role_leads_to_the_campaign(client, campaign, lead, outsider):
    invitation = services.invitation_create(campaign=campaign, invited_by=lead, name="outsider", by_email=False,
                                            role="reviewer")
    client.force_login(outsider)
    response = client.post(f"/invitations/{invitation.pk}/accept/")
    assert response["Location"] == "/campaigns/helpful/"


def test_declining_makes_no_member(as_outsider, invitation, campaign, outsider):
    response = as_outsider.post(f"/invitations/{invitation.pk}/decline/", follow=True)
    assert "You declined the invitation to Helpful answers." in response.content.decode()
    assert not campaign.memberships.filter(user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.state == "declined"
    assert as_outsider.post(f"/invitations/{invitation.pk}/accept/").status_code == 404
    assert not campaign.memberships.filter(user=outsider).exists()


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_someone_elses_invitation_is_not_found(client, invitation, campaign, labeler, answer):
    client.force_login(labeler)
    assert client.post(f"/invitations/{invitation.pk}/{answer}/").status_code == 404
    assert "Helpful answers" not in client.get("/invitations/").content.decode()
    invitation.refresh_from_db()
    assert invitation.state == "pending"


@pytest.mark.parametrize("path, method", [("/invitations/", "get"), ("/invitations/1/accept/", "post"),
                                          ("/invitations/1/decline/", "post")])
def test_anonymous_visitors_are_sent_to_sign_in(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_answers_are_posts(as_outsider, invitation):
    assert as_outsider.get(f"/invitations/{invitation.pk}/accept/").status_code == 405
    assert Invitation.objects.get().state == "pending"


@pytest.mark.parametrize("page", ["/campaigns/", "/label/"])
def test_the_start_pages_say_invitations_are_waiting(as_outsider, invitation, page):
    html = as_outsider.get(page).content.decode()
    assert 'An invitation is waiting for your answer: <a href="/invitations/">see it</a>.' in html


@pytest.mark.parametrize("page", ["/campaigns/", "/label/"])
def test_and_say_nothing_when_none_are(client, campaign, labeler, page):
    client.force_login(labeler)
    assert 'id="invitations-notice"' not in client.get(page).content.decode()


def test_a_campaign_name_is_escaped(client, lead, outsider):
    evil = services.campaign_create(user=lead, name="<script>alert(1)</script>", slug="evil")
    services.invitation_create(campaign=evil, invited_by=lead, name="outsider", by_email=False, role="labeler")
    client.force_login(outsider)
    html = client.get("/invitations/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
