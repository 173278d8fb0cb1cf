"""/ws/runs/<id>/: login and membership checked; the state and metrics so far on connect,
then new metrics and state changes as the job commits them."""

import pytest
from channels.db import database_sync_to_async

from labelhub.config.asgi import application
from labelhub.training import services
from labelhub.training.models import Run, RunMetric
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


@pytest.fixture
def run(make_run):
    run = make_run(state=Run.State.RUNNING)
    RunMetric.objects.create(run=run, step=1, values={"loss": 0.7})
    return run


def communicator_for(cookie, run_id):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return Communicator(application, f"/ws/runs/{run_id}/", headers=headers)


@pytest.mark.parametrize("role, close_code", [("labeler", 4403), ("outsider", 4404), (None, 4401)])
async def test_it_refuses_those_who_may_not_watch(session_cookie, run, role, close_code):
    connected, code = await communicator_for(session_cookie.get(role), run.pk).connect()
    assert (connected, code) == (False, close_code)


async def test_it_says_404_for_a_run_that_does_not_exist(session_cookie, run):
    connected, code = await communicator_for(session_cookie["lead"], run.pk + 1000).connect()
    assert (connected, code) == (False, 4404)


@pytest.mark.parametrize("role", ["lead", "reviewer", "engineer"])
async def test_it_sends_the_state_and_metrics_so_far_on_connect(session_cookie, run, role):
    communicator = communicator_for(session_cookie[role], run.pk)
    assert (await communicator.connect())[0]
    message = await communicator.receive_json_from()
    assert (message["type"], message["state"]) == ("snapshot", "running")
    assert [(m["step"], m["values"]) for m in message["metrics"]] == [(1, {"loss": 0.7})]
    await communicator.disconnect()


async def test_it_pushes_new_metrics_and_state_changes(session_cookie, run):
    communicator = communicator_for(session_cookie["engineer"], run.pk)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()

    await database_sync_to_async(services.run_progress)(run_id=run.pk, rows=[{"step": 2, "loss": 0.5, "kl_coef": 0.1}])
    message = await communicator.receive_json_from()
    assert message["type"] == "metrics"
    assert [(m["step"], m["values"]) for m in message["metrics"]] == [(2, {"loss": 0.5, "kl_coef": 0.1})]

    await database_sync_to_async(services.run_cancel)(run=run)
    message = await communicator.receive_json_from()
    assert (message["type"], message["state"], message["cancel_requested"]) == ("state", "running", True)
    await communicator.disconnect()
