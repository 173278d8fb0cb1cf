"""Each event is emitted where it happens, in that transaction: a run that ends, a loop round
whose tasks are in the queue, a snapshot written, a campaign complete (its last task judged, or
set to done). A subscribed webhook gets a delivery with the event's data; others get none."""

import pytest

from labelhub.campaigns.models import Campaign, Completion, Policy, Prompt, content_hash
from labelhub.campaigns.services import campaign_update
from labelhub.core import webhooks
from labelhub.feedback import services as feedback_services
from labelhub.labeling import services as labeling_services
from labelhub.training import loop
from labelhub.training import services as training_services
from labelhub.training.models import Run
from labelhub.webhooks import services
from labelhub.webhooks.models import Delivery
from tests.labeling.conftest import add_prompts, ranking_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(campaign, lead):
    return services.webhook_create(campaign=campaign, user=lead, url="https://example.org/hook",
                                   events=list(webhooks.EVENTS))


def sent(event: str) -> list[dict]:
    return [d.body["data"] for d in Delivery.objects.filter(event=event).order_by("id")]


def test_a_run_that_ends_is_run_finished(campaign, subscribed):
    run = Run.objects.create(campaign=campaign, kind=Run.Kind.REWARD, state=Run.State.QUEUED)
    training_services.run_cancel(run=run)
    [data] = sent(webhooks.RUN_FINISHED)
    assert data["run"] | {"finished_at": None} == {
        "id": run.pk, "kind": "reward", "state": "cancelled", "error": "cancelled before it started",
        "finished_at": None, "produced_policy_id": None}
    assert Delivery.objects.get().body["campaign"]["slug"] == "helpful"


def test_a_written_snapshot_is_snapshot_written(campaign, lead, subscribed):
    snapshot = feedback_services.snapshot_create(campaign=campaign, user=lead)
    assert sent(webhooks.SNAPSHOT_WRITTEN) == []  # made, not yet written
    feedback_services.snapshot_build(snapshot_id=snapshot.pk)
    [data] = sent(webhooks.SNAPSHOT_WRITTEN)
    assert data["snapshot"]["id"] == snapshot.pk and data["snapshot"]["version"] == snapshot.version
    assert data["snapshot"]["row_count"] == 0


def test_a_loop_rounds_tasks_in_the_queue_are_loop_round_ready(campaign, lead, subscribed):
    base = Policy.objects.create(campaign=campaign, name="base", base_model="/models/tiny")
    new = Policy.objects.create(campaign=campaign, name="base-dpo-r1", base_model="/models/tiny", parent=base)
    for i in range(3):
        prompt = Prompt.objects.create(campaign=campaign, text=f"q{i}", content_hash=content_hash(f"q{i}"),
                                       split="held_out")
        for policy in (base, new):
            Completion.objects.create(prompt=prompt, policy=policy, text=f"{policy.name} {i}",
                                      content_hash=content_hash(f"{policy.name} {i}"))
    loop_round = loop.send_to_labeling(policy=new, user=lead)
    loop_round.refresh_from_db()
    [data] = sent(webhooks.LOOP_ROUND_READY)
    assert data == {"round": {"id": loop_round.pk, "policy": {"id": new.pk, "name": "base-dpo-r1"},
                              "tasks_created": loop_round.tasks_created}}
    assert loop_round.tasks_created == 3


def test_the_last_judgment_a_campaign_wants_is_campaign_complete(campaign, labeler, reviewer, subscribed):
    campaign_update(campaign=campaign, overlap=1)
    add_prompts(campaign, 2)
    assert labeling_services.tasks_create(campaign=campaign).made == 2
    for i in range(2):
        assert sent(webhooks.CAMPAIGN_COMPLETE) == []
        lease = labeling_services.next_task(labeler=labeler)
        labeling_services.judgment_submit(labeler=labeler, assignment_id=lease.pk,
                                          data={"idempotency_key": f"key-{i:08d}", "ranking": ranking_for(lease)})
    assert sent(webhooks.CAMPAIGN_COMPLETE) == [{"reason": "all_tasks_judged"}]


def test_a_lead_setting_the_campaign_done_is_campaign_complete(campaign, subscribed):
    campaign_update(campaign=campaign, status=Campaign.Status.PAUSED)
    assert sent(webhooks.CAMPAIGN_COMPLETE) == []
    campaign_update(campaign=campaign, status=Campaign.Status.DONE)
    campaign_update(campaign=campaign, status=Campaign.Status.DONE)  # no change: no second event
    assert sent(webhooks.CAMPAIGN_COMPLETE) == [{"reason": "status_done", "status": "done"}]


def test_an_event_no_webhook_wants_queues_nothing(campaign, lead, django_assert_num_queries):
    services.webhook_create(campaign=campaign, user=lead, url="https://example.org/h", events=[webhooks.LABELER_PAUSED])
    with django_assert_num_queries(1):  # which webhooks listen: none
        webhooks.emit(campaign, webhooks.SNAPSHOT_WRITTEN, {})
    assert not Delivery.objects.exists()


def test_it_refuses_an_event_it_does_not_know(campaign):
    with pytest.raises(webhooks.UnknownEvent):
        webhooks.emit(campaign, "run.exploded", {})
