"""Jobs of the training app (procrastinate autodiscovers this module): the training run, the
loop's step after a run, and the periodic sweep that fails runs whose worker died (and kills
trainers they left). All take only ids. This module sits on top of the app: ``services``
queues these jobs by name (``services.RUN_JOB``, ``services.LOOP_STEP_JOB``) and never
imports it."""

import asyncio

from asgiref.sync import sync_to_async
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import JobAborted

from labelhub.training import loop, runner, services, watchdog
from labelhub.training.models import Run

#: A failed loop step is tried again after 3, 9, 27, 81 and 243 s (six attempts in ~6 min),
#: enough for a busy database or a slow shared disk; then its job stays ``failed``.
LOOP_STEP_RETRY = RetryStrategy(max_attempts=5, exponential_wait=3)
#: Loop steps are short: a worker takes them before queued training runs.
LOOP_STEP_PRIORITY = 10


class RunFailed(Exception):
    """The run this job ran failed: the job fails too, with the run's reason."""


@app.task(queue="training", name=services.RUN_JOB, pass_context=True)
async def run_training(context, run_id: int):
    """Run the trainer for one run (``python -m trainer <kind>`` as a subprocess).

    The job ends as its run does: ``succeeded`` with a run that succeeded, ``failed`` (raising
    :class:`RunFailed` with the run's error) with one that failed — also when the worker was
    stopped mid-run or the job was a retry of one whose worker died — and ``aborted`` with a
    run that was cancelled."""
    try:
        state = await runner.run_job(run_id=run_id, job_id=context.job.id)
    except asyncio.CancelledError:
        run = await _run_outcome(run_id)
        if run is not None and run.state == Run.State.FAILED:
            raise RunFailed(f"run {run_id} failed: {run.error}") from None
        raise
    if state == Run.State.SUCCEEDED:
        return state
    run = await _run_outcome(run_id)  # None from run_job: the run had ended, or run_start ended it
    if run is not None and run.state == Run.State.FAILED:
        raise RunFailed(f"run {run_id} failed: {run.error}")
    if run is not None and run.state == Run.State.CANCELLED:
        raise JobAborted(f"run {run_id} was cancelled: {run.error}")
    return run.state if run is not None else None


async def _run_outcome(run_id: int) -> Run | None:
    return await Run.objects.only("state", "error").filter(pk=run_id).afirst()


@app.task(queue="loop", name=services.LOOP_STEP_JOB, pass_context=True, retry=LOOP_STEP_RETRY,
          priority=LOOP_STEP_PRIORITY)
async def loop_step(context, run_id: int) -> str:
    """The loop's step after a run ended (``loop.advance``); on failure the run says so and
    the job is retried."""
    try:
        return await sync_to_async(loop.advance)(run_id=run_id)
    except Exception as exc:
        attempts = LOOP_STEP_RETRY.max_attempts + 1
        await sync_to_async(loop.step_failed)(run_id=run_id, error=str(exc) or type(exc).__name__,
                                              attempt=context.job.attempts + 1, attempts=attempts)
        raise


@app.periodic(cron="* * * * *")
@app.task(queue="housekeeping", name="training.fail_lost_runs")
async def fail_lost_runs(timestamp: int):
    """A run whose worker died would stay "running" for ever: mark such runs failed, with why,
    and kill trainers on this machine that outlived their run. (``manage.py worker`` does this
    every ``LABELHUB_RUN_WATCH_SECONDS`` in a thread of its own: ``watchdog``.)"""
    failed, _killed = await sync_to_async(watchdog.sweep)()
    return len(failed)
