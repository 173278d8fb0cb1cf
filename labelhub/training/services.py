"""Writes for training runs: create, cancel, start, progress, finish, and the lost-run sweep.

Each function is one transaction (or, for :func:`run_enqueue`, runs after one commits).
The job in ``tasks.py`` / ``runner.py`` calls ``run_start`` → ``run_progress`` (many times)
→ ``run_finish``; everything else may be called from views, the API or the loop.

This module knows nothing of the jobs, the runner or the loop above it: it queues their work
by job name (:data:`RUN_JOB`, :data:`LOOP_STEP_JOB`) in the transaction that calls for it.
A run that ends in a way the loop cares about (a generate run, or a run that produced a
policy version) queues the loop's step with its final state; ``tasks.loop_step`` runs it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns import selectors as campaign_selectors
from labelhub.campaigns.models import Campaign, Policy, unstorable
from labelhub.core import accelerators, webhooks
from labelhub.core.db import job_defer
from labelhub.feedback.models import Snapshot
from labelhub.training import events, kinds
from labelhub.training.config_paths import config_paths
from labelhub.training.models import RewardModel, Run, RunMetric

logger = logging.getLogger(__name__)
Kind, State = Run.Kind, Run.State

#: The jobs (declared in ``tasks.py``): a run's trainer subprocess, and the loop's step after a run.
RUN_JOB, LOOP_STEP_JOB = "training.run", "training.loop_step"


class RunInvalid(Exception):
    """The request cannot make a run; ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class RunFinished(Exception):
    """The run has already finished; there is nothing to cancel."""


def runs_dir() -> Path:
    return Path(settings.LABELHUB_DATA_DIR) / "runs"


def lost_after() -> timedelta:
    """A running run whose job gave no sign of life for this long is taken for lost."""
    return timedelta(seconds=settings.LABELHUB_RUN_LOST_AFTER_SECONDS)


# --- create and cancel ------------------------------------------------------------------------


@transaction.atomic
def run_create(*, campaign: Campaign, user, kind: str, config: dict | None = None,
               snapshot: Snapshot | None = None, policy: Policy | None = None,
               reward_model: RewardModel | None = None, prompt_split: str = "", gpus: int = 0) -> Run:
    """Validate the inputs for ``kind`` and its config (the kind's defaults + ``config``, checked by
    the trainer's own rules, its paths confined and resolved by ``config_paths``), store the run
    and queue its job once the transaction commits. Raises :class:`RunInvalid` naming each field
    at fault (``config.<field>`` for the config)."""
    config = {} if config is None else config
    errors = _input_errors(campaign, kind, snapshot, policy, reward_model, prompt_split)
    if not isinstance(gpus, int) or isinstance(gpus, bool) or not 0 <= gpus <= accelerators.MAX_GPUS:
        errors["gpus"] = f"must be a whole number from 0 (any worker) to {accelerators.MAX_GPUS}"
    merged, config_errors = _checked_config(kind, config, campaign=campaign, policy=policy)
    if merged and "gpus" not in errors and gpus > 1:
        try:
            kinds.get(kind).check_processes(merged, gpus)
        except kinds.ConfigError as exc:
            config_errors |= {f"config.{field}": message for field, message in exc.problems}
    if kind in kinds.KINDS and kinds.get(kind).corpus and merged.get("full") and policy is not None and policy.adapter_path:
        config_errors["config.full"] = f"policy {policy.name!r} has an adapter; a full run trains a base's own weights"
    checked_paths, path_errors = config_paths(campaign=campaign, kind=kind, config=config)
    if errors or config_errors or path_errors:
        raise RunInvalid(errors | config_errors | path_errors)
    merged |= checked_paths
    if examples_errors := _examples_errors(kind, campaign, merged):
        raise RunInvalid(examples_errors)
    run = Run.objects.create(
        campaign=campaign, kind=kind, config=merged, snapshot=snapshot, policy=policy, reward_model=reward_model,
        prompt_split=prompt_split or kinds.get(kind).prompts or "",  # the split it used, whatever the default becomes
        gpus=gpus,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    run.run_dir = str(runs_dir() / str(run.pk))
    run.save(update_fields=["run_dir"])
    transaction.on_commit(lambda: run_enqueue(run_id=run.pk))
    return run


class RunNotResumable(Exception):
    """The run cannot be resumed; the message says why."""


#: A checkpoint folder the trainers write under ``<run folder>/checkpoints``: ``step-000012``
#: (ppo), ``checkpoint-12`` (rloo, TRL's name).
CHECKPOINT_NAME = re.compile(r"^(?:step|checkpoint)-(\d+)$")


def resumable(kind: str) -> bool:
    """Whether the kind's trainer continues from a checkpoint (its config has ``resume``)."""
    return kind in kinds.KINDS and "resume" in kinds.get(kind).config_schema()["properties"]


def newest_checkpoint(run: Run) -> Path | None:
    folder = Path(run.run_dir, "checkpoints") if run.run_dir else None
    if folder is None or not folder.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := CHECKPOINT_NAME.match(p.name))]
    found = [(step, p) for step, p in found if any(p.iterdir())]
    return max(found)[1] if found else None


