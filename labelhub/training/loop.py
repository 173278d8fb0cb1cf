"""Closing the loop: a new policy version goes back to the labelers.

``send_to_labeling`` (automatic after a policy run when the campaign's ``loop_auto`` is on,
or one click) opens a :class:`LoopRound`: the new version and the versions it is compared
with (its parent, the current best and the root base) need completions on the campaign's
held-out prompts; those that lack them get a ``generate`` run. When the last generation is
recorded, tasks pitting the new version against the others go into the queue at the
campaign's ``loop_priority`` — anonymised, in a per-labeler shuffled order.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.db import transaction

from labelhub.campaigns.models import Completion, Policy, Prompt
from labelhub.campaigns.services import completions_add_generated
from labelhub.labeling.services import version_tasks_create
from labelhub.training import services
from labelhub.training.models import LoopRound, Run

logger = logging.getLogger(__name__)


class LoopInvalid(Exception):
    pass


def comparison_policies(policy: Policy) -> list[Policy]:
    """Earlier versions to judge ``policy`` against: its parent, the best, the root base."""
    chain, ancestor = [], policy.parent
    while ancestor is not None:
        chain.append(ancestor)
        ancestor = ancestor.parent
    best = Policy.objects.filter(campaign_id=policy.campaign_id, is_best=True).exclude(pk=policy.pk).first()
    picked = []
    for candidate in (chain[0] if chain else None, best, chain[-1] if chain else None):
        if candidate is not None and candidate not in picked:
            picked.append(candidate)
    return picked


def _has_held_out_completions(policy: Policy) -> bool:
    held_out = Prompt.objects.filter(campaign_id=policy.campaign_id, split=Prompt.Split.HELD_OUT)
    return Completion.objects.filter(policy=policy, prompt__in=held_out).exists()


@transaction.atomic
def send_to_labeling(*, policy: Policy, user=None) -> LoopRound:
    """Start a loop round for ``policy``; generation runs are queued where completions are missing."""
    campaign = policy.campaign
    if not campaign.prompts.filter(split=Prompt.Split.HELD_OUT).exists():
        raise LoopInvalid("The campaign has no held-out prompts to compare versions on.")
    against = [p for p in comparison_policies(policy) if p.base_model or _has_held_out_completions(p)]
    if not against:
        raise LoopInvalid(f"{policy.name} has no earlier version to be compared with.")
    loop_round = LoopRound.objects.create(campaign=campaign, policy=policy, created_by=user)
    loop_round.against.set(against)
    for p in [policy, *against]:
        if not _has_held_out_completions(p):
            run = services.run_create(campaign=campaign, user=user, kind=Run.Kind.GENERATE, policy=p)
            loop_round.generation_runs.add(run)
    transaction.on_commit(lambda: rounds_advance(campaign_id=campaign.pk))
    return loop_round


def completions_record(*, run: Run) -> int:
    """Store a finished generate run's completions under the policy that made them."""
    output = Path(run.summary.get("output") or Path(run.run_dir) / "completions.jsonl")
    rows = []
    with open(output, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                rows.append({"prompt_id": int(item["id"]), "text": item["completion"], "token_count": item.get("tokens"),
                             "seed": (item.get("settings") or {}).get("seed"), "generation_settings": item.get("settings") or {}})
    return completions_add_generated(policy=run.policy, rows=rows)


def rounds_advance(*, campaign_id: int) -> list[LoopRound]:
    """Make the tasks of every round whose generations are all done; fail those whose failed."""
    advanced = []
    for loop_round in LoopRound.objects.filter(campaign_id=campaign_id, state=LoopRound.State.GENERATING):
        runs = list(loop_round.generation_runs.all())
        failed = [r for r in runs if r.state in {Run.State.FAILED, Run.State.CANCELLED}]
        if failed:
            LoopRound.objects.filter(pk=loop_round.pk).update(
                state=LoopRound.State.FAILED, error=f"generation run {failed[0].pk} {failed[0].state}")
            continue
        if any(r.state != Run.State.SUCCEEDED for r in runs):
            continue
        with transaction.atomic():
            created = version_tasks_create(campaign=loop_round.campaign, policy=loop_round.policy,
                                           against=list(loop_round.against.all()), priority=loop_round.campaign.loop_priority)
            LoopRound.objects.filter(pk=loop_round.pk).update(state=LoopRound.State.LABELING, tasks_created=created)
        advanced.append(loop_round)
    return advanced


def on_policy_registered(policy: Policy, run: Run) -> None:
    if run.campaign.loop_auto:
        send_to_labeling(policy=policy, user=run.created_by)


def on_completions_generated(run: Run) -> None:
    completions_record(run=run)
    rounds_advance(campaign_id=run.campaign_id)
