"""Progress events: after a commit, the campaign's watchers hear that the counts changed.

A submit sends no counts, only a ping to the campaign's channel group, and at most one per
``LABELHUB_PROGRESS_INTERVAL`` seconds per process and campaign: the labeler's request pays a
dictionary lookup, not an aggregate over the campaign's tasks. Each watching consumer counts
on the first ping and once more one interval later (``CampaignProgressConsumer``), so the
pings skipped here are covered by that second count: a dashboard is never more than about
one interval behind and always ends on the true figures. With no dashboard open nothing is
counted at all.
"""

from __future__ import annotations

import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

PROGRESS_CHANGED = "progress.changed"

_last_ping: dict[int, float] = {}
_last_ping_lock = threading.Lock()


def campaign_group(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def progress_changed_on_commit(*, campaign_id: int) -> None:
    transaction.on_commit(lambda: progress_ping(campaign_id=campaign_id))


def progress_ping(*, campaign_id: int) -> bool:
    """Tell the campaign's watchers its counts changed, unless this process did so within the
    interval (the watchers' second count covers it). Return whether a ping was sent."""
    interval = settings.LABELHUB_PROGRESS_INTERVAL
    now = time.monotonic()
    with _last_ping_lock:
        last = _last_ping.get(campaign_id)
        if interval > 0 and last is not None and now - last < interval:
            return False
        _last_ping[campaign_id] = now
    layer = get_channel_layer()
    if layer is None:
        logger.error("no channel layer configured; progress of campaign %s not sent", campaign_id)
        return False
    try:
        async_to_sync(layer.group_send)(campaign_group(campaign_id), {"type": PROGRESS_CHANGED})
    except Exception:  # the judgment is committed; a dashboard missing one update is not worth a 500
        logger.exception("could not send progress of campaign %s", campaign_id)
        return False
    return True


LABELER_PAUSED = "labeler.paused"
LABELER_REINSTATED = "labeler.reinstated"


def labeler_standing_on_commit(*, campaign_id: int, event, username: str) -> None:
    """After the commit, tell the campaign's watchers that a labeler was paused or reinstated
    (the consumers pass it on only to those who may see other labelers' accuracy)."""
    message = {
        "type": LABELER_PAUSED if event.action == "paused" else LABELER_REINSTATED,
        "labeler": username, "labeler_id": event.labeler_id, "reason": event.reason,
        "automatic": event.by_id is None, "by": event.by.username if event.by_id else None,
        "figures": event.figures, "at": event.created_at.isoformat(),
    }
    transaction.on_commit(lambda: _send(campaign_id, message))


def _send(campaign_id: int, message: dict) -> bool:
    layer = get_channel_layer()
    if layer is None:
        logger.error("no channel layer configured; %s of campaign %s not sent", message["type"], campaign_id)
        return False
    try:
        async_to_sync(layer.group_send)(campaign_group(campaign_id), message)
    except Exception:  # the pause is committed; the Quality page shows it on its next load
        logger.exception("could not send %s of campaign %s", message["type"], campaign_id)
        return False
    return True