def resume_refusal(run: Run) -> str | None:
    """Why ``run`` cannot be resumed, in a sentence for the user; None when it can."""
    if not resumable(run.kind):
        names = ", ".join(name for name in kinds.KINDS if resumable(name))
        return f"a {run.kind} run cannot be resumed: only {names} runs save checkpoints to continue from"
    if run.state not in (State.CANCELLED, State.FAILED):
        return f"run {run.pk} is {run.state}: only a cancelled or failed run can be resumed"
    if (later := run.resumed_by.order_by("-id").first()) is not None:
        return f"run {run.pk} was already resumed as run {later.pk}; resume that one if it stopped too"
    if newest_checkpoint(run) is None:
        save_every = run.config.get("save_every")
        every = f" (it saves one every {save_every} steps)" if save_every else ""
        return f"run {run.pk} stopped before it saved a checkpoint{every}: start a new run instead"
    return None


@transaction.atomic
def run_resume(*, run: Run, user) -> Run:
    """A new run that continues ``run`` from its newest checkpoint: the same kind, inputs and
    config with ``resume`` on, the checkpoint linked into the new run's folder (hard links: no
    copy of the weights; a copy where the file system cannot link), its job queued on commit.
    The trainer writes the earlier metrics back, so the new run shows the whole curve.
    Raises :class:`RunNotResumable`, or :class:`RunInvalid` when its inputs no longer allow it."""
    run = Run.objects.select_for_update(of=("self",)).select_related("campaign", "snapshot", "policy", "reward_model").get(pk=run.pk)
    if refusal := resume_refusal(run):
        raise RunNotResumable(refusal)
    checkpoint = newest_checkpoint(run)
    resumed = run_create(campaign=run.campaign, user=user, kind=run.kind, config=run.config | {"resume": True},
                         snapshot=run.snapshot, policy=run.policy, reward_model=run.reward_model,
                         prompt_split=run.prompt_split, gpus=run.gpus)
    resumed.resumed_from = run
    resumed.save(update_fields=["resumed_from"])
    target = Path(resumed.run_dir, "checkpoints", checkpoint.name)
    try:
        shutil.copytree(checkpoint, target, copy_function=_link_or_copy)
    except OSError:
        shutil.rmtree(resumed.run_dir, ignore_errors=True)
        raise
    return resumed  # its job (queued by run_create on commit) finds the checkpoint in place


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _input_errors(campaign, kind, snapshot, policy, reward_model, prompt_split="") -> dict[str, str]:
    if kind not in kinds.KINDS:
        return {"kind": f"must be one of {', '.join(kinds.KINDS)}"}
    declared, errors = kinds.get(kind), {}
    for name, obj in (("snapshot", snapshot), ("policy", policy), ("reward_model", reward_model)):
        if obj is not None and name not in declared.uses:
            errors[name] = f"a {kind} run takes no {name.replace('_', ' ')}"
        elif obj is not None and obj.campaign_id != campaign.pk:
            errors[name] = f"{name.replace('_', ' ')} {obj.pk} belongs to another campaign"
    if declared.snapshot:
        if snapshot is None:
            errors.setdefault("snapshot", f"a {kind} run needs a snapshot")
        elif snapshot.state != Snapshot.State.READY:
            errors.setdefault("snapshot", f"snapshot v{snapshot.version} is {snapshot.state}, not ready")
        elif snapshot.kind != declared.snapshot:
            errors.setdefault("snapshot", f"a {kind} run needs a {declared.snapshot} snapshot, not {snapshot.kind}")
        elif snapshot.row_count == 0:
            errors.setdefault("snapshot", f"snapshot v{snapshot.version} has no rows")
    if declared.policy:
        if policy is None:
            errors.setdefault("policy", f"a {kind} run needs a policy to start from")
        elif not policy.base_model:
            errors.setdefault("policy", f"policy {policy.name!r} has no base model (an external source cannot be trained or sampled)")
    if declared.reward_model == "required" and reward_model is None:
        errors.setdefault("reward_model", f"a {kind} run needs a reward model")
    if prompt_split and (not declared.prompts or prompt_split not in ("train", "held_out")):
        return {"prompt_split": f"a {kind} run takes no prompts" if not declared.prompts else "must be train or held_out"}
    if split := prompt_split or declared.prompts:
        if not campaign.prompts.filter(split=split).exists():
            errors["prompts"] = f"the campaign has no {split.replace('_', '-')} prompts for a {kind} run"
    if declared.corpus and not campaign.passages.exists():
        errors["documents"] = f"the campaign has no documents for a {kind} run to train on: import some first"
    return errors


