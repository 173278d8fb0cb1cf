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
