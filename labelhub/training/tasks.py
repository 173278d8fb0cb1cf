"""Jobs of the training app (procrastinate autodiscovers this module): the training run
itself, and the periodic sweep that fails runs whose worker died. Both take only ids."""

from asgiref.sync import sync_to_async
from procrastinate.contrib.django import app

from labelhub.training import runner, services


@app.task(queue="training", name="training.run", pass_context=True)
async def run_training(context, run_id: int):
    """Run the trainer for one run (``python -m trainer <kind>`` as a subprocess)."""
    return await runner.run_job(run_id=run_id, job_id=context.job.id)


@app.periodic(cron="* * * * *")
@app.task(queue="housekeeping", name="training.fail_lost_runs")
async def fail_lost_runs(timestamp: int):
    """A run whose worker died would stay "running" for ever: mark such runs failed, with why."""
    return len(await sync_to_async(services.runs_fail_lost)())