def _checked_config(kind: str, config: Any, *, campaign: Campaign, policy: Policy | None) -> tuple[dict, dict[str, str]]:
    """(the run's config, errors): the kind's defaults, then the campaign's and the policy's
    (``kinds.RunKind.defaults_for``), then ``config``, as the trainer will read them — or the
    errors, ``config.<field>`` for each field the trainer's own checks refuse
    (``kinds.RunKind.check_config``)."""
    if kind not in kinds.KINDS:
        return {}, {}
    if not isinstance(config, dict):
        return {}, {"config": "must be a JSON object of trainer config fields"}
    if problem := unstorable(config):
        return {}, {"config": f"the value {problem}"}
    bad = [k for k in config if not isinstance(k, str) or not k.replace("_", "").isalnum()]
    if bad:
        return {}, {"config": f"not a config field name: {bad[0]!r}"}
    declared = kinds.get(kind)
    set_by_platform = sorted(set(config) & declared.platform_fields)
    if set_by_platform:
        return {}, {f"config.{name}": "is set from the run's inputs; leave it out" for name in set_by_platform}
    if renamed := {name: declared.aliases[name] for name in config if name in declared.aliases}:
        return {}, {f"config.{old}": f"is the old spelling of {new}; use {new}" for old, new in renamed.items()}
    merged = declared.defaults_for(campaign=campaign, policy=policy) | config
    try:
        return declared.check_config(merged), {}
    except kinds.ConfigError as exc:
        return {}, {f"config.{field}" if field else "config": message for field, message in exc.problems}


def examples_needed(kind: str, config: dict) -> list[tuple[str, str, int]]:
    """(config field, what needs them, how many) for each template of ``config`` that needs
    one/few-shot examples: the config's own, and for a prompt lab each variant's."""
    def count(template, shots):
        return {"one-shot": 1, "few-shot": shots if isinstance(shots, int) else 3}.get(template, 0)

    base_template, base_shots = config.get("template", "zero-shot"), config.get("shots", 3)
    if kind == Kind.PROMPT_LAB:
        needs = []
        for i, variant in enumerate(config.get("variants") or []):
            n = count(variant.get("template", base_template), variant.get("shots", base_shots))
            if n:
                needs.append(("config.variants", f"variant {i} ({variant.get('name')})", n))
        return needs
    n = count(base_template, base_shots)
    return [("config.template", f"template {base_template}", n)] if n else []


