"""Membership events: after a member's roles change, their open WebSockets check again.

Every consumer that serves a campaign (its progress, its runs) also joins the group of the
person and campaign it serves (``member_group``). When a role is removed or changed, the
service sends ``membership.changed`` to that group after its transaction commits; each
consumer then looks up the person's roles again and closes (code 4403) if they no longer
allow what it serves. So a removed member's pages stop following the campaign at once.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

MEMBERSHIP_CHANGED = "membership.changed"


def member_group(*, campaign_id: int, user_id: int) -> str:
    return f"member-{campaign_id}-{user_id}"


def membership_changed_on_commit(*, campaign_id: int, user_id: int) -> None:
    transaction.on_commit(lambda: membership_changed(campaign_id=campaign_id, user_id=user_id))


def membership_changed(*, campaign_id: int, user_id: int) -> bool:
    """Tell the person's consumers for this campaign to check their roles again."""
    layer = get_channel_layer()
    if layer is None:
        logger.error("no channel layer configured; membership change of user %s in campaign %s not sent",
                     user_id, campaign_id)
        return False
    try:
        async_to_sync(layer.group_send)(member_group(campaign_id=campaign_id, user_id=user_id),
                                        {"type": MEMBERSHIP_CHANGED})
    except Exception:  # the change is committed; log it (the consumers still re-check on reconnect)
        logger.exception("could not send the membership change of user %s in campaign %s", user_id, campaign_id)
        return False
    return True
