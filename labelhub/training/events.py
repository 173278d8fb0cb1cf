"""Run events: after a commit, the run's channel group hears new metrics and state changes."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def run_group(run_id: int) -> str:
    return f"run-{run_id}"


def metric_payload(metric) -> dict:
    return {"id": metric.id, "step": metric.step, "values": metric.values}


def state_payload(run) -> dict:
    return {
        "state": run.state, "cancel_requested": run.cancel_requested, "error": run.error,
        "error_tail": run.error_tail, "exit_code": run.exit_code,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "produced_policy": run.produced_policy_id, "produced_reward_model": run.produced_reward_model_id,
        "guards": run.guards, "flagged": run.output_flagged, "progress": run.progress, "progress_text": run.progress_text,
        "progress_share": run.progress_share,
    }


def metrics_added_on_commit(*, run_id: int, metrics: list) -> None:
    if metrics:
        event = {"type": "run.metrics", "metrics": [metric_payload(m) for m in metrics]}
        transaction.on_commit(lambda: broadcast(run_id=run_id, event=event))


def state_changed_on_commit(*, run) -> None:
    event = {"type": "run.state", **state_payload(run)}
    transaction.on_commit(lambda: broadcast(run_id=run.pk, event=event))


def broadcast(*, run_id: int, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        logger.error("no channel layer configured; event for run %s not sent", run_id)
        return
    try:
        async_to_sync(layer.group_send)(run_group(run_id), event)
    except Exception:  # the rows are committed; a page missing one update is not worth failing the run
        logger.exception("could not broadcast %s for run %s", event.get("type"), run_id)
