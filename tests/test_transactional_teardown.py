"""The transactional tests' teardown (tests/conftest.py, _empty_the_tables) leaves what Django's
flush leaves: every table empty but the content types and permissions, which stay whole."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import TransactionTestCase

from labelhub.labeling import services as labeling
from tests.conftest import KEPT_TABLES, _empty_the_tables
from tests.labeling.conftest import add_prompts, ranking_for


def row_counts() -> dict[str, int]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_it_empties_every_table_a_test_wrote_and_keeps_the_content_types(campaign, labeler, api_as):
    add_prompts(campaign, 2)
    labeling.tasks_create(campaign=campaign)
    assignment = labeling.next_task(labeler=labeler, campaign=campaign)
    labeling.judgment_submit(labeler=labeler, assignment_id=assignment.pk,
                             data={"idempotency_key": "key-00000001", "ranking": ranking_for(assignment)})
    api_as(labeler)  # a token
    written = {table for table, n in row_counts().items() if n and table not in KEPT_TABLES}
    # rows that reference each other across many tables: users, campaign, members, prompts,
    # completions, tasks, assignments, judgments, tokens
    assert len(written) >= 10, written

    _empty_the_tables(TransactionTestCase())

    left = {table: n for table, n in row_counts().items() if n and table not in KEPT_TABLES}
    assert left == {}
    models = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]
    assert ContentType.objects.count() >= len(models) and Permission.objects.count() >= 4 * len(models) - 20
