"""The hot paths run a small constant number of queries, whatever the number of tasks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelhub.labeling import services
from tests.labeling.conftest import add_prompts, ranking_for

pytestmark = pytest.mark.django_db


def queries_of(fn):
    """Statements run, without the savepoints that the test's own transaction adds."""
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    return len(statements), result


def cycle_counts(campaign, labeler, api_as):
    client = api_as(labeler)
    next_queries, response = queries_of(lambda: client.post("/api/labeling/next/"))
    assert response.status_code == 200
    lease = response.json()
    body = {"idempotency_key": f"key-{lease['assignment']:08d}", "ranking": [[c["id"]] for c in lease["completions"]]}
    submit_queries, response = queries_of(
        lambda: client.post(f"/api/labeling/assignments/{lease['assignment']}/submit/", body, format="json")
    )
    assert response.status_code == 201
    return next_queries, submit_queries


def test_it_runs_next_and_submit_in_constant_queries(campaign, labeler, api_as):
    add_prompts(campaign, 3)
    services.tasks_create(campaign=campaign)
    small = cycle_counts(campaign, labeler, api_as)
    add_prompts_offset(campaign, 300)
    services.tasks_create(campaign=campaign)
    large = cycle_counts(campaign, labeler, api_as)
    assert small == large
    next_queries, submit_queries = large
    assert next_queries <= 9, next_queries  # auth, lock, expire, live lease, next, insert, count, task, completions
    assert submit_queries <= 7, submit_queries  # auth, lease, key, task, count, lease state, judgment


def add_prompts_offset(campaign, n):
    from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash

    policies = list(Policy.objects.filter(campaign=campaign))
    prompts = Prompt.objects.bulk_create(
        Prompt(campaign=campaign, text=f"more {i}", content_hash=content_hash(f"more {i}")) for i in range(n)
    )
    Completion.objects.bulk_create(
        Completion(prompt=p, policy=pol, text=f"{pol.name} {p.id}", content_hash=content_hash(f"{pol.id}-{p.id}"))
        for p in prompts for pol in policies
    )


def test_it_serves_the_services_alone_in_few_queries(campaign, labeler):
    add_prompts(campaign, 50)
    services.tasks_create(campaign=campaign)
    count, assignment = queries_of(lambda: services.next_task(labeler=labeler))
    assert count <= 7, count
    count, _ = queries_of(lambda: services.judgment_submit(
        labeler=labeler, assignment_id=assignment.pk,
        data={"idempotency_key": "key-abcdefgh", "ranking": ranking_for(assignment)}))
    assert count <= 6, count
