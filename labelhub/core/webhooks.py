"""Webhook events: the names, and :func:`emit`, which any app calls where the thing happens.

Webhooks are a cross-cutting concern: a run finishing (training), a snapshot written
(feedback), a labeler paused or a campaign complete (labeling, campaigns) — yet the webhook
rows and their delivery job live in ``labelhub.webhooks``, which sits above every app that
emits. So the lower apps call :func:`emit` here, at the bottom of the imports, and the
webhooks app connects its handler when Django starts (``WebhooksConfig.ready``). The handler
runs in the caller's transaction: it writes one delivery row per subscribed webhook and
queues its job on the same connection, so an event whose transaction rolls back sends
nothing, and one that commits is delivered even if the process dies right after.

Without a handler (the webhooks app not installed) :func:`emit` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

RUN_FINISHED = "run.finished"
LOOP_ROUND_READY = "loop.round_ready"
SNAPSHOT_WRITTEN = "snapshot.written"
LABELER_PAUSED = "labeler.paused"
CAMPAIGN_COMPLETE = "campaign.complete"

#: Every event a webhook may subscribe to, with what it means (the page and the API show it).
EVENTS: dict[str, str] = {
    RUN_FINISHED: "A training run ended: succeeded, failed or cancelled.",
    LOOP_ROUND_READY: "A new policy version's comparison tasks are in the labeling queue.",
    SNAPSHOT_WRITTEN: "A snapshot's data file is written and ready to train on.",
    LABELER_PAUSED: "A labeler was paused in the campaign (e.g. gold accuracy below the threshold).",
    CAMPAIGN_COMPLETE: "Every task of the campaign has its judgments, or a lead set its status to done.",
}

Handler = Callable[..., None]
_handler: Handler | None = None


class UnknownEvent(ValueError):
    """An event name that is not in :data:`EVENTS` (a programming error, never a user's)."""


def connect(handler: Handler | None) -> None:
    """Set the function that :func:`emit` calls: ``handler(campaign_id=…, event=…, payload=…)``."""
    global _handler
    _handler = handler


def emit(campaign, event: str, payload: dict) -> None:
    """Tell the campaign's webhooks subscribed to ``event`` (one of :data:`EVENTS`) about it.

    ``campaign`` is a Campaign or its id; ``payload`` a JSON-serialisable dict that becomes
    the body's ``data``. Call it inside the transaction that makes the thing happen.
    """
    if event not in EVENTS:
        raise UnknownEvent(f"unknown webhook event {event!r}; known: {', '.join(EVENTS)}")
    if _handler is not None:
        campaign_id = campaign if isinstance(campaign, int) else campaign.pk
        _handler(campaign_id=campaign_id, event=event, payload=payload)
