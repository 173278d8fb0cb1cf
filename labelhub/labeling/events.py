"""Progress events: after a commit, the campaign's channel group hears the new counts."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def campaign_group(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def progress_changed_on_commit(*, campaign_id: int) -> None:
    transaction.on_commit(lambda: progress_broadcast(campaign_id=campaign_id))


def progress_broadcast(*, campaign_id: int) -> None:
    from labelhub.labeling.selectors import campaign_progress

    layer = get_channel_layer()
    if layer is None:
        logger.error("no channel layer configured; progress for campaign %s not sent", campaign_id)
        return
    try:
        async_to_sync(layer.group_send)(
            campaign_group(campaign_id), {"type": "progress.update", **campaign_progress(campaign_id=campaign_id)}
        )
    except Exception:  # the judgment is committed; a dashboard missing one update is not worth a 500
        logger.exception("could not broadcast progress for campaign %s", campaign_id)
