"""A training job ends as its run does: succeeded with a run that succeeded, failed with one
that failed (whatever failed it: the trainer, a retry after a dead worker, the lost-run
sweep), aborted with one that was cancelled."""

import sys
import textwrap
from types import SimpleNamespace

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.exceptions import JobAborted

from labelhub.core.db import job_defer
from labelhub.ops.loop_simulation import run_jobs
from labelhub.training import services, tasks
from labelhub.training.models import Run
from tests.training.test_lost_runs import ago, job, running

pytestmark = pytest.mark.django_db(transaction=True)

TRAINER = """
import json, pathlib, sys
out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1])
(out / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 0.5}) + "\\n")
if FAIL:
    print("RuntimeError: the stand-in trainer failed", file=sys.stderr)
    sys.exit(1)
(out / "adapter").mkdir(exist_ok=True)
(out / "model.json").write_text(json.dumps({"base": "tiny", "adapter": "adapter"}))
(out / "summary.json").write_text(json.dumps({"status": "succeeded", "eval_accuracy": 0.7}))
"""


@pytest.fixture
def trainer_command(settings, tmp_path):
    """Point LABELHUB_TRAINER_COMMAND at a stand-in that succeeds or fails."""

    def use(fail: bool):
        script = tmp_path / f"trainer_{'fails' if fail else 'succeeds'}.py"
        script.write_text(f"FAIL = {fail}\n" + textwrap.dedent(TRAINER), encoding="utf-8")
        settings.LABELHUB_TRAINER_COMMAND = [sys.executable, str(script)]

    return use


def queued(make_run) -> Run:
    run = make_run()
    Run.objects.filter(pk=run.pk).update(job_id=job_defer(services.RUN_JOB, run_id=run.pk))
    run.refresh_from_db()
    return run


def job_status(run: Run) -> str:
    return ProcrastinateJob.objects.get(pk=run.job_id).status


def test_it_ends_the_job_succeeded_with_a_run_that_succeeded(make_run, trainer_command):
    trainer_command(fail=False)
    run = queued(make_run)
    run_jobs(queues=("training",))
    run.refresh_from_db()
    assert (run.state, job_status(run)) == ("succeeded", "succeeded")


def test_it_ends_the_job_failed_with_a_run_that_failed(make_run, trainer_command):
    trainer_command(fail=True)
    run = queued(make_run)
    run_jobs(queues=("training",))
    run.refresh_from_db()
    assert (run.state, run.error) == ("failed", "RuntimeError: the stand-in trainer failed")
    assert job_status(run) == "failed"


def context(job_id: int):
    return SimpleNamespace(job=SimpleNamespace(id=job_id))


async def test_a_retried_job_fails_with_the_run_its_dead_worker_left(make_run):
    from asgiref.sync import sync_to_async

    run = await sync_to_async(running)(make_run, ago(minutes=3))
    with pytest.raises(tasks.RunFailed, match="its worker stopped while it was running"):
        await tasks.run_training(context(1), run_id=run.pk)
    await run.arefresh_from_db()
    assert run.state == "failed"


async def test_the_job_of_a_cancelled_run_ends_aborted(make_run):
    from asgiref.sync import sync_to_async

    run = await sync_to_async(make_run)(state=Run.State.CANCELLED, error="cancelled before it started")
    with pytest.raises(JobAborted, match="cancelled before it started"):
        await tasks.run_training(context(1), run_id=run.pk)


async def test_the_job_of_a_run_that_is_gone_does_nothing():
    assert await tasks.run_training(context(1), run_id=987654321) is None


@pytest.mark.parametrize("status", ["doing", "todo"])
def test_the_lost_run_sweep_fails_the_job_it_left_behind(make_run, status):
    run = running(make_run, ago(minutes=10))
    job_id = job(run, status)  # "doing": its worker died; "todo": the stalled job was queued for a retry
    assert services.runs_fail_lost() == [run.pk]
    assert ProcrastinateJob.objects.get(pk=job_id).status == "failed"


def test_the_lost_run_sweep_leaves_a_finished_job_as_it_is(make_run):
    run = running(make_run, ago(seconds=5))
    job_id = job(run, "aborted")
    assert services.runs_fail_lost() == [run.pk]
    assert ProcrastinateJob.objects.get(pk=job_id).status == "aborted"
