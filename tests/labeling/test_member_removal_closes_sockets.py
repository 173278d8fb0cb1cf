"""Removing a member (or changing their role) closes their progress WebSocket at once,
through the channel layer, after the change commits. (Run sockets: tests/training/test_run_socket_on_removal.py.)"""

import pytest
from channels.db import database_sync_to_async

from labelhub.campaigns.models import Membership, Role
from labelhub.config.asgi import application
from labelhub.labeling import services
from tests.sockets import Communicator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session_cookie(users_by_role):
    from django.test import Client

    cookies = {}
    for role, user in users_by_role.items():
        client = Client()
        client.force_login(user)
        cookies[role] = f"sessionid={client.cookies['sessionid'].value}"
    return cookies


def socket(cookie, path):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie.encode())]
    return Communicator(application, path, headers=headers)


async def connected(cookie, path):
    communicator = socket(cookie, path)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()  # the progress or run snapshot sent on connect
    return communicator


async def closed_with(communicator) -> int:
    message = await communicator.receive_output()
    assert message["type"] == "websocket.close", message
    return message["code"]


@database_sync_to_async
def remove(campaign, user, role):
    services.member_remove(membership=Membership.objects.get(campaign=campaign, user=user, role=role))


@database_sync_to_async
def change(campaign, user, role, to):
    services.member_role_change(membership=Membership.objects.get(campaign=campaign, user=user, role=role), role=to)


async def test_removing_a_member_closes_their_progress_socket(session_cookie, campaign, engineer):
    communicator = await connected(session_cookie["engineer"], "/ws/campaigns/helpful/progress/")
    await remove(campaign, engineer, Role.ENGINEER)
    assert await closed_with(communicator) == 4404
    # and they cannot come back
    connected_again, code = await socket(session_cookie["engineer"], "/ws/campaigns/helpful/progress/").connect()
    assert (connected_again, code) == (False, 4404)


async def test_a_role_that_may_not_watch_closes_it_with_4403(session_cookie, campaign, reviewer):
    communicator = await connected(session_cookie["reviewer"], "/ws/campaigns/helpful/progress/")
    await change(campaign, reviewer, Role.REVIEWER, Role.LABELER)
    assert await closed_with(communicator) == 4403


async def test_other_watchers_and_a_member_who_may_still_watch_stay_connected(session_cookie, campaign, reviewer, engineer):
    from labelhub.campaigns.services import membership_add

    await database_sync_to_async(membership_add)(campaign=campaign, user=reviewer, role=Role.ENGINEER)
    theirs = await connected(session_cookie["reviewer"], "/ws/campaigns/helpful/progress/")
    lead = await connected(session_cookie["lead"], "/ws/campaigns/helpful/progress/")
    await remove(campaign, reviewer, Role.REVIEWER)  # still an engineer
    await remove(campaign, engineer, Role.ENGINEER)  # someone else
    assert await theirs.receive_nothing(timeout=0.5)
    assert await lead.receive_nothing(timeout=0.1)
    await theirs.disconnect()
    await lead.disconnect()


async def test_the_lead_removing_someone_over_the_api_closes_the_socket(session_cookie, api_as, campaign, lead, engineer):
    communicator = await connected(session_cookie["engineer"], "/ws/campaigns/helpful/progress/")

    @database_sync_to_async
    def delete_over_the_api():
        membership = Membership.objects.get(campaign=campaign, user=engineer)
        return api_as(lead).delete(f"/api/campaigns/helpful/members/{membership.pk}/").status_code

    assert await delete_over_the_api() == 204
    assert await closed_with(communicator) == 4404
