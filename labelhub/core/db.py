"""Database helpers shared by the apps: a server-binding cursor, many rows written with one
COPY, and jobs queued on Django's own connection (so they commit or roll back with the
caller's transaction)."""

from __future__ import annotations

from collections.abc import Iterable
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


def copy_rows(model, names: list[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` (tuples of the fields ``names``) into ``model``'s table with one COPY;
    return how many. On the caller's connection and in its transaction.

    For large imports: ``bulk_create`` spent ~0.4 ms a row building and binding one huge
    INSERT (100,000 prompts: most of a minute). Every other field takes its model default,
    prepared once as ``bulk_create`` prepares it (``pre_save``: ``auto_now_add`` is now);
    JSON values are adapted per row. No ids come back: read the rows afterwards. ``rows`` must
    not query the database while it is consumed (the connection is busy with the COPY).
    """
    from django.db.models import JSONField

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    template = model()
    base = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    slots = [next(i for i, f in enumerate(fields) if name in (f.name, f.attname)) for name in names]
    json = [isinstance(fields[i], JSONField) for i in slots]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = base.copy()
            for slot, is_json, field_value in zip(slots, json, row, strict=True):
                values[slot] = fields[slot].get_db_prep_save(field_value, connection) if is_json else field_value
            copy.write_row(values)
            count += 1
    return count


def job_defer(task_name: str, *, queue: str | None = None, **task_kwargs) -> int:
    """Queue a job of the task registered as ``task_name`` (its queue, priority and retry as
    declared there) and return the job id. The job row is written on Django's connection:
    inside ``transaction.atomic`` it is committed or rolled back with everything else.

    ``queue`` puts this job in another queue than the task's own (a run that needs GPUs:
    ``core.accelerators``).

    Deferring by name lets a lower module ask for follow-up work without importing the module
    that does it (``tasks.py`` sits on top of its app). Unknown names raise
    ``procrastinate.exceptions.TaskNotFound``. ``task.defer()`` is not used because a worker
    (``manage.py procrastinate worker``) swaps the app's connector for its own pool, and a job
    deferred from inside another job would then be committed at once, outside the transaction.
    """
    declared = app.configure_task(task_name, allow_unknown=False, **({"queue": queue} if queue else {}))
    on_django = JobManager(DjangoConnector(alias=procrastinate_settings.DATABASE_ALIAS))
    return JobDeferrer(job_manager=on_django, job=declared.job).defer(**task_kwargs)
