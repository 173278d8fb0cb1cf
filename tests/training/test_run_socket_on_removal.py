"""/ws/runs/<id>/: removing the watcher from the run's campaign (or taking their role) closes
the socket at once; a role that may still watch keeps it open."""

import pytest
from channels.db import database_sync_to_async

from labelhub.campaigns.models import Membership, Role
from labelhub.config.asgi import application
from labelhub.labeling import services
from labelhub.training.models import Run
from tests.sockets import Communicator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cookie(engineer):
    from django.test import Client

    client = Client()
    client.force_login(engineer)
    return f"sessionid={client.cookies['sessionid'].value}"


async def watching(cookie, run):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie.encode())]
    communicator = Communicator(application, f"/ws/runs/{run.pk}/", headers=headers)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "snapshot"
    return communicator


@database_sync_to_async
def remove(campaign, user, role):
    services.member_remove(membership=Membership.objects.get(campaign=campaign, user=user, role=role))


@pytest.mark.parametrize("then_a_labeler, code", [(False, 4404), (True, 4403)])
async def test_it_closes_when_the_watcher_may_no_longer_watch(cookie, campaign, engineer, make_run, then_a_labeler, code):
    run = await database_sync_to_async(make_run)(state=Run.State.RUNNING)
    communicator = await watching(cookie, run)

    @database_sync_to_async
    def take_the_role():
        membership = Membership.objects.get(campaign=campaign, user=engineer, role=Role.ENGINEER)
        if then_a_labeler:
            services.member_role_change(membership=membership, role=Role.LABELER)
        else:
            services.member_remove(membership=membership)

    await take_the_role()
    message = await communicator.receive_output()
    assert (message["type"], message.get("code")) == ("websocket.close", code)


async def test_it_stays_open_for_a_role_that_may_still_watch(cookie, campaign, engineer, make_run):
    from labelhub.campaigns.services import membership_add

    run = await database_sync_to_async(make_run)(state=Run.State.RUNNING)
    await database_sync_to_async(membership_add)(campaign=campaign, user=engineer, role=Role.REVIEWER)
    communicator = await watching(cookie, run)
    await remove(campaign, engineer, Role.ENGINEER)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
