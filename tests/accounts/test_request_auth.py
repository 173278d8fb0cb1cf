"""The per-request lookups (session row, session user) keep Django's rules."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from labelhub.accounts.authentication import ModelBackend, SessionStore, user_get

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


def test_the_session_store_loads_what_was_saved_and_nothing_for_unknown_keys():
    store = SessionStore()
    store["answer"] = 42
    store.create()
    assert SessionStore(session_key=store.session_key).load() == {"answer": 42}
    unknown = SessionStore(session_key="x" * 32)
    assert unknown.load() == {}
    assert unknown.session_key is None  # a new key will be made, as Django does


def test_the_backend_returns_active_users_only(lead):
    backend = ModelBackend()
    assert backend.get_user(lead.pk).username == "lead"
    assert backend.get_user(lead.pk + 1000) is None
    lead.is_active = False
    lead.save()
    assert backend.get_user(lead.pk) is None
    assert user_get(lead.pk).is_active is False
