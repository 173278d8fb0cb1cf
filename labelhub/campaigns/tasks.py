"""Jobs of the campaigns app (procrastinate autodiscovers this module). Jobs take ids."""

from procrastinate.contrib.django import app

from labelhub.campaigns import import_jobs, services
from labelhub.campaigns.models import ImportBatch


@app.task(queue="imports", name=import_jobs.JOBS[ImportBatch.Kind.PROMPTS])
def import_prompts(batch_id: int) -> str | None:
    """Check and write a large prompts import (``services.prompts_import_run``)."""
    batch = services.prompts_import_run(batch_id=batch_id)
    return batch.state if batch else None
