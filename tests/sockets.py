"""A WebSocket test client whose waits allow for a loaded machine.

Channels' ``WebsocketCommunicator`` gives up after 1 s on connect, receive and disconnect; with
two test workers, a browser and trainers sharing two cores, an answer that is coming can take
longer than that, and the test fails for no fault of the code. These waits are generous: they
only run out when nothing is coming, and a test that checks that nothing comes still uses
``receive_nothing`` with its own short timeout."""

from channels.testing import WebsocketCommunicator

WAIT_SECONDS = 15


class Communicator(WebsocketCommunicator):
    async def connect(self, timeout=WAIT_SECONDS):
        return await super().connect(timeout)

    async def receive_output(self, timeout=WAIT_SECONDS):
        return await super().receive_output(timeout)

    async def receive_from(self, timeout=WAIT_SECONDS):
        return await super().receive_from(timeout)

    async def receive_json_from(self, timeout=WAIT_SECONDS):
        return await super().receive_json_from(timeout)

    async def disconnect(self, code=1000, timeout=WAIT_SECONDS):
        return await super().disconnect(code, timeout)
