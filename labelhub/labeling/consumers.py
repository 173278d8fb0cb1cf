"""Live campaign progress over a WebSocket: ``/ws/campaigns/<slug>/progress/``.

Checks login and membership on connect (close codes 4401 / 4404 / 4403), then joins the
campaign's group; services broadcast ``progress.update`` after their transaction commits.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labelhub.campaigns.models import Campaign, Role
from labelhub.labeling.events import campaign_group
from labelhub.labeling.selectors import campaign_progress

WATCHERS = {Role.LEAD, Role.REVIEWER, Role.ENGINEER}


class CampaignProgressConsumer(AsyncJsonWebsocketConsumer):
    group = None

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
        self.group = campaign_group(campaign.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "progress", **await database_sync_to_async(campaign_progress)(campaign_id=campaign.pk)})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def progress_update(self, event):
        await self.send_json({**event, "type": "progress"})

    @database_sync_to_async
    def _campaign_and_roles(self, user, slug):
        campaign = Campaign.objects.for_user(user).filter(slug=slug).first()
        return campaign, (campaign.roles_of(user) if campaign else set())
