"""The live dashboard's WebSocket: who may watch, the figures on connect, and judgments pushed
to every watcher from one computation per campaign and interval (not one per judgment and
watcher)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from labelhub.campaigns.models import Membership, Role
from labelhub.config.asgi import application
from labelhub.feedback import dashboard
from labelhub.labeling import services
from tests.labeling.conftest import add_prompts, ranking_for

# end_stray_connections: the consumers' database threads may keep a connection to the test database
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("end_stray_connections")]

PATH = "/ws/campaigns/helpful/dashboard/"


@pytest.fixture(autouse=True)
def quick_intervals(settings):
    settings.LABELHUB_DASHBOARD_INTERVAL = 0.2
    settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL = 0.2


@pytest.fixture
def tasks(campaign):
    """Five rank tasks of K=3 (overlap 2)."""
    add_prompts(campaign, 5)
    services.tasks_create(campaign=campaign)
    return list(campaign.tasks.order_by("id"))


@pytest.fixture
def session_cookie(users_by_role):
    from django.test import Client

    cookies = {}
    for role, user in users_by_role.items():
        client = Client()
        client.force_login(user)
        cookies[role] = f"sessionid={client.cookies['sessionid'].value}"
    return cookies


def socket(cookie, path=PATH):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def latest(communicator, until, timeout=10):
    """Messages by type, read until ``until(messages)`` holds."""
    messages = {}
    while not until(messages):
        message = await communicator.receive_json_from(timeout=timeout)
        messages[message["type"]] = message
    return messages


def both(messages):
    return {"counts", "quality"} <= set(messages)


@database_sync_to_async
def submit(labeler, n):
    for _ in range(n):
        assignment = services.next_task(labeler=labeler)
        services.judgment_submit(labeler=labeler, assignment_id=assignment.pk,
                                 data={"idempotency_key": f"key-{labeler.pk:04d}-{assignment.pk:06d}", "ranking": ranking_for(assignment)})


@pytest.mark.parametrize("role, close_code", [
    ("engineer", 4403), ("labeler", 4403), ("outsider", 4404), (None, 4401),
])
async def test_it_refuses_those_who_may_not_watch(session_cookie, tasks, role, close_code):
    connected, code = await socket(session_cookie.get(role)).connect()
    assert (connected, code) == (False, close_code)


async def test_it_refuses_an_unknown_period(session_cookie, tasks):
    connected, code = await socket(session_cookie["lead"], PATH + "?period=month").connect()
    assert (connected, code) == (False, 4400)


@pytest.mark.parametrize("role", ["lead", "reviewer"])
async def test_it_sends_the_figures_on_connect(session_cookie, tasks, role):
    communicator = socket(session_cookie[role], PATH + "?period=hour")
    assert (await communicator.connect())[0]
    messages = await latest(communicator, both)
    counts, quality = messages["counts"], messages["quality"]
    assert (counts["progress"]["tasks_total"], counts["progress"]["judgments"]) == (5, 0)
    assert [e["labeler"] for e in counts["labelers"]] == ["labeler"]
    assert len(counts["per_hour"]) == 48
    assert quality["period"] == "hour"
    assert quality["agreement"]["campaign"]["tasks"] == 0
    await communicator.disconnect()


async def test_two_watchers_get_every_judgment_from_one_computation_per_interval(
        session_cookie, settings, tasks, labeler, monkeypatch):
    settings.LABELHUB_DASHBOARD_INTERVAL = 1.0
    calls = []
    real = dashboard.counts_message
    monkeypatch.setattr(dashboard, "counts_message", lambda campaign_id: calls.append(campaign_id) or real(campaign_id))
    watchers = [socket(session_cookie["lead"]), socket(session_cookie["reviewer"])]
    for watcher in watchers:
        assert (await watcher.connect())[0]
        await latest(watcher, both)
    assert len(calls) == 1  # the second watcher got the figures the first one's computation made

    calls.clear()
    await submit(labeler, 5)  # five pings, each heard by both consumers
    for watcher in watchers:
        messages = await latest(watcher, lambda m: m.get("counts", {}).get("progress", {}).get("judgments") == 5)
        assert messages["counts"]["labelers"][0]["judgments"] == 5
    # at once on the first ping, then once more after the interval for the other four: not 5 × 2
    assert 1 <= len(calls) <= 3, calls
    for watcher in watchers:
        await watcher.disconnect()
    assert not dashboard.hub().feeds  # the last watcher gone, nothing is kept or computed


async def test_the_figures_end_on_the_last_judgment_when_servers_skip_pings(session_cookie, settings, tasks, labeler):
    from labelhub.labeling import events

    settings.LABELHUB_PROGRESS_INTERVAL = 0.5  # the server sends one ping and skips the next ones
    events._last_ping.clear()
    watcher = socket(session_cookie["lead"])
    assert (await watcher.connect())[0]
    await latest(watcher, both)
    await submit(labeler, 3)
    messages = await latest(watcher, lambda m: m.get("counts", {}).get("progress", {}).get("judgments") == 3)
    assert messages["counts"]["per_hour"][-1]["judgments"] == 3
    await watcher.disconnect()


async def test_agreement_reaches_the_watcher_when_two_labelers_overlap(session_cookie, tasks, labeler, make_user):
    @database_sync_to_async
    def second_labeler():
        from labelhub.campaigns.services import membership_add

        user = make_user("ann")
        membership_add(campaign=tasks[0].campaign, user=user, role=Role.LABELER)
        return user

    ann = await second_labeler()
    watcher = socket(session_cookie["lead"])
    assert (await watcher.connect())[0]
    await latest(watcher, both)
    await submit(labeler, 5)
    await submit(ann, 5)
    messages = await latest(watcher, lambda m: m.get("quality", {}).get("agreement", {}).get("campaign", {}).get("tasks") == 5)
    quality = messages["quality"]
    assert set(quality["agreement"]["labelers"]) == {"ann", "labeler"}
    assert set(quality["alarms"]["labelers"]) == {"ann", "labeler"}
    await watcher.disconnect()


async def test_losing_the_role_closes_the_dashboard(session_cookie, campaign, reviewer, tasks):
    watcher = socket(session_cookie["reviewer"])
    assert (await watcher.connect())[0]
    await latest(watcher, both)

    @database_sync_to_async
    def make_engineer():
        services.member_role_change(membership=Membership.objects.get(campaign=campaign, user=reviewer, role=Role.REVIEWER),
                           role=Role.ENGINEER)

    await make_engineer()
    while (message := await watcher.receive_output(timeout=5))["type"] != "websocket.close":
        pass  # figures computed before the change may still arrive
    assert message["code"] == 4403



async def test_it_passes_on_a_labeler_paused_or_reinstated_and_stays_open(session_cookie, tasks):
    from channels.layers import get_channel_layer

    from labelhub.labeling.events import campaign_group

    watcher = socket(session_cookie["lead"])
    assert (await watcher.connect())[0]
    await latest(watcher, both)
    layer = get_channel_layer()
    for kind in ("labeler.paused", "labeler.reinstated"):  # what gold scoring sends to the campaign's group
        await layer.group_send(campaign_group(tasks[0].campaign_id), {"type": kind, "labeler": "labeler", "reason": "gold"})
        messages = await latest(watcher, lambda m, kind=kind: kind in m and "counts" in m)
        assert messages[kind]["labeler"] == "labeler"
    await watcher.disconnect()


async def test_a_gold_pause_reaches_the_dashboard_and_its_gold_column(session_cookie, campaign, lead, labeler, tasks):
    from tests.labeling.test_gold_pause_events import pause

    watcher = socket(session_cookie["lead"])
    assert (await watcher.connect())[0]
    await latest(watcher, both)
    await database_sync_to_async(pause)(campaign, lead, labeler, tasks)
    messages = await latest(watcher, lambda m: "labeler.paused" in m and m.get("counts", {}).get("gold", {})
                            .get("labelers", {}).get("labeler", {}).get("paused"))
    gold = messages["counts"]["gold"]["labelers"]["labeler"]
    assert (gold["answers"], gold["correct"], gold["accuracy"]) == (1, 0, 0.0)
    await watcher.disconnect()
