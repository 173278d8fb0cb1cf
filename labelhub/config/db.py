"""Database helpers shared by the apps."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


@contextmanager
def prepared_cursor():
    """A cursor that binds parameters on the server, so that psycopg prepares a statement run
    often on one connection (its fifth run onwards) and PostgreSQL stops re-planning it.

    Django's cursors bind on the client (each query is new text to plan), which is right for
    the ORM's ad-hoc queries. The labeler's hot path runs a handful of fixed statements per
    request whose planning cost more than their execution (the next-task query: ~1.4 ms to
    plan, ~0.3 ms to run); with the connection pool the prepared plans last. One statement
    per ``execute``. Wrapped like Django's own cursors: errors are Django's, and tests that
    count queries see these ones.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor
