"""Jobs of the feedback app. Jobs take ids, not objects."""

from procrastinate.contrib.django import app

from labelhub.feedback import services


@app.task(queue="exports")
def build_snapshot(snapshot_id: int) -> None:
    services.snapshot_build(snapshot_id=snapshot_id)