def _examples_errors(kind: str, campaign: Campaign, config: dict) -> dict[str, str]:
    """A kind that draws one/few-shot examples from the campaign needs enough train prompts with
    a reference answer (metadata "reference") when its config names no examples file."""
    declared = kinds.get(kind)
    if not declared.campaign_examples or config.get("examples"):
        return {}
    needs = examples_needed(kind, config)
    if not needs:
        return {}
    have = len(campaign_selectors.reference_examples(campaign=campaign, limit=max(n for _, _, n in needs)))
    for field, what, n in needs:
        if have < n:
            return {field: f"{what} needs {n} example{'s' if n != 1 else ''}: the campaign has {have} train "
                           f"prompt{'s' if have != 1 else ''} with a reference answer (metadata \"reference\")"}
    return {}


def run_enqueue(*, run_id: int) -> None:
    """Defer the run's job (after the run is committed) and record the job id."""
    try:
        gpus = Run.objects.filter(pk=run_id).values_list("gpus", flat=True).first() or 0
        job_id = job_defer(RUN_JOB, queue=accelerators.queue_for(gpus), run_id=run_id)
    except Exception as exc:  # the queue's database is ours too: unlikely, but never silent
        logger.exception("could not queue the job of run %s", run_id)
        _fail_unless_final(run_id, f"could not queue its job: {exc}")
        return
    Run.objects.filter(pk=run_id, job_id__isnull=True).update(job_id=job_id)


@transaction.atomic
def run_cancel(*, run: Run) -> Run:
    """A queued run is cancelled at once; a running one is flagged, and its job stops the
    trainer (SIGTERM, then SIGKILL after a grace period). Raises :class:`RunFinished`."""
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.is_final:
        raise RunFinished(f"run {run.pk} has already {run.state}")
    run.cancel_requested = True
    fields = ["cancel_requested"]
    if run.state == State.QUEUED:
        run.state, run.finished_at, run.error = State.CANCELLED, timezone.now(), "cancelled before it started"
        fields += ["state", "finished_at", "error"]
        if run.job_id:
            job_id = run.job_id
            transaction.on_commit(lambda: _cancel_queued_job(job_id))
        _run_ended(run)
    run.save(update_fields=fields)
    events.state_changed_on_commit(run=run)
    return run


def _cancel_queued_job(job_id: int) -> None:
    try:  # a job a worker took already finds its run cancelled and returns
        app.job_manager.cancel_job_by_id(job_id)
    except Exception:
        logger.exception("could not cancel job %s", job_id)


# --- the job's side ---------------------------------------------------------------------------


@transaction.atomic
def run_start(*, run_id: int, job_id: int | None = None) -> Run | None:
    """Claim a queued run for the job; None when there is nothing to run (cancelled, gone…)."""
    run = Run.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.is_final:
        return None
    if run.state == State.RUNNING:  # this job ran before: its worker died mid-run, and it was retried
        _finish(run, State.FAILED, "its worker stopped while it was running (the job was retried; "
                                   "a half-done run is not restarted) — start a new run")
        return None
    now = timezone.now()
    run.state, run.started_at, run.heartbeat_at = State.RUNNING, now, now
    run.job_id = job_id or run.job_id
    run.save(update_fields=["state", "started_at", "heartbeat_at", "job_id"])
    events.state_changed_on_commit(run=run)
    return run


def run_trainer_started(*, run_id: int, pid: int, host: str, started: float | None) -> None:
    """Record the trainer process the job started (a worker that finds it after its job died
    kills it: ``watchdog.trainers_reap``)."""
    Run.objects.filter(pk=run_id).update(trainer_pid=pid, trainer_host=host[:255], trainer_started=started)


@transaction.atomic
def run_progress(*, run_id: int, rows: list[dict], error_tail: str | None = None,
                 progress: dict | None = None) -> tuple[str, bool]:
    """Store new metrics lines and a heartbeat (and the output tail and progress.json when they
    changed); broadcast them after commit. Returns the run's (state, cancel_requested) for the
    job to act on."""
    metrics = RunMetric.objects.bulk_create(
        RunMetric(run_id=run_id, step=_step(row), values={k: v for k, v in row.items() if k != "step"})
        for row in rows if unstorable(row) is None
    )
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if error_tail is not None:
        fields["error_tail"] = error_tail
    if progress is not None and unstorable(progress) is None:
        fields["progress"] = progress
    Run.objects.filter(pk=run_id, state=State.RUNNING).update(**fields)
    events.metrics_added_on_commit(run_id=run_id, metrics=metrics)
    run = Run.objects.only("state", "cancel_requested", "error_tail", "error", "exit_code", "started_at",
                           "finished_at", "produced_policy", "produced_reward_model", "progress", "kind",
                           "summary").get(pk=run_id)
    if error_tail is not None or "progress" in fields:
        events.state_changed_on_commit(run=run)
    return run.state, run.cancel_requested


