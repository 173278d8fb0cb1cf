"""A real reward run: judgments → snapshot → the job runs `python -m trainer reward` → metrics
rows, progress and log lines, broadcasts, state succeeded, a RewardModel registered."""

import asyncio
import random
import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from labelhub.campaigns.models import Completion, Policy, Prompt, Role, content_hash
from labelhub.campaigns.services import membership_add
from labelhub.feedback import services as feedback
from labelhub.labeling import services as labeling
from labelhub.training import runner, services
from labelhub.training.events import run_group
from labelhub.training.models import RewardModel, Run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.trainer]

GOOD = ["kind", "clear", "helpful", "calm", "honest"]
BAD = ["rude", "lazy", "wrong", "harsh", "sloppy"]


def judge_all(campaign, labelers):
    """12 prompts × (good, mixed, bad) completions, ranked good > mixed > bad by each labeler."""
    rng = random.Random(0)
    policies = [Policy.objects.create(campaign=campaign, name=n) for n in ("good", "mixed", "bad")]
    for i in range(12):
        prompt = Prompt.objects.create(campaign=campaign, text=f"Question {i}: how do I stay calm?",
                                       content_hash=content_hash(f"q{i}"))
        texts = [f" It is {' and '.join(rng.sample(GOOD, 2))}.", f" It is {rng.choice(GOOD)} and {rng.choice(BAD)}.",
                 f" It is {' and '.join(rng.sample(BAD, 2))}."]
        for policy, text in zip(policies, texts, strict=True):
            Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
    labeling.tasks_create(campaign=campaign)
    quality = {p.id: rank for rank, p in enumerate(policies)}
    for user in labelers:
        while (a := labeling.next_task(labeler=user)) is not None:
            order = sorted(a.display_order, key=lambda cid: quality[Completion.objects.get(pk=cid).policy_id])
            labeling.judgment_submit(labeler=user, assignment_id=a.pk, data={
                "idempotency_key": f"{user.username}-{a.pk:06d}", "ranking": [[c] for c in order]})


def broadcasts(channel):
    layer = get_channel_layer()

    async def drain():
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
            except TimeoutError:
                return events

    return async_to_sync(drain)()


def test_it_trains_a_reward_model_and_registers_it(campaign, lead, labeler, make_user, engineer):
    second = make_user("labeler2")
    membership_add(campaign=campaign, user=second, role=Role.LABELER)
    judge_all(campaign, [labeler, second])
    snapshot = feedback.snapshot_build(snapshot_id=feedback.snapshot_create(campaign=campaign, user=lead).pk)
    run = services.run_create(campaign=campaign, user=engineer, kind="reward", snapshot=snapshot,
                              config={"max_steps": 4, "batch_size": 8})
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(run_group(run.pk), channel)

    assert async_to_sync(runner.run_job)(run_id=run.pk) == "succeeded"

    run.refresh_from_db()
    assert (run.state, run.exit_code, run.error) == (Run.State.SUCCEEDED, 0, "")
    assert run.job_id is not None and run.started_at <= run.finished_at
    steps = list(run.metrics.values_list("step", flat=True))
    assert steps[:4] == [1, 2, 3, 4]
    assert "loss" in run.metrics.first().values and "accuracy" in run.metrics.first().values
    rm = RewardModel.objects.get()
    assert run.produced_reward_model == rm
    assert (rm.snapshot, rm.run, rm.base_model) == (snapshot, run, "tiny-rm")
    assert rm.held_out_accuracy == run.summary["eval_accuracy"] is not None
    assert rm.held_out_pairs == run.summary["eval_pairs"] > 0
    assert (run.progress["phase"], run.progress["done"], run.progress["total"]) == ("train", 4, 4)
    assert re.search(r"^step 4/4 .*loss=", run.error_tail, re.MULTILINE)  # the trainer's lines reach the log tail
    assert (Path(rm.adapter_path) / "adapter_config.json").is_file()
    assert rm.trainer_spec == run.run_dir
    assert Path(run.run_dir, "trainer-config.json").is_file() and Path(run.run_dir, "config.json").is_file()

    events = broadcasts(channel)
    sent = [m["step"] for e in events if e["type"] == "run.metrics" for m in e["metrics"]]
    assert sent == steps
    assert [e["state"] for e in events if e["type"] == "run.state"][-1] == "succeeded"
