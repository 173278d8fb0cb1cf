"""Who is asking, per request, in one prepared statement each.

Every request of a labeler authenticates: API calls with a token, the labeling page with its
session cookie (the session row, then the user). Django and DRF load these through the ORM,
building and compiling a queryset each time — ~1 ms of CPU per lookup in the labeling-queue
benchmark, more than the query itself. The classes here read the same rows with prepared
statements (``labelhub.core.db.prepared_cursor``) and build the model instances as the ORM
would (``Model.from_db``). The rules are Django's and DRF's, unchanged: unknown keys and
inactive users are refused with the same messages, expired sessions are empty.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.contrib.auth import backends, get_user_model
from django.contrib.sessions.backends import db as db_sessions
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from labelhub.core.db import prepared_cursor


@cache
def _user_select() -> tuple[list[str], str]:
    """The user model's field names and its columns as ``u.…``, in the same order."""
    meta = get_user_model()._meta
    names = [f.attname for f in meta.concrete_fields]
    columns = ", ".join(f"u.{connection.ops.quote_name(f.column)}" for f in meta.concrete_fields)
    return names, columns


def _user_from_row(values):
    names = _user_select()[0]
    return get_user_model().from_db(connection.alias, names, values)


def user_get(user_id):
    """The user with this primary key, or None."""
    columns = _user_select()[1]
    meta = get_user_model()._meta
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {meta.db_table} u WHERE u.{meta.pk.column} = %s", [user_id])
        row = cursor.fetchone()
    return None if row is None else _user_from_row(row)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; the token and its user in one query."""

    def authenticate_credentials(self, key):
        if "token" in settings.LABELHUB_STANDARD_PATHS:  # measuring only
            return super().authenticate_credentials(key)
        columns = _user_select()[1]
        meta = get_user_model()._meta
        with prepared_cursor() as cursor:
            cursor.execute(
                f"SELECT t.created, {columns} FROM {Token._meta.db_table} t "
                f"JOIN {meta.db_table} u ON u.{meta.pk.column} = t.user_id WHERE t.key = %s",
                [key],
            )
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        created, *values = row
        user = _user_from_row(values)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(connection.alias, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        return user, token


class ModelBackend(backends.ModelBackend):
    """Django's model backend; the signed-in user of a session loaded in one query."""

    def get_user(self, user_id):
        if "session" in settings.LABELHUB_STANDARD_PATHS:  # measuring only
            return super().get_user(user_id)
        user = user_get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class SessionStore(db_sessions.SessionStore):
    """Django's database sessions (same table, same data); the session row read in one query."""

    def _get_session_from_db(self):
        if "session" in settings.LABELHUB_STANDARD_PATHS:  # measuring only
            return super()._get_session_from_db()
        with prepared_cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {self.model._meta.db_table} "
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model.from_db(connection.alias, ["session_key", "session_data", "expire_date"],
                                  [self.session_key, *row])
