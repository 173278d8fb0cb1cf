"""The lead is told live when a labeler is paused or reinstated: the campaign's WebSocket
(the one its pages already follow) passes the event to leads and reviewers, not engineers."""

import pytest
from channels.db import database_sync_to_async

from labelhub.campaigns.services import campaign_update
from labelhub.labeling import services
from labelhub.labeling.models import Task
from tests.labeling.test_progress_consumer import communicator_for, session_cookie  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def pause(campaign, lead, labeler, tasks):
    campaign_update(campaign=campaign, user=lead, gold_rate=1.0, gold_min_answers=1)
    for task in tasks[:2]:
        order = [tc.completion_id for tc in task.task_completions.all()]
        services.task_gold_set(task=task, answer={"ranking": [[cid] for cid in order]})
    assignment = services.next_task(labeler=labeler)
    order = [tc.completion_id for tc in Task.objects.get(pk=assignment.task_id).task_completions.all()]
    services.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data={
        "idempotency_key": "key-wrong-1", "ranking": [[cid] for cid in order[::-1]]})


async def next_event(communicator):
    while True:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] != "progress":
            return message


@pytest.mark.parametrize("role", ["lead", "reviewer"])
async def test_leads_and_reviewers_hear_of_a_pause_and_a_reinstatement(session_cookie, campaign, lead, labeler, tasks,  # noqa: F811
                                                                       role):
    communicator = communicator_for(session_cookie[role])
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()
    await database_sync_to_async(pause)(campaign, lead, labeler, tasks)
    event = await next_event(communicator)
    assert (event["type"], event["labeler"], event["automatic"]) == ("labeler.paused", "labeler", True)
    assert "below the campaign's threshold" in event["reason"] and event["figures"]["answered"] == 1
    await database_sync_to_async(services.labeler_reinstate)(campaign=campaign, labeler=labeler, by=lead, note="ok")
    event = await next_event(communicator)
    assert (event["type"], event["by"], event["reason"]) == ("labeler.reinstated", "lead", "ok")
    await communicator.disconnect()


async def test_engineers_do_not_hear_of_pauses(session_cookie, campaign, lead, labeler, tasks):  # noqa: F811
    communicator = communicator_for(session_cookie["engineer"])
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()
    await database_sync_to_async(pause)(campaign, lead, labeler, tasks)
    while not await communicator.receive_nothing(timeout=1):
        assert (await communicator.receive_json_from())["type"] == "progress"
    await communicator.disconnect()
