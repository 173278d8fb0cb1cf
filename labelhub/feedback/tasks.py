"""Jobs of the feedback app. Jobs take ids, not objects."""

from procrastinate.contrib.django import app

from labelhub.campaigns.import_jobs import JOBS
from labelhub.campaigns.models import ImportBatch
from labelhub.feedback import imports, services


@app.task(queue="exports")
def build_snapshot(snapshot_id: int) -> None:
    services.snapshot_build(snapshot_id=snapshot_id)


@app.task(queue="imports", name=JOBS[ImportBatch.Kind.PAIRS])
def import_pairs(batch_id: int) -> str | None:
    """Check and write a large pairs import (``imports.pairs_import_run``)."""
    batch = imports.pairs_import_run(batch_id=batch_id)
    return batch.state if batch else None
