"""Browser sign-in with sessions: the login page, where it sends you, and which pages need it."""

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"  # make_user's default


def test_it_shows_the_login_form(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_it_signs_in_and_lands_on_the_campaign_list(client, lead):
    response = client.post("/login/", {"username": "lead", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302), ("/campaigns/", 302)]
    assert response.context["user"] == lead


def test_it_refuses_a_wrong_password(client, lead):
    response = client.post("/login/", {"username": "lead", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert">Your username and password didn' in response.content
    assert "_auth_user_id" not in client.session


def test_it_returns_to_the_page_asked_for(client, campaign):
    response = client.post("/login/", {"username": "reviewer", "password": PASSWORD, "next": "/campaigns/helpful/"})
    assert response.status_code == 302
    assert response["Location"] == "/campaigns/helpful/"


def test_it_ignores_a_next_url_on_another_site(client, lead):
    response = client.post("/login/", {"username": "lead", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_it_sends_a_signed_in_user_on(client, lead):
    client.force_login(lead)
    response = client.get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_signs_out(client, lead):
    client.force_login(lead)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/campaigns/").status_code == 302


@pytest.mark.parametrize(
    "url", ["/", "/campaigns/", "/campaigns/helpful/", "/campaigns/helpful/import/", "/profile/"]
)
def test_it_sends_anonymous_visitors_to_login(client, campaign, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"
