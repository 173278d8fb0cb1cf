"""Where signing in lands, by role, and the site's icon (no page 404s it)."""

import pytest
from django.contrib.staticfiles import finders

from labelhub.campaigns import services
from labelhub.campaigns.models import Role

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"  # make_user's default


def test_a_labeler_lands_on_their_queue(client, campaign):
    response = client.post("/login/", {"username": "labeler", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302), ("/label/", 302)]


@pytest.mark.parametrize("username", ["lead", "reviewer", "engineer"])
def test_everyone_else_lands_on_the_campaign_list(client, campaign, username):
    response = client.post("/login/", {"username": username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302), ("/campaigns/", 302)]


def test_a_labeler_who_is_also_an_engineer_lands_on_the_campaign_list(client, campaign, labeler):
    services.membership_add(campaign=campaign, user=labeler, role=Role.ENGINEER)
    response = client.post("/login/", {"username": "labeler", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1] == ("/campaigns/", 302)


def test_someone_in_no_campaign_lands_on_the_campaign_list(client, outsider):
    response = client.post("/login/", {"username": "outsider", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302), ("/campaigns/", 302)]


def test_pages_name_an_icon_that_exists_and_favicon_ico_leads_to_it(client, lead):
    client.force_login(lead)
    page = client.get("/campaigns/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page
    assert finders.find("css/favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("css/favicon.svg")
