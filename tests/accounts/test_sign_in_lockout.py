"""Password guessing is limited per account and per address (django-axes): after
AXES_FAILURE_LIMIT failures, /login/, /api/auth/token/ and /admin/login/ answer 429 with a
message saying how long, and the right password is refused too — until the lock-out time
has passed since the last failure (the clock is moved by ageing the recorded attempts)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"  # make_user's default
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def login_page(client, username, password, ip="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def token(client, username, password, ip="10.0.0.1"):
    return client.post("/api/auth/token/", {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=ip)


def admin_login(client, username, password, ip="10.0.0.1"):
    return client.post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def move_clock(minutes):
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.mark.parametrize("sign_in, refused", [(login_page, 200), (token, 400), (admin_login, 200)])
def test_it_locks_an_account_out_after_the_limit_and_lets_it_in_after_the_wait(client, make_user, sign_in, refused):
    make_user("lead")
    for _ in range(LIMIT - 1):
        assert sign_in(client, "lead", "wrong").status_code == refused
    locked = sign_in(client, "lead", "wrong")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "Too many failed sign-ins" in locked.content.decode() and "15 minutes" in locked.content.decode()
    # from another address too, and with the right password: the account is locked
    assert sign_in(client, "lead", PASSWORD, ip="10.0.0.2").status_code == 429
    move_clock(14)
    assert sign_in(client, "lead", PASSWORD, ip="10.0.0.2").status_code == 429
    move_clock(16)
    assert sign_in(client, "lead", PASSWORD, ip="10.0.0.2").status_code in (200, 302)


def test_the_token_endpoint_answers_the_lockout_in_the_api_error_shape(client, make_user):
    make_user("lead")
    for _ in range(LIMIT):
        token(client, "lead", "wrong")
    response = token(client, "lead", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["errors"] == [] and "Try again in 15 minutes" in body["detail"]


def test_it_locks_an_address_out_whatever_the_usernames(client, make_user):
    make_user("lead")
    for i in range(LIMIT):
        login_page(client, f"guess-{i}", "wrong", ip="10.0.0.9")
    assert login_page(client, "lead", PASSWORD, ip="10.0.0.9").status_code == 429
    assert login_page(client, "lead", PASSWORD, ip="10.0.0.10").status_code == 302  # the account itself is fine


def test_the_failures_of_one_account_do_not_lock_another(client, make_user):
    make_user("lead")
    make_user("labeler")
    for _ in range(LIMIT):
        login_page(client, "labeler", "wrong", ip="10.0.0.3")
    assert login_page(client, "lead", PASSWORD, ip="10.0.0.4").status_code == 302
