"""Live campaign progress over a WebSocket: ``/ws/campaigns/<slug>/progress/``.

Checks login and membership on connect (close codes 4401 / 4404 / 4403), then joins the
campaign's group and the watcher's own group for this campaign, and sends the counts. When the
watcher's roles change (``campaigns.events``) it checks them again and closes with 4403 (4404
when no role is left) if they may no longer watch. Submits ping the group after they commit (see
``labelhub.labeling.events``); on a ping this consumer counts at once, then again every
``LABELHUB_PROGRESS_INTERVAL`` seconds for as long as pings keep coming, and once after the
last one: pings a server skipped within its interval are covered by that last count.
"""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from labelhub.campaigns.events import member_group
from labelhub.campaigns.models import Campaign, Membership, Role
from labelhub.labeling.events import campaign_group
from labelhub.labeling.selectors import ACCURACY_READERS, campaign_progress

WATCHERS = {Role.LEAD, Role.REVIEWER, Role.ENGINEER}


class CampaignProgressConsumer(AsyncJsonWebsocketConsumer):
    group = None
    member_group = None
    campaign_id = None
    roles: frozenset = frozenset()
    _refresher = None  # the task that counts again after pings (None: idle)
    _covered_until = 0.0  # loop time by which a count covers every ping received so far

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
        self.campaign_id = campaign.pk
        self.roles = frozenset(roles)
        self.group = campaign_group(campaign.pk)
        self.member_group = member_group(campaign_id=campaign.pk, user_id=user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(self.member_group, self.channel_name)
        await self.accept()
        await self._send_progress()

    async def disconnect(self, code):
        if self._refresher is not None:
            self._refresher.cancel()
        await self._leave_groups()

    async def _leave_groups(self):
        for group in (self.group, self.member_group):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.group = self.member_group = None

    async def membership_changed(self, event):
        """The watcher's roles in this campaign changed: close if they may no longer watch."""
        roles = await self._roles(self.scope["user"])
        self.roles = frozenset(roles)
        if not roles & WATCHERS:
            await self._leave_groups()
            await self.close(code=4403 if roles else 4404)

    async def labeler_paused(self, event):
        """A labeler was paused (automatically or by a lead): leads and reviewers hear who and why."""
        if self.roles & ACCURACY_READERS:
            await self.send_json(event)

    async def labeler_reinstated(self, event):
        if self.roles & ACCURACY_READERS:
            await self.send_json(event)

    async def progress_changed(self, event):
        interval = settings.LABELHUB_PROGRESS_INTERVAL
        loop = asyncio.get_running_loop()
        self._covered_until = loop.time() + interval
        if interval <= 0:
            await self._send_progress()
        elif self._refresher is None:
            await self._send_progress()
            self._refresher = asyncio.create_task(self._refresh(interval))

    async def _refresh(self, interval: float):
        loop = asyncio.get_running_loop()
        try:
            while True:
                await asyncio.sleep(interval)
                started = loop.time()
                await self._send_progress()
                if self._covered_until <= started:  # read after the count: a ping during it goes round again
                    break
        finally:
            self._refresher = None

    async def _send_progress(self):
        counts = await database_sync_to_async(campaign_progress)(campaign_id=self.campaign_id)
        await self.send_json({"type": "progress", **counts})

    @database_sync_to_async
    def _roles(self, user):
        return set(Membership.objects.filter(campaign_id=self.campaign_id, user=user).values_list("role", flat=True))

    @database_sync_to_async
    def _campaign_and_roles(self, user, slug):
        campaign = Campaign.objects.for_user(user).filter(slug=slug).first()
        return campaign, (campaign.roles_of(user) if campaign else set())