def _step(row: dict) -> int:
    try:
        return int(row.get("step", 0))
    except (TypeError, ValueError):
        return 0


@transaction.atomic
def run_finish(*, run_id: int, exit_code: int | None, summary: dict | None, error_tail: str,
               stopped: str | None = None, stderr_tail: str | None = None) -> Run:
    """Record how the trainer ended. ``stopped`` is "cancel" when the job stopped it on request,
    or a reason when it stopped it for another cause. On success, register what it produced.
    ``error_tail`` is the output shown on the run page; a failure's cause is the last line of
    ``stderr_tail`` (where the trainer writes it), or of ``error_tail`` when that is not given."""
    run = Run.objects.select_for_update(of=("self",)).select_related("policy", "snapshot").get(pk=run_id)
    _trainer_ended(run)
    if run.is_final:  # the sweep gave up on it meanwhile; keep its verdict (and the folder says it)
        transaction.on_commit(lambda: run_folder_settle(run=run))
        return run
    run.exit_code, run.error_tail, run.summary = exit_code, error_tail, _storable(summary or {})
    if stopped == "cancel":
        return _finish(run, State.CANCELLED, "cancelled on request")
    if stopped:
        return _finish(run, State.FAILED, stopped)
    if (summary or {}).get("status") == "cancelled":  # SIGTERM'd by someone else; it saved a checkpoint
        return _finish(run, State.CANCELLED, "the trainer was stopped by SIGTERM (it saved a checkpoint)")
    if exit_code != 0 or (summary or {}).get("status") != "succeeded":
        cause_tail = error_tail if stderr_tail is None else stderr_tail
        return _finish(run, State.FAILED, _failure_cause(exit_code, summary, cause_tail))
    try:
        with transaction.atomic():
            _register_outputs(run)
    except Exception as exc:
        logger.exception("run %s succeeded but registering its outputs failed", run.pk)
        return _finish(run, State.FAILED, f"the trainer finished, but registering what it produced failed: {exc}")
    return _finish(run, State.SUCCEEDED, "")


def _failure_cause(exit_code, summary, error_tail: str) -> str:
    if summary and summary.get("error"):
        return str(summary["error"])[:1000]
    lines = [line for line in error_tail.splitlines() if line.strip()]
    if lines:
        return lines[-1][:1000]
    if exit_code is not None and exit_code < 0:
        return f"the trainer was killed by signal {-exit_code}"
    return f"the trainer exited with status {exit_code} and no summary"


def _storable(value: dict) -> dict:
    return value if unstorable(value) is None else {"note": "summary.json could not be stored"}


@transaction.atomic
def run_interrupted(*, run_id: int, error_tail: str, exit_code: int | None) -> Run:
    """The job itself was cancelled (worker shutdown or abort) while the trainer ran."""
    run = Run.objects.select_for_update().get(pk=run_id)
    _trainer_ended(run)
    if run.is_final:
        transaction.on_commit(lambda: run_folder_settle(run=run))
        return run
    run.error_tail, run.exit_code = error_tail, exit_code
    if run.cancel_requested:
        return _finish(run, State.CANCELLED, "cancelled on request")
    return _finish(run, State.FAILED, "its worker stopped (shutdown or abort) while it was running — start it again")


def _trainer_ended(run: Run) -> None:
    """The job saw its trainer exit: nothing is left for a later worker to kill."""
    if run.trainer_pid is not None:
        run.trainer_pid = None
        run.save(update_fields=["trainer_pid"])


def _finish(run: Run, state: str, error: str) -> Run:
    run.state, run.error, run.finished_at = state, error, timezone.now()
    run.save()
    events.state_changed_on_commit(run=run)
    _run_ended(run)
    transaction.on_commit(lambda: run_folder_settle(run=run))
    return run


