"""Cancel: a queued run at once; a running trainer gets SIGTERM (then SIGKILL after the grace)."""

import asyncio
import signal

import pytest
from asgiref.sync import sync_to_async
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.training import runner, services
from labelhub.training.models import Run, RunMetric

SLOW_TRAINER = """
    {setup}
    with open(out / "metrics.jsonl", "w") as m:
        m.write(json.dumps({{"step": 1, "loss": 0.9}}) + "\\n")
        m.flush()
        time.sleep(600)
"""


@pytest.mark.django_db
def test_it_cancels_a_queued_run_and_its_job_at_once(campaign, engineer, snapshot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_create(campaign=campaign, user=engineer, kind="reward", snapshot=snapshot)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_cancel(run=run)
    assert (run.state, run.cancel_requested, run.error) == ("cancelled", True, "cancelled before it started")
    assert ProcrastinateJob.objects.get(pk=run.job_id).status == "cancelled"
    with pytest.raises(services.RunFinished):
        services.run_cancel(run=run)


@pytest.mark.django_db
def test_the_job_of_a_cancelled_run_does_nothing(make_run):
    run = make_run(state=Run.State.CANCELLED)
    assert services.run_start(run_id=run.pk, job_id=1) is None
    run.refresh_from_db()
    assert run.state == "cancelled"


async def run_until_first_metric_then_cancel(run, command):
    job = asyncio.create_task(runner.run_job(run_id=run.pk, command=command))
    for _ in range(200):
        if await RunMetric.objects.filter(run=run).aexists():
            break
        await asyncio.sleep(0.05)
    await sync_to_async(services.run_cancel)(run=run)
    return await asyncio.wait_for(job, timeout=30)


@pytest.mark.django_db(transaction=True)
async def test_it_stops_a_running_trainer_with_sigterm(make_run, stand_in):
    run = await sync_to_async(make_run)()
    command = stand_in(SLOW_TRAINER.format(setup=""))(run)
    assert await run_until_first_metric_then_cancel(run, command) == "cancelled"
    await run.arefresh_from_db()
    assert (run.state, run.exit_code, run.error) == ("cancelled", -signal.SIGTERM, "cancelled on request")
    assert await RunMetric.objects.filter(run=run).acount() == 1


@pytest.mark.django_db(transaction=True)
async def test_it_kills_a_trainer_that_ignores_sigterm_after_the_grace_period(make_run, stand_in, settings):
    settings.LABELHUB_RUN_CANCEL_GRACE_SECONDS = 0.5
    run = await sync_to_async(make_run)()
    command = stand_in(SLOW_TRAINER.format(setup="signal.signal(signal.SIGTERM, signal.SIG_IGN)"))(run)
    assert await run_until_first_metric_then_cancel(run, command) == "cancelled"
    await run.arefresh_from_db()
    assert run.exit_code == -signal.SIGKILL


@pytest.mark.django_db(transaction=True)
async def test_it_records_a_trainer_that_saves_a_checkpoint_on_sigterm_as_cancelled(make_run, stand_in):
    """PPO's contract: on SIGTERM finish the step, save, write a "cancelled" summary, exit 3."""
    run = await sync_to_async(make_run)(kind=Run.Kind.PPO)
    setup = """
    def stop(*_):
        (out / "checkpoint").mkdir()
        (out / "summary.json").write_text(json.dumps({"status": "cancelled"}))
        sys.exit(3)
    signal.signal(signal.SIGTERM, stop)"""
    command = stand_in(SLOW_TRAINER.format(setup=setup.strip()))(run)
    assert await run_until_first_metric_then_cancel(run, command) == "cancelled"
    await run.arefresh_from_db()
    assert (run.exit_code, run.summary, run.produced_policy_id) == (3, {"status": "cancelled"}, None)


@pytest.mark.django_db(transaction=True)
async def test_it_kills_the_trainer_when_the_job_itself_is_cancelled(make_run, stand_in):
    """A worker shutting down (or aborting the job) cancels the job's task: no orphan trainer."""
    run = await sync_to_async(make_run)()
    command = stand_in(SLOW_TRAINER.format(setup="(out / 'pid').write_text(str(os.getpid()))"))(run)
    job = asyncio.create_task(runner.run_job(run_id=run.pk, command=command))
    while not await RunMetric.objects.filter(run=run).aexists():
        await asyncio.sleep(0.05)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await run.arefresh_from_db()
    assert (run.state, run.exit_code) == ("failed", -signal.SIGTERM)
    assert "its worker stopped" in run.error
