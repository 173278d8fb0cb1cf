"""The campaign progress WebSocket: login and membership checked, events after a submit."""

import pytest
from channels.db import database_sync_to_async

from labelhub.config.asgi import application
from labelhub.labeling import services
from tests.labeling.conftest import ranking_for
from tests.sockets import Communicator

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
    return Communicator(application, f"/ws/campaigns/{slug}/progress/", headers=headers)


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
    message = await communicator.receive_json_from()
    assert (message["type"], message["judgments"], message["tasks_done"]) == ("progress", 1, 0)
    # overlap 2: the judged task is started, not done; 10 judgments are needed in all; the
    # labeler's prefetched next task is leased
    assert (message["tasks_started"], message["tasks_open"], message["judgments_needed"]) == (1, 4, 10)
    await communicator.disconnect()


def submit_one(labeler, key):
    assignment = services.next_task(labeler=labeler)
    services.judgment_submit(labeler=labeler, assignment_id=assignment.pk,
                             data={"idempotency_key": key, "ranking": ranking_for(assignment)})


def test_a_server_pings_a_campaign_at_most_once_per_interval(settings, tasks, campaign):
    from labelhub.labeling import events

    settings.LABELHUB_PROGRESS_INTERVAL = 60
    events._last_ping.clear()
    assert events.progress_ping(campaign_id=campaign.pk) is True
    assert events.progress_ping(campaign_id=campaign.pk) is False  # within the interval
    assert events.progress_ping(campaign_id=campaign.pk + 1) is True  # each campaign on its own
    settings.LABELHUB_PROGRESS_INTERVAL = 0
    assert events.progress_ping(campaign_id=campaign.pk) is True


async def test_throttled_pings_still_end_on_the_true_counts(settings, session_cookie, labeler, tasks):
    """Three submits in a row: the server pings once, the dashboard counts at once and again
    after the interval, and ends on all three judgments."""
    from labelhub.labeling import events

    # long enough that the three submits fall within one interval on a loaded machine too
    settings.LABELHUB_PROGRESS_INTERVAL = 2.0
    events._last_ping.clear()
    communicator = communicator_for(session_cookie["lead"])
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["judgments"] == 0

    for n in range(3):
        await database_sync_to_async(submit_one)(labeler, f"key-throttle-{n}")
    seen = [(await communicator.receive_json_from())["judgments"]]
    while not await communicator.receive_nothing(timeout=3):
        seen.append((await communicator.receive_json_from())["judgments"])
    # one ping (the other two fell in the server's interval): a count at once, one after the interval
    assert len(seen) == 2, seen
    assert seen[0] >= 1 and seen[-1] == 3
    await communicator.disconnect()
