"""Who a browser's session signs in: its user while the session lives and the user is active."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_session_signs_its_user_in(lead):
    response = signed_in(lead).get("/api/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "lead"


def test_an_expired_session_is_anonymous(lead):
    client = signed_in(lead)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/me/").status_code in (401, 403)
    assert client.get("/campaigns/").status_code == 302  # to the login page


def test_a_session_of_a_deactivated_user_is_anonymous(lead):
    client = signed_in(lead)
    lead.is_active = False
    lead.save()
    assert client.get("/api/me/").status_code in (401, 403)
