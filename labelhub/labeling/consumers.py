"""Live campaign progress over a WebSocket: ``/ws/campaigns/<slug>/progress/``.

Checks login and membership on connect (close codes 4401 / 4404 / 4403), then joins the
campaign's group and sends the counts. Submits ping the group after they commit (see
``labelhub.labeling.events``); on a ping this consumer counts at once, then again every
``LABELHUB_PROGRESS_INTERVAL`` seconds for as long as pings keep coming, and once after the
last one: pings a server skipped within its interval are covered by that last count.
"""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from labelhub.campaigns.models import Campaign, Role
from labelhub.labeling.events import campaign_group
from labelhub.labeling.selectors import campaign_progress

WATCHERS = {Role.LEAD, Role.REVIEWER, Role.ENGINEER}


class CampaignProgressConsumer(AsyncJsonWebsocketConsumer):
    group = None
    campaign_id = None
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
        self.group = campaign_group(campaign.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_progress()

    async def disconnect(self, code):
        if self._refresher is not None:
            self._refresher.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

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
    def _campaign_and_roles(self, user, slug):
        campaign = Campaign.objects.for_user(user).filter(slug=slug).first()
        return campaign, (campaign.roles_of(user) if campaign else set())
