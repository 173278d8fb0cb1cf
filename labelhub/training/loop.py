"""Closing the loop: a new policy version goes back to the labelers.

``send_to_labeling`` (automatic after a policy run when the campaign's ``loop_auto`` is on,
or one click) opens a :class:`LoopRound`: the new version and the versions it is compared
with (its parent, the current best and the root base) need completions on the campaign's
held-out prompts; those that lack them get a ``generate`` run. When the last generation is
recorded, tasks pitting the new version against the others go into the queue at the
campaign's ``loop_priority`` — anonymised, in a per-labeler shuffled order.

The loop moves on through one explicit step, :func:`advance`, run by the
``training.loop_step`` job that ``services`` queues in the transaction that ends a run
(a generate run, or a run that produced a policy version). The job is retried when the
step fails, and running the step twice changes nothing the first run did not.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.db import transaction

from labelhub.campaigns.models import Policy, Prompt
from labelhub.campaigns.selectors import comparable_against, has_held_out_completions
from labelhub.campaigns.services import completions_add_generated
from labelhub.core import webhooks
from labelhub.labeling.services import version_tasks_create
from labelhub.training import events, kinds, services
from labelhub.training.models import LoopRound, Run

logger = logging.getLogger(__name__)


#: A round's generate runs: one completion per held-out prompt and version (a comparison task
#: shows each version once), not the K per train prompt a generate run started by hand makes.
COMPARISON_SAMPLES = {"num_samples": 1}


class LoopInvalid(Exception):
    pass


@transaction.atomic
def send_to_labeling(*, policy: Policy, user=None) -> LoopRound:
    """Start a loop round for ``policy``; generation runs are queued where completions are missing.
    Refused (:class:`LoopInvalid`) while an earlier round for it is generating or labeling."""
    campaign = policy.campaign
    if not campaign.prompts.filter(split=Prompt.Split.HELD_OUT).exists():
        raise LoopInvalid("The campaign has no held-out prompts to compare versions on.")
    current = LoopRound.objects.filter(policy=policy).exclude(state=LoopRound.State.FAILED).order_by("-id").first()
    if current is not None:
        raise LoopInvalid(f"{policy.name} is already sent to labeling (round {current.pk}: {current.get_state_display().lower()}).")
    against = comparable_against(policy)
    if not against:
        raise LoopInvalid(f"{policy.name} has no earlier version to be compared with.")
    loop_round = LoopRound.objects.create(campaign=campaign, policy=policy, created_by=user)
    loop_round.against.set(against)
    for p in [policy, *against]:
        if not has_held_out_completions(p):
            run = services.run_create(campaign=campaign, user=user, kind=Run.Kind.GENERATE, policy=p,
                                      prompt_split=Prompt.Split.HELD_OUT, config=COMPARISON_SAMPLES)
            loop_round.generation_runs.add(run)
    _round_advance(loop_round.pk)  # every version has its completions: the tasks now
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
                             "seed": (item.get("settings") or {}).get("seed"), "generation_settings": item.get("settings") or {},
                             "passage_ids": [p for p in item.get("passages") or [] if isinstance(p, int)]})
    return completions_add_generated(policy=run.policy, rows=rows)


def rounds_advance(*, campaign_id: int) -> list[LoopRound]:
    """Make the tasks of every round whose generations are all done; fail those whose failed."""
    waiting = LoopRound.objects.filter(campaign_id=campaign_id, state=LoopRound.State.GENERATING)
    return [r for pk in waiting.values_list("pk", flat=True) if (r := _round_advance(pk)) is not None]


@transaction.atomic
def _round_advance(round_id: int) -> LoopRound | None:
    """One round: its tasks once all its generation runs succeeded (it is then ``labeling``),
    or ``failed`` when one failed. Locked and checked again, so two steps never both make tasks.
    Every generation's completions are recorded first (again, if its own step did it already):
    the last run to succeed may be another run's step that comes first. Returns the round when
    it moved to labeling."""
    loop_round = LoopRound.objects.select_for_update().select_related("campaign", "policy").get(pk=round_id)
    if loop_round.state != LoopRound.State.GENERATING:
        return None
    runs = list(loop_round.generation_runs.all())
    failed = [r for r in runs if r.state in {Run.State.FAILED, Run.State.CANCELLED}]
    if failed:
        loop_round.state, loop_round.error = LoopRound.State.FAILED, f"generation run {failed[0].pk} {failed[0].state}"
        loop_round.save(update_fields=["state", "error"])
        return None
    if any(r.state != Run.State.SUCCEEDED for r in runs):
        return None
    for run in runs:
        completions_record(run=run)
    loop_round.tasks_created = version_tasks_create(
        campaign=loop_round.campaign, policy=loop_round.policy, against=list(loop_round.against.all()),
        priority=loop_round.campaign.loop_priority)
    loop_round.state = LoopRound.State.LABELING
    loop_round.save(update_fields=["state", "tasks_created"])
    webhooks.emit(loop_round.campaign, webhooks.LOOP_ROUND_READY, {"round": {
        "id": loop_round.pk, "policy": {"id": loop_round.policy.pk, "name": loop_round.policy.name},
        "tasks_created": loop_round.tasks_created,
    }})
    return loop_round


# --- the step after a run ---------------------------------------------------------------------


@transaction.atomic
def advance(*, run_id: int) -> str:
    """The loop's step after run ``run_id`` ended (the ``training.loop_step`` job).

    A generate run: its completions are recorded under its policy (when it succeeded) and the
    rounds waiting on it move on (tasks, or failed). A run that produced a policy version: with
    the campaign's ``loop_auto`` on, the version goes to labeling (:func:`send_to_labeling`)
    unless it has a round already. One transaction, with the run locked: a retry after a
    failure starts from nothing, and a second run of the step adds nothing (completions and
    tasks already there are skipped, a version is sent once). A succeeded run's ``error`` says
    what kept its version from labeling, or is cleared. Returns what it did, for the job's log.
    """
    run = Run.objects.select_for_update(of=("self",)).select_related("campaign", "policy").filter(pk=run_id).first()
    if run is None:
        return "the run is gone (its campaign was deleted)"
    done, note = [], ""
    if kinds.get(run.kind).registers == "completions":  # a generate run: its completions, then the rounds
        if run.state == Run.State.SUCCEEDED:
            done.append(f"{completions_record(run=run)} new completions")
        done += [f"round {r.pk}: {r.tasks_created} tasks" for r in rounds_advance(campaign_id=run.campaign_id)]
    elif run.state == Run.State.SUCCEEDED and run.produced_policy_id:
        done.append(_forgetting_once(run))
        if run.campaign.loop_auto:
            note = _send_or_note(run, done)
    if run.state == Run.State.SUCCEEDED and run.error != note:
        run.error = note
        run.save(update_fields=["error"])
        events.state_changed_on_commit(run=run)
    elif done:  # what became of its output changed (completions stored, a round opened): its page shows it
        events.state_changed_on_commit(run=run)
    return "; ".join(done) or "nothing to do"


def _send_or_note(run: Run, done: list[str]) -> str:
    """Send the run's new version to labeling; what kept it from labeling, or ""."""
    try:
        loop_round = _send_once(run)
    except (LoopInvalid, services.RunInvalid) as exc:
        return f"policy {run.produced_policy.name!r} is registered, but it was not sent to labeling: {exc}"[:1000]
    done.append(f"round {loop_round.pk} opened" if loop_round else "already sent to labeling")
    return ""


