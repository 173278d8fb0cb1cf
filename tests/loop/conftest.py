"""The whole loop on the CPU with the tiny models, through the real services, the real job
runner (trainer subprocesses) and simulated labelers driving the real API."""

from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync

from labelhub.campaigns.models import Campaign, Policy
from labelhub.feedback import services as feedback
from labelhub.feedback.leaderboard import leaderboard
from labelhub.labeling import services as labeling
from labelhub.ops.demo import demo_load
from labelhub.ops.loop_simulation import run_jobs
from labelhub.ops.simulate import api_client_factory, simulate
from labelhub.training import runner
from labelhub.training import services as training
from labelhub.training.models import LoopRound, Run

#: What the simulated humans want (hidden from the models): answers of 8–16 words. The tiny
#: base model hits the band in about a third of its samples, so there is room to improve
#: and no "shorter is better" shortcut.
PREFERENCE = "length_band:8-16"


def run_queued(campaign) -> list[Run]:
    """What a worker would do: run every queued run of the campaign, oldest first, to its end,
    and the loop step each one queues (a worker on the ``loop`` queue)."""
    done = []
    while (run := Run.objects.filter(campaign=campaign, state=Run.State.QUEUED).order_by("id").first()) is not None:
        async_to_sync(runner.run_job)(run_id=run.pk)
        run_jobs(queues=("loop",))
        run.refresh_from_db()
        assert run.state == Run.State.SUCCEEDED and not run.error, (run.kind, run.error, run.error_tail[-2000:])
        done.append(run)
    return done


@dataclass
class Round1:
    campaign: Campaign
    base: Policy
    snapshot: object = None


def first_round(lead) -> Round1:
    """Demo campaign → the tiny base samples 4 answers per train prompt → simulated labelers
    rank them → snapshot."""
    campaign = demo_load().campaign
    Campaign.objects.filter(pk=campaign.pk).update(overlap=3)
    campaign.refresh_from_db()
    base = Policy.objects.get(campaign=campaign, name="tiny-base")
    training.run_create(campaign=campaign, user=lead, kind="generate", policy=base, prompt_split="train",
                        config={"num_samples": 4, "max_new_tokens": 40, "seed": 1})
    run_queued(campaign)
    assert labeling.tasks_create(campaign=campaign, policy_ids=[base.pk], split="train").made == 48
    result = simulate(campaign=campaign, client_for=api_client_factory(), labelers=3, preference=PREFERENCE, noise=0.1)
    # the 48 new tasks × overlap 3, and the demo's own 60 hand-written tasks × overlap 2
    assert result.errors == {} and result.judgments == 48 * 3 + 60 * 2
    snapshot = feedback.snapshot_create(campaign=campaign, user=lead)
    snapshot = feedback.snapshot_build(snapshot_id=snapshot.pk)
    assert snapshot.row_count > 200
    return Round1(campaign=campaign, base=base, snapshot=snapshot)


def judge_new_version(round1: Round1, policy_run: Run):
    """The new version is registered and sent to labeling; generation for it and the base;
    simulated labelers judge the comparison tasks; return the new policy and the leaderboard."""
    campaign = round1.campaign
    policy_run.refresh_from_db()
    new = policy_run.produced_policy
    assert new is not None and new.parent == round1.base
    run_queued(campaign)  # the two generation runs the loop queued
    loop_round = LoopRound.objects.get(policy=new)
    assert loop_round.state == LoopRound.State.LABELING and loop_round.tasks_created == 12
    result = simulate(campaign=campaign, client_for=api_client_factory(), labelers=3, preference=PREFERENCE,
                      noise=0.1, seed=1)
    assert result.errors == {} and result.judgments == 12 * 3
    return new, leaderboard(campaign=campaign, reference=round1.base, rounds=200)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path
    return tmp_path
