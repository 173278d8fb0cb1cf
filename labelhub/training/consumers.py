"""Live run updates over a WebSocket: ``/ws/runs/<id>/``.

Checks login and membership on connect (close codes 4401 / 4404 / 4403), sends the run's
state and the metrics so far, then joins the run's group; the job broadcasts
``run.metrics`` and ``run.state`` after its transactions commit. It also joins the watcher's
own group for the run's campaign: when their roles there change (``campaigns.events``) it
checks them again and closes with 4403 (4404 when no role is left) if they may no longer watch.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labelhub.campaigns.events import member_group
from labelhub.training import selectors
from labelhub.training.events import metric_payload, run_group, state_payload
from labelhub.training.selectors import RUN_READERS


class RunConsumer(AsyncJsonWebsocketConsumer):
    group = None
    member_group = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        run, roles = await database_sync_to_async(selectors.run_for_user)(
            user=user, pk=self.scope["url_route"]["kwargs"]["run_id"]
        )
        if run is None:
            await self.close(code=4404)
            return
        if not roles & RUN_READERS:
            await self.close(code=4403)
            return
        self.group = run_group(run.pk)
        self.member_group = member_group(campaign_id=run.campaign_id, user_id=user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(self.member_group, self.channel_name)
        await self.accept()
        await self.send_json(await self._current(run))

    async def disconnect(self, code):
        await self._leave_groups()

    async def _leave_groups(self):
        for group in (self.group, self.member_group):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.group = self.member_group = None

    async def membership_changed(self, event):
        """The watcher's roles in the run's campaign changed: close if they may no longer watch."""
        _, roles = await database_sync_to_async(selectors.run_for_user)(
            user=self.scope["user"], pk=self.scope["url_route"]["kwargs"]["run_id"]
        )
        if not roles & RUN_READERS:
            await self._leave_groups()
            await self.close(code=4403 if roles else 4404)

    async def run_metrics(self, event):
        await self.send_json({"type": "metrics", "metrics": event["metrics"]})

    async def run_state(self, event):
        await self.send_json({**event, "type": "state"})

    @database_sync_to_async
    def _current(self, run):
        run.refresh_from_db()
        metrics = [metric_payload(m) for m in selectors.metric_list(run=run)]
        return {"type": "snapshot", **state_payload(run), "metrics": metrics}
