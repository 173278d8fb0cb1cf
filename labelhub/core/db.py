"""Database helpers shared by the apps: a server-binding cursor, and jobs queued on Django's
own connection (so they commit or roll back with the caller's transaction)."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.contrib.django.settings import settings as procrastinate_settings
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager


# hand-written, for the labeler's hot path: 1.6× the ORM's throughput (docs/benchmarks.md,
# "Framework internals against the standard paths")
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
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


def job_defer(task_name: str, **task_kwargs) -> int:
    """Queue a job of the task registered as ``task_name`` (its queue, priority and retry as
    declared there) and return the job id. The job row is written on Django's connection:
    inside ``transaction.atomic`` it is committed or rolled back with everything else.

    Deferring by name lets a lower module ask for follow-up work without importing the module
    that does it (``tasks.py`` sits on top of its app). Unknown names raise
    ``procrastinate.exceptions.TaskNotFound``. ``task.defer()`` is not used because a worker
    (``manage.py procrastinate worker``) swaps the app's connector for its own pool, and a job
    deferred from inside another job would then be committed at once, outside the transaction.
    """
    declared = app.configure_task(task_name, allow_unknown=False)
    on_django = JobManager(DjangoConnector(alias=procrastinate_settings.DATABASE_ALIAS))
    return JobDeferrer(job_manager=on_django, job=declared.job).defer(**task_kwargs)
