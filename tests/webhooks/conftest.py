"""The webhook tests' receiver (tests/webhooks/receiver.py), role helpers and job helpers."""

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.ops.loop_simulation import run_jobs
from labelhub.webhooks import services
from tests.webhooks.receiver import receiving

ANON = 401
ROLES = ["lead", "labeler", "reviewer", "engineer", "outsider", "anonymous"]


def role_cases(expected: dict[str, int]):
    assert set(expected) == set(ROLES), f"give a status for every role: {sorted(set(ROLES) - set(expected))}"
    return [(role, expected[role]) for role in ROLES]


#: Leads and engineers manage webhooks; labelers and reviewers are refused; non-members see nothing.
def manage_cases(ok):
    return role_cases({"lead": ok, "labeler": 403, "reviewer": 403, "engineer": ok, "outsider": 404, "anonymous": ANON})


@pytest.fixture
def receiver():
    with receiving() as state:
        yield state


@pytest.fixture
def client_as(users_by_role, api_as):
    return lambda role: api_as(users_by_role.get(role))


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        user = users_by_role.get(role)
        if user is not None:
            client.force_login(user)
        return client

    return make


def deliver_jobs() -> list[ProcrastinateJob]:
    """The delivery jobs in the job table, oldest first."""
    return list(ProcrastinateJob.objects.filter(task_name=services.DELIVER_JOB).order_by("id"))


def work() -> None:
    """Run the job worker over the webhooks queue until nothing is due (a real worker)."""
    run_jobs(queues=("webhooks",))


def make_due(job: ProcrastinateJob) -> None:
    """Bring a retried job's time forward instead of waiting out its back-off."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = %s WHERE id = %s", [timezone.now(), job.pk])
