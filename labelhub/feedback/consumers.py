"""The live campaign dashboard over a WebSocket: ``/ws/campaigns/<slug>/dashboard/?period=day``.

Checks login, membership and role on connect (close codes 4401 / 4404 / 4403; 4400 for a
period other than hour, day or week), then joins the campaign's group (the pings submits send
after they commit) and the watcher's own group for this campaign (role changes), and hands
the figures over to this process's dashboard hub (:mod:`labelhub.feedback.dashboard`), which
computes them once per campaign and interval for all watchers and sends each
``{"type": "counts", …}`` and ``{"type": "quality", …}``; it passes on ``labeler.paused`` and
``labeler.reinstated`` events of the campaign's group as they are. When the watcher's roles change so
that they may no longer watch, it closes with 4403 (4404 when no role is left).
"""

import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labelhub.campaigns.events import member_group
from labelhub.campaigns.models import Campaign, Membership
from labelhub.feedback.dashboard import WATCHERS, hub
from labelhub.feedback.selectors import PERIODS
from labelhub.labeling.events import campaign_group

logger = logging.getLogger(__name__)


class CampaignDashboardConsumer(AsyncJsonWebsocketConsumer):
    group = None
    member_group = None
    campaign_id = None
    period = "day"
    watching = False

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        campaign, roles = await self._campaign_and_roles(user, self.scope["url_route"]["kwargs"]["slug"])
        if campaign is None:
            await self.close(code=4404)
            return
        if not roles & WATCHERS:
            await self.close(code=4403)
            return
        period = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("period", ["day"])[-1]
        if period not in PERIODS:
            await self.close(code=4400)
            return
        self.campaign_id, self.period = campaign.pk, period
        self.group = campaign_group(campaign.pk)
        self.member_group = member_group(campaign_id=campaign.pk, user_id=user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(self.member_group, self.channel_name)
        await self.accept()
        hub().watch(self, self.campaign_id, self.period)
        self.watching = True

    async def disconnect(self, code):
        self._unwatch()
        for group in (self.group, self.member_group):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.group = self.member_group = None

    def _unwatch(self):
        if self.watching:
            hub().unwatch(self, self.campaign_id, self.period)
            self.watching = False

    async def progress_changed(self, event):
        if self.watching:
            hub().changed(self.campaign_id)

    async def labeler_paused(self, event):
        """A labeler was paused or reinstated (gold scoring sends ``labeler.paused`` and
        ``labeler.reinstated`` to the campaign's group after the commit): the watcher — a lead or
        reviewer, who may see it — hears who and why, and the figures follow (the gold column
        says who is paused). Every consumer in the group needs a handler for each event sent to it."""
        await self.send_json(event)
        if self.watching:
            hub().changed(self.campaign_id)

    labeler_reinstated = labeler_paused

    async def membership_changed(self, event):
        """The watcher's roles in this campaign changed: close if they may no longer watch."""
        roles = await self._roles(self.scope["user"])
        if not roles & WATCHERS:
            self._unwatch()
            await self.close(code=4403 if roles else 4404)

    async def send_figures(self, text: str):
        """Called by the hub with figures already encoded (once for all watchers)."""
        if not self.watching:
            return
        try:
            await self.send(text_data=text)
        except Exception:  # the socket went away meanwhile; disconnect() follows
            logger.debug("dashboard watcher gone before its figures were sent", exc_info=True)

    @database_sync_to_async
    def _roles(self, user):
        return set(Membership.objects.filter(campaign_id=self.campaign_id, user=user).values_list("role", flat=True))

    @database_sync_to_async
    def _campaign_and_roles(self, user, slug):
        campaign = Campaign.objects.for_user(user).filter(slug=slug).first()
        return campaign, (campaign.roles_of(user) if campaign else set())