# --- the run folder agrees with the database --------------------------------------------------

#: A finished run's folder says what the database says: ``summary.json``'s "status" is the
#: run's state. When the trainer's own summary says otherwise (it succeeded but registering
#: its outputs failed; it was killed before writing one; its worker died and the run was
#: failed), the platform rewrites it, keeping the trainer's summary under "trainer_summary".
SETTLED_BY = "labelhub"


def run_folder_settle(*, run: Run) -> bool:
    """Make the folder of a finished run agree with its state; True when it was rewritten.
    A folder that does not exist (the run never started) or cannot be written is left alone."""
    if not run.is_final or not run.run_dir:
        return False
    folder = Path(run.run_dir)
    if not folder.is_dir():
        return False
    path = folder / "summary.json"
    try:
        current = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        current = None
    except (OSError, ValueError):
        current = {"note": "summary.json was not readable JSON"}
    if isinstance(current, dict) and current.get("status") == run.state:
        return False
    settled = {"status": run.state, "error": run.error, "settled_by": SETTLED_BY, "trainer_summary": current}
    try:
        tmp = path.with_name(".summary.json.settle")
        tmp.write_text(json.dumps(settled, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        logger.exception("could not write the final state of run %s into %s", run.pk, folder)
        return False
    return True


def run_trainer_gone(*, run_id: int) -> None:
    """A finished run's stray trainer was killed (or had ended unseen): forget the process and
    make the folder say the run's final state (the trainer may have written its own meanwhile)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        _trainer_ended(run)
    run_folder_settle(run=run)


def _run_ended(run: Run) -> None:
    """What follows a run's end, in the transaction that ends it: the loop's step, and the
    ``run.finished`` webhook event."""
    _loop_step_defer(run)
    webhooks.emit(run.campaign_id, webhooks.RUN_FINISHED, {"run": {
        "id": run.pk, "kind": run.kind, "state": run.state, "error": run.error[:1000],
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "produced_policy_id": run.produced_policy_id,
    }})


def _loop_step_defer(run: Run) -> None:
    """Queue the loop's step for a run that has just ended, in the transaction that ends it:
    a generate run's completions are to be recorded (or the loop rounds waiting on it failed),
    a new policy version may go to labeling. The step (``loop.advance``) decides the rest."""
    if kinds.get(run.kind).registers == "completions" or (run.state == State.SUCCEEDED and run.produced_policy_id):
        job_defer(LOOP_STEP_JOB, run_id=run.pk)


def _fail_unless_final(run_id: int, error: str) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is not None and not run.is_final:
            _finish(run, State.FAILED, error)


# --- what a successful run produces -----------------------------------------------------------


def _register_outputs(run: Run) -> None:
    """What the run's kind registers on success (a generate run's completions are the loop's)."""
    registers = kinds.get(run.kind).registers
    if registers == "reward_model":
        run.produced_reward_model = reward_model_register(run=run)
    elif registers == "policy":
        run.produced_policy = policy_register(run=run)
    elif registers == "forgetting":
        policy_forgetting_record(run=run)


def _adapter_dir(run: Run) -> Path:
    adapter = Path(run.run_dir) / "adapter"
    if not adapter.is_dir():
        raise FileNotFoundError(f"the run folder has no adapter/ ({adapter})")
    return adapter


def _model_json(run: Run) -> dict:
    path = Path(run.run_dir) / "model.json"
    info = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    return info if isinstance(info, dict) else {}


def reward_model_register(*, run: Run) -> RewardModel:
    """A RewardModel for a finished reward run (adapter and held-out accuracy from its folder)."""
    adapter, info = _adapter_dir(run), _model_json(run)
    accuracy, pairs = run.summary.get("eval_accuracy"), run.summary.get("eval_pairs")
    return RewardModel.objects.create(
        campaign_id=run.campaign_id, name=f"reward-r{run.pk}",
        base_model=str(info.get("base") or run.config.get("model", "")), adapter_path=str(adapter),
        snapshot=run.snapshot, run=run,
        held_out_accuracy=float(accuracy) if isinstance(accuracy, (int, float)) else None,
        held_out_pairs=pairs if isinstance(pairs, int) and pairs >= 0 else None,
    )


def policy_register(*, run: Run) -> Policy:
    """The new policy version a finished sft/dpo/ppo/rloo run produced: its parent is the policy
    the run started from, its weights the parent's base plus the run's adapter. (PPO merges a
    starting adapter into a new base in the run folder; model.json then names that base.)
    The version carries the run's guards, so the leaderboard and the promotion gate see a flag."""
    parent, info = run.policy, _model_json(run)
    if parent is None:
        raise ValueError("the policy the run started from was deleted")
    if run.config.get("full"):  # a full pretrain run: new weights, no adapter (model.json names them)
        if not info.get("base") or not Path(str(info["base"])).is_dir():
            raise FileNotFoundError("the run folder's model.json names no saved model")
        adapter = ""
    else:
        adapter = _adapter_dir(run)
    suffix = f"-{run.kind}-r{run.pk}"
    return Policy.objects.create(
        campaign_id=run.campaign_id, name=parent.name[: 120 - len(suffix)] + suffix,
        base_model=str(info.get("base") or parent.base_model), adapter_path=str(adapter), parent=parent,
        generation_settings=parent.generation_settings, prompt_template_kind=parent.prompt_template_kind,
        prompt_template=parent.prompt_template, guards=run.guards or {},
    )


#: The trainer's template → Policy.prompt_template_kind (a raw prompt has no template kind).
TEMPLATE_KINDS = {trainer: kind for kind, trainer in kinds.TEMPLATES.items()}
VARIANT_SETTINGS = ("max_new_tokens", "do_sample", "temperature", "top_k", "top_p")


@transaction.atomic
def policy_from_variant(*, run: Run, variant: str, name: str = "") -> Policy:
    """A prompt lab variant as a policy: the lab's policy (same base and adapter) with the
    variant's template and generation settings, its parent the lab's policy — so "send to
    labeling" pits it against the policy it came from like any other version. Raises
    :class:`RunInvalid` naming the field at fault (``variant``, ``name``, ``run``)."""
    run = Run.objects.select_related("policy").get(pk=run.pk)
    if run.kind != Kind.PROMPT_LAB:
        raise RunInvalid({"run": f"run {run.pk} is a {run.kind} run; only a prompt lab's variants become policies"})
    if run.state != State.SUCCEEDED:
        raise RunInvalid({"run": f"run {run.pk} is {run.state}; only a finished prompt lab's variants become policies"})
    parent = run.policy
    if parent is None:
        raise RunInvalid({"run": f"the policy run {run.pk} sampled with was deleted"})
    found = {v.get("name"): v for v in run.summary.get("variants") or [] if isinstance(v, dict)}
    if variant not in found:
        raise RunInvalid({"variant": f"run {run.pk} has no variant {variant!r} (one of: {', '.join(map(str, found))})"})
    settings = found[variant].get("settings") or {}
    template = TEMPLATE_KINDS.get(settings.get("template"))
    if template is None:
        raise RunInvalid({"variant": f"its template {settings.get('template')!r} is no policy template "
                                     f"(one of: {', '.join(TEMPLATE_KINDS)})"})
    name = (name or "").strip() or f"{parent.name} · {variant}"[:120]
    if len(name) > 120:
        raise RunInvalid({"name": "is longer than 120 characters"})
    if run.campaign.policies.filter(name=name).exists():
        raise RunInvalid({"name": f"the campaign already has a policy named {name!r}"})
    generation = {k: settings[k] for k in VARIANT_SETTINGS if k in settings}
    if settings.get("template") == "few-shot":
        generation["shots"] = settings.get("shots")
    return Policy.objects.create(
        campaign_id=run.campaign_id, name=name, base_model=parent.base_model, adapter_path=parent.adapter_path,
        parent=parent, generation_settings=generation, prompt_template_kind=template,
        prompt_template=parent.prompt_template,
    )


#: What the forgetting report keeps of a forgetting run's summary (``trainer evaluate``'s names).
FORGETTING_FIGURES = {"perplexity": "perplexity", "reference_perplexity": "base_perplexity",
                      "perplexity_ratio": "perplexity_ratio", "agree_rouge1": "rouge1", "agree_rouge2": "rouge2",
                      "agree_rougeL": "rougeL", "prompts": "prompts"}


def policy_forgetting_record(*, run: Run) -> Policy:
    """Keep a succeeded forgetting run's figures on the policy it scored (the latest run wins)."""
    policy = run.policy
    if policy is None:
        raise ValueError("the policy the forgetting run scored was deleted")
    missing = [k for k in FORGETTING_FIGURES if not isinstance(run.summary.get(k), (int, float))]
    if missing:
        raise ValueError(f"the run's summary lacks {missing}")
    policy.forgetting = {name: run.summary[key] for key, name in FORGETTING_FIGURES.items()} | {"run": run.pk}
    policy.save(update_fields=["forgetting"])
    return policy


def forgetting_run_create(*, policy: Policy, user=None) -> Run | None:
    """Queue the forgetting report of a new policy version, unless one is queued, running or
    done for it. Returns the new run, or None."""
    if Run.objects.filter(policy=policy, kind=Run.Kind.FORGETTING).exclude(
            state__in=[Run.State.FAILED, Run.State.CANCELLED]).exists():
        return None
    return run_create(campaign=policy.campaign, user=user, kind=Run.Kind.FORGETTING, policy=policy)


# --- runs whose worker died -------------------------------------------------------------------


def runs_fail_lost(*, now=None) -> list[int]:
    """Fail queued/running runs whose job can no longer finish them: no heartbeat for
    ``lost_after()``, or a job that is not todo/doing any more. Returns the failed run ids."""
    now = now or timezone.now()
    active = list(Run.objects.active().values("id", "state", "job_id", "heartbeat_at", "created_at"))
    job_ids = [r["job_id"] for r in active if r["job_id"]]
    statuses = dict(ProcrastinateJob.objects.filter(id__in=job_ids).values_list("id", "status"))
    failed = []
    for row in active:
        reason = _lost_reason(row, statuses, now)
        if reason and _fail_if_unchanged(row, reason, now):
            logger.warning("run %s marked failed: %s", row["id"], reason)
            failed.append(row["id"])
    return failed


def _lost_reason(row: dict, statuses: dict[int, str], now) -> str | None:
    status = statuses.get(row["job_id"], "gone") if row["job_id"] else None
    if row["state"] == State.QUEUED:
        if status is not None and status not in ("todo", "doing"):
            return f"its job is {status}; the run never started"
        if status is None and row["created_at"] < now - lost_after():
            return "its job was never queued"
        return None
    beat = row["heartbeat_at"]
    if beat is None or beat < now - lost_after():
        when = beat.strftime("%Y-%m-%d %H:%M:%S UTC") if beat else "it started"
        return f"its worker stopped: no sign of life since {when} — start it again"
    if status is not None and status != "doing":
        return f"its job is {status} but the run never finished (its worker stopped) — start it again"
    return None


def _fail_if_unchanged(row: dict, reason: str, now) -> bool:
    """Fail the run only if it is still as seen (a live job's heartbeat moves it on), and its
    job with it: a job left ``doing`` by a dead worker (or ``todo`` for a retry) ends ``failed``."""
    with transaction.atomic():
        changed = Run.objects.filter(pk=row["id"], state=row["state"], heartbeat_at=row["heartbeat_at"]).update(
            state=State.FAILED, error=reason, finished_at=now,
        )
        if changed:
            run = Run.objects.get(pk=row["id"])
            if run.job_id:
                _job_fail(run.job_id)
            events.state_changed_on_commit(run=run)
            _run_ended(run)
            transaction.on_commit(lambda: run_folder_settle(run=run))
    return bool(changed)


def _job_fail(job_id: int) -> None:
    """End a job that will never end by itself as ``failed`` (procrastinate's own function, so
    its events are recorded); a job already over is left as it is."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM procrastinate_jobs WHERE id = %s FOR UPDATE", [job_id])
        row = cursor.fetchone()
        if row and row[0] in ("todo", "doing"):
            cursor.execute("SELECT procrastinate_finish_job_v1(%s, 'failed', false)", [job_id])