def _forgetting_once(run: Run) -> str:
    """Queue the forgetting report of the run's new version (once: a step run twice adds none)."""
    policy = Policy.objects.select_for_update().get(pk=run.produced_policy_id)
    try:
        report = services.forgetting_run_create(policy=policy, user=run.created_by)
    except services.RunInvalid as exc:
        logger.warning("no forgetting report for policy %s: %s", policy.pk, exc)
        return f"no forgetting report: {exc}"
    return f"forgetting run {report.pk} queued" if report else "forgetting report already queued"


def _send_once(run: Run) -> LoopRound | None:
    """Send the run's new version to labeling, unless a round for it exists (a step run twice,
    or a lead who was quicker). The version's row is locked so that two steps cannot both send."""
    policy = Policy.objects.select_for_update().get(pk=run.produced_policy_id)
    if LoopRound.objects.filter(policy=policy).exists():
        return None
    return send_to_labeling(policy=policy, user=run.created_by)


def step_failed(*, run_id: int, error: str, attempt: int, attempts: int) -> None:
    """Say on a succeeded run that its loop step failed (the job table keeps the traceback);
    a failed run keeps its own error. A later attempt that succeeds clears it."""
    run = Run.objects.select_related("produced_policy").filter(pk=run_id).first()
    if run is None or run.state != Run.State.SUCCEEDED:
        return
    what = f"policy {run.produced_policy.name!r} is registered" if run.produced_policy else "the completions are written"
    then = "it is retried" if attempt < attempts else "no retry is left"
    run.error = f"{what}, but the loop step failed (attempt {attempt} of {attempts}; {then}): {error}"[:1000]
    run.save(update_fields=["error"])
    events.state_changed_on_commit(run=run)
