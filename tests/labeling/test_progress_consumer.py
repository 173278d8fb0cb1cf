"""The campaign progress WebSocket: login and membership checked, events after a submit."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from labelhub.config.asgi import application
from labelhub.labeling import services
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session_cookie(users_by_role):
    """role → a session cookie header of that user, made before the event loop runs."""
    from django.test import Client

    cookies = {}
    for role, user in users_by_role.items():
        client = Client()
        client.force_login(user)
        cookies[role] = f"sessionid={client.cookies['sessionid'].value}"
    return cookies


def communicator_for(cookie, slug="helpful"):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, f"/ws/campaigns/{slug}/progress/", headers=headers)


@pytest.mark.parametrize("role, close_code", [
    ("labeler", 4403), ("outsider", 4404), (None, 4401),
])
async def test_it_refuses_those_who_may_not_watch(session_cookie, tasks, role, close_code):
    communicator = communicator_for(session_cookie.get(role))
    connected, code = await communicator.connect()
    assert not connected
    assert code == close_code


@pytest.mark.parametrize("role", ["lead", "reviewer", "engineer"])
async def test_it_sends_the_current_progress_on_connect(session_cookie, tasks, role):
    communicator = communicator_for(session_cookie[role])
    connected, _ = await communicator.connect()
    assert connected
    message = await communicator.receive_json_from()
    assert (message["type"], message["tasks_total"], message["tasks_done"], message["judgments"]) == ("progress", 5, 0, 0)
    await communicator.disconnect()


async def test_it_pushes_progress_after_a_submit(session_cookie, labeler, tasks):
    communicator = communicator_for(session_cookie["lead"])
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()

    @database_sync_to_async
    def label_one():
        assignment = services.next_task(labeler=labeler)
        services.judgment_submit(labeler=labeler, assignment_id=assignment.pk,
                                 data={"idempotency_key": "key-00000001", "ranking": ranking_for(assignment)})

    await label_one()
    message = await communicator.receive_json_from(timeout=5)
    assert (message["type"], message["judgments"], message["tasks_done"]) == ("progress", 1, 0)
    await communicator.disconnect()
