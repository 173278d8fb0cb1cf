"""A worker that dies never leaves a run "running" (or "queued") for ever: the periodic sweep
fails runs with no heartbeat or whose job is over, and a retried job does not rerun one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from labelhub.training import services, tasks
from labelhub.training.models import Run
from tests.training.conftest import loop_steps_queued

pytestmark = pytest.mark.django_db


def job(run, status):
    """A procrastinate job for the run, in ``status`` (as a worker would have left it)."""
    job_id = tasks.run_training.defer(run_id=run.pk)
    with connection.cursor() as cursor:
        if status != "todo":
            cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", [job_id])
        if status not in ("todo", "doing"):
            cursor.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", [status, job_id])
    Run.objects.filter(pk=run.pk).update(job_id=job_id)
    return job_id


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def running(make_run, beat):
    return make_run(state=Run.State.RUNNING, started_at=ago(minutes=30), heartbeat_at=beat)


def test_it_fails_a_running_run_whose_heartbeat_stopped(make_run):
    run = running(make_run, ago(minutes=10))
    job(run, "doing")  # its worker was killed: the job stays "doing"
    assert services.runs_fail_lost() == [run.pk]
    run.refresh_from_db()
    assert (run.state, run.finished_at is not None) == ("failed", True)
    assert run.error.startswith("its worker stopped: no sign of life since ")


@pytest.mark.parametrize("status", ["failed", "succeeded", "aborted", "todo"])
def test_it_fails_a_running_run_whose_job_is_over_or_waiting_for_a_retry(make_run, status):
    run = running(make_run, ago(seconds=5))
    job(run, status)
    assert services.runs_fail_lost() == [run.pk]
    run.refresh_from_db()
    assert run.error == f"its job is {status} but the run never finished (its worker stopped) — start it again"


def test_it_leaves_live_runs_and_waiting_queued_runs_alone(make_run):
    live = running(make_run, ago(seconds=5))
    job(live, "doing")
    waiting = make_run()
    job(waiting, "todo")
    just_created = make_run()  # its job is deferred after commit
    assert services.runs_fail_lost() == []
    assert set(Run.objects.values_list("state", flat=True)) == {"running", "queued"}
    assert just_created.state == "queued"


@pytest.mark.parametrize("status", ["cancelled", "failed", "aborted"])
def test_it_fails_a_queued_run_whose_job_will_never_run(make_run, status):
    run = make_run()
    job(run, status)
    assert services.runs_fail_lost() == [run.pk]
    run.refresh_from_db()
    assert (run.state, run.error) == ("failed", f"its job is {status}; the run never started")


def test_it_fails_a_queued_run_that_never_got_a_job(make_run):
    run = make_run()
    Run.objects.filter(pk=run.pk).update(created_at=ago(hours=1))
    assert services.runs_fail_lost() == [run.pk]
    assert Run.objects.get(pk=run.pk).error == "its job was never queued"


def test_a_retried_job_fails_the_run_its_dead_worker_left_running(make_run):
    run = running(make_run, ago(minutes=3))
    job_id = job(run, "doing")
    assert services.run_start(run_id=run.pk, job_id=job_id) is None
    run.refresh_from_db()
    assert run.state == "failed"
    assert "its worker stopped while it was running (the job was retried" in run.error


def test_the_heartbeat_of_a_live_job_wins_over_a_sweep_that_read_it_stale(make_run):
    run = running(make_run, ago(minutes=10))
    stale = {"id": run.pk, "state": "running", "heartbeat_at": run.heartbeat_at}
    services.run_progress(run_id=run.pk, rows=[])  # the job beats between the sweep's read and write
    assert services._fail_if_unchanged(stale, "lost", timezone.now()) is False
    assert Run.objects.get(pk=run.pk).state == "running"


@pytest.mark.django_db(transaction=True)
async def test_the_periodic_task_runs_the_sweep(make_run, settings):
    from asgiref.sync import sync_to_async

    settings.LABELHUB_RUN_LOST_AFTER_SECONDS = 60
    run = await sync_to_async(running)(make_run, ago(minutes=2))
    assert await tasks.fail_lost_runs(timestamp=0) == 1
    await run.arefresh_from_db()
    assert run.state == "failed"
    assert "training.fail_lost_runs" in {t.task.name for t in tasks.app.periodic_registry.periodic_tasks.values()}


def test_a_lost_generate_run_queues_the_loop_step(make_run, policy):
    run = make_run(kind=Run.Kind.GENERATE, policy=policy, state=Run.State.RUNNING, started_at=ago(minutes=30),
                   heartbeat_at=ago(minutes=10))
    other = running(make_run, ago(minutes=10))  # a reward run: the loop waits on nothing of it
    assert sorted(services.runs_fail_lost()) == [run.pk, other.pk]
    assert loop_steps_queued() == [run.pk]
