"""Sending a new policy version to labeling: generation runs, then comparison tasks."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.campaigns.selectors import comparison_policies
from labelhub.campaigns.services import completions_add_generated
from labelhub.training import loop, services
from labelhub.training.events import run_group
from labelhub.training.models import LoopRound, Run
from tests.training.conftest import loop_steps_queued

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path


@pytest.fixture
def versions(campaign):
    for i in range(6):
        Prompt.objects.create(campaign=campaign, text=f"q{i}", content_hash=content_hash(f"q{i}"),
                              split="held_out" if i < 3 else "train")
    base = Policy.objects.create(campaign=campaign, name="base", base_model="/models/tiny")
    new = Policy.objects.create(campaign=campaign, name="base-ppo-r9", base_model="/models/tiny",
                                adapter_path="/runs/9/adapter", parent=base)
    return base, new


def loop_step(run):
    """What the ``training.loop_step`` job queued for the run does (tests/training/test_loop_step_job.py
    runs it through a worker)."""
    assert run.pk in loop_steps_queued()
    return loop.advance(run_id=run.pk)


def finish_generation(run, texts_by_prompt, django_capture_on_commit_callbacks):
    """What the jobs do when `trainer generate` succeeds: write its output, finish, the loop step."""
    output = f"{run.run_dir}/completions.jsonl"
    import os

    os.makedirs(run.run_dir, exist_ok=True)
    with open(output, "w") as fh:
        for prompt_id, text in texts_by_prompt.items():
            fh.write(json.dumps({"id": prompt_id, "sample": 0, "completion": text, "tokens": 4,
                                 "settings": {"seed": 0, "temperature": 1.0}}) + "\n")
    services.run_start(run_id=run.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded", "output": output}, error_tail="")
    loop_step(run)


def held_out(campaign):
    return list(campaign.prompts.filter(split="held_out").values_list("id", flat=True))


def test_it_generates_for_each_version_then_queues_comparison_tasks(campaign, lead, versions, django_capture_on_commit_callbacks):
    base, new = versions
    with django_capture_on_commit_callbacks(execute=True):
        loop_round = loop.send_to_labeling(policy=new, user=lead)
    runs = list(loop_round.generation_runs.order_by("id"))
    assert [(r.kind, r.policy) for r in runs] == [("generate", new), ("generate", base)]
    assert list(loop_round.against.all()) == [base]
    finish_generation(runs[0], {p: f"new answer {p}" for p in held_out(campaign)}, django_capture_on_commit_callbacks)
    assert LoopRound.objects.get().state == LoopRound.State.GENERATING  # still waiting for the base
    finish_generation(runs[1], {p: f"base answer {p}" for p in held_out(campaign)}, django_capture_on_commit_callbacks)
    loop_round.refresh_from_db()
    assert (loop_round.state, loop_round.tasks_created) == (LoopRound.State.LABELING, 3)
    for task in campaign.tasks.all():
        assert set(task.completions.values_list("policy__name", flat=True)) == {"base", "base-ppo-r9"}
        assert task.priority == campaign.loop_priority and task.prompt.split == "held_out"
    assert Completion.objects.get(policy=new, prompt_id=held_out(campaign)[0]).generation_settings["temperature"] == 1.0


def test_it_skips_generation_for_versions_that_have_completions(campaign, lead, versions, django_capture_on_commit_callbacks):
    base, new = versions
    for policy in versions:
        completions_add_generated(policy=policy, rows=[{"prompt_id": p, "text": f"{policy.name} {p}"} for p in held_out(campaign)])
    with django_capture_on_commit_callbacks(execute=True):
        loop_round = loop.send_to_labeling(policy=new, user=lead)
    loop_round.refresh_from_db()
    assert loop_round.generation_runs.count() == 0
    assert (loop_round.state, loop_round.tasks_created) == (LoopRound.State.LABELING, 3)


def test_it_fails_the_round_when_a_generation_fails(campaign, lead, versions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        loop_round = loop.send_to_labeling(policy=versions[1], user=lead)
    run = loop_round.generation_runs.first()
    services.run_start(run_id=run.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_finish(run_id=run.pk, exit_code=1, summary={"status": "failed", "error": "boom"}, error_tail="boom")
    loop_step(run)
    loop_round.refresh_from_db()
    assert loop_round.state == LoopRound.State.FAILED and str(run.pk) in loop_round.error


def test_it_fails_the_round_when_a_generation_is_cancelled_before_it_starts(campaign, lead, versions):
    loop_round = loop.send_to_labeling(policy=versions[1], user=lead)
    run = loop_round.generation_runs.first()
    services.run_cancel(run=run)
    loop_step(run)
    loop_round.refresh_from_db()
    assert (loop_round.state, loop_round.error) == (LoopRound.State.FAILED, f"generation run {run.pk} cancelled")


def test_it_compares_with_the_parent_the_best_and_the_root(campaign, versions):
    base, new = versions
    best = Policy.objects.create(campaign=campaign, name="best", base_model="/m", is_best=True, parent=base)
    child = Policy.objects.create(campaign=campaign, name="child", base_model="/m", parent=new)
    assert comparison_policies(child) == [new, best, base]


def test_it_refuses_a_version_already_on_its_way_to_labeling(campaign, lead, versions):
    first = loop.send_to_labeling(policy=versions[1], user=lead)
    with pytest.raises(loop.LoopInvalid, match=f"already sent to labeling \\(round {first.pk}: generating completions\\)"):
        loop.send_to_labeling(policy=versions[1], user=lead)
    LoopRound.objects.filter(pk=first.pk).update(state=LoopRound.State.FAILED)
    assert loop.send_to_labeling(policy=versions[1], user=lead).pk != first.pk  # a failed round may be sent again


def test_it_refuses_a_version_with_nothing_to_compare(campaign, versions):
    with pytest.raises(loop.LoopInvalid, match="no earlier version"):
        loop.send_to_labeling(policy=versions[0])


def test_it_sends_automatically_after_a_policy_run_when_the_campaign_wants_it(campaign, lead, versions):
    base, new = versions
    run = Run.objects.create(campaign=campaign, kind="ppo", policy=base, produced_policy=new, state=Run.State.SUCCEEDED,
                             created_by=lead, run_dir="/tmp/x")
    campaign.loop_auto = False
    campaign.save()
    assert loop.advance(run_id=run.pk) == f"forgetting run {Run.objects.get(kind='forgetting').pk} queued"  # whatever loop_auto
    assert not LoopRound.objects.exists()
    campaign.loop_auto = True
    campaign.save()
    loop.advance(run_id=run.pk)
    loop_round = LoopRound.objects.get()
    assert (loop_round.policy, loop_round.created_by, list(loop_round.against.all())) == (new, lead, [base])
    assert loop_round.generation_runs.count() == 2


def test_it_says_on_the_run_why_its_version_did_not_go_to_labeling(campaign, lead, versions):
    base, new = versions
    campaign.prompts.filter(split="held_out").update(split="train")
    run = Run.objects.create(campaign=campaign, kind="dpo", policy=base, produced_policy=new, state=Run.State.SUCCEEDED,
                             created_by=lead, run_dir="/tmp/x")
    loop.advance(run_id=run.pk)
    run.refresh_from_db()
    assert (run.state, run.error) == ("succeeded", "policy 'base-ppo-r9' is registered, but it was not sent to labeling: "
                                                   "The campaign has no held-out prompts to compare versions on.")
    assert not LoopRound.objects.exists()


@pytest.mark.parametrize("role, expected", [
    ("lead", 201), ("engineer", 201), ("reviewer", 403), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_lets_leads_and_engineers_send_to_labeling(users_by_role, api_as, versions, role, expected):
    response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/loop-rounds/", {"policy": versions[1].pk}, format="json")
    assert response.status_code == expected
    assert LoopRound.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("role, expected", [("engineer", 302), ("reviewer", 403), ("labeler", 403), ("outsider", 404)])
def test_it_has_a_send_to_labeling_button(client, users_by_role, versions, role, expected):
    client.force_login(users_by_role[role])
    response = client.post("/campaigns/helpful/runs/send-to-labeling/", {"policy": versions[1].pk, "next": "https://evil.example/"})
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == "/campaigns/helpful/runs/"  # no open redirect
        assert LoopRound.objects.count() == 1


def test_the_step_tells_the_run_page_once_the_completions_are_stored(campaign, lead, versions,
                                                                    django_capture_on_commit_callbacks):
    loop_round = loop.send_to_labeling(policy=versions[1], user=lead)
    run = loop_round.generation_runs.get(policy=versions[1])
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(run_group(run.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        finish_generation(run, {p: f"answer {p}" for p in held_out(campaign)}, django_capture_on_commit_callbacks)

    async def drain():
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(layer.receive(channel), timeout=0.2))
            except TimeoutError:
                return events

    events = async_to_sync(drain)()
    assert [e["state"] for e in events if e["type"] == "run.state"][-2:] == ["succeeded", "succeeded"]
    assert Completion.objects.filter(policy=versions[1]).count() == len(held_out(campaign))
