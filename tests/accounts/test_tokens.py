"""API tokens: one per user, obtained with a password or shown on the profile page, rotated
on request (the old one stops working at once)."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labelhub.accounts.services import token_get_or_create

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"  # make_user's default
# TokenAuthentication comes first in REST_FRAMEWORK and names itself in WWW-Authenticate.
REFUSED = 401


def with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_it_gives_a_token_for_a_username_and_password(lead):
    response = APIClient().post("/api/auth/token/", {"username": "lead", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=lead).key


def test_it_refuses_a_token_for_a_wrong_password(lead):
    response = APIClient().post("/api/auth/token/", {"username": "lead", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert not Token.objects.filter(user=lead).exists()


@pytest.mark.parametrize("role", ["lead", "labeler", "reviewer", "engineer", "outsider"])
def test_it_knows_who_a_token_belongs_to(api_as, users_by_role, role):
    users_by_role[role].email = f"{role}@example.com"
    users_by_role[role].save()
    response = api_as(users_by_role[role]).get("/api/me/")
    assert response.status_code == 200
    assert response.json() == {"username": role, "email": f"{role}@example.com"}


def test_it_refuses_anonymous_clients():
    response = APIClient().get("/api/me/")
    assert response.status_code == REFUSED
    assert response["WWW-Authenticate"] == "Token"
    assert APIClient().post("/api/me/token/").status_code == REFUSED


def test_it_refuses_an_unknown_token(lead):
    assert with_token("0" * 40).get("/api/me/").status_code == REFUSED


def test_it_refuses_the_token_of_an_inactive_user(lead):
    key = token_get_or_create(user=lead).key
    assert with_token(key).get("/api/me/").status_code == 200
    lead.is_active = False
    lead.save()
    response = with_token(key).get("/api/me/")
    assert response.status_code == REFUSED
    assert response.json()["detail"] == "User inactive or deleted."


def test_it_rotates_a_token(lead):
    old = token_get_or_create(user=lead).key
    response = with_token(old).post("/api/me/token/")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old
    assert Token.objects.get(user=lead).key == new
    assert with_token(old).get("/api/me/").status_code == REFUSED
    assert with_token(new).get("/api/me/").json()["username"] == "lead"


def test_it_rotates_only_on_post(lead):
    old = token_get_or_create(user=lead).key
    assert with_token(old).get("/api/me/token/").status_code == 405
    assert Token.objects.get(user=lead).key == old


def test_it_accepts_a_browser_session(lead):
    client = APIClient()
    client.force_login(lead)
    assert client.get("/api/me/").json()["username"] == "lead"


def test_it_requires_a_csrf_token_to_rotate_with_a_session(lead):
    old = token_get_or_create(user=lead).key
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(lead)
    response = client.post("/api/me/token/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Token.objects.get(user=lead).key == old


def test_it_shows_the_token_on_the_profile_page(client, lead):
    client.force_login(lead)
    response = client.get("/profile/")
    assert response.status_code == 200
    assert Token.objects.get(user=lead).key.encode() in response.content


def test_it_rotates_the_token_from_the_profile_page(client, lead):
    old = token_get_or_create(user=lead).key
    client.force_login(lead)
    response = client.post("/profile/token/")
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    new = Token.objects.get(user=lead).key
    assert new != old
    assert new.encode() in client.get("/profile/").content


def test_it_rotates_from_the_profile_page_only_on_post(client, lead):
    old = token_get_or_create(user=lead).key
    client.force_login(lead)
    assert client.get("/profile/token/").status_code == 405
    assert Token.objects.get(user=lead).key == old


def test_it_refuses_a_profile_rotation_without_a_csrf_token(lead):
    old = token_get_or_create(user=lead).key
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    assert client.post("/profile/token/").status_code == 403
    assert Token.objects.get(user=lead).key == old
