"""Live run updates over a WebSocket: ``/ws/runs/<id>/``.

Checks login and membership on connect (close codes 4401 / 4404 / 4403), sends the run's
state and the metrics so far, then joins the run's group; the job broadcasts
``run.metrics`` and ``run.state`` after its transactions commit.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from labelhub.training import selectors
from labelhub.training.events import metric_payload, run_group, state_payload
from labelhub.training.selectors import RUN_READERS


class RunConsumer(AsyncJsonWebsocketConsumer):
    group = None

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
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await self._current(run))

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_metrics(self, event):
        await self.send_json({"type": "metrics", "metrics": event["metrics"]})

    async def run_state(self, event):
        await self.send_json({**event, "type": "state"})

    @database_sync_to_async
    def _current(self, run):
        run.refresh_from_db()
        metrics = [metric_payload(m) for m in selectors.metric_list(run=run)]
        return {"type": "snapshot", **state_payload(run), "metrics": metrics}
