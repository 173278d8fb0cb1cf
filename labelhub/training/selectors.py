"""Reads for runs and reward models, always within a campaign the caller may see."""

from __future__ import annotations

import json
from pathlib import Path

from django.http import Http404

from labelhub.campaigns.models import Campaign, Completion, Policy, Role
from labelhub.core.paths import PathRefused
from labelhub.training import kinds
from labelhub.training.models import LoopRound, Run, RunMetric

#: Who may watch runs and read reward models; who may start and cancel runs.
RUN_READERS = {Role.LEAD, Role.REVIEWER, Role.ENGINEER}
RUN_STARTERS = {Role.LEAD, Role.ENGINEER}

METRICS_PAGE = 5000
ARTIFACTS_MAX = 200
COMPARE_CHOICES = 20
SUMMARY_VALUE_CHARS = 300


def run_list(*, campaign: Campaign):
    return (
        campaign.runs.select_related("snapshot", "policy", "reward_model", "produced_policy",
                                     "produced_reward_model", "created_by")
        .order_by("-id")
    )


def run_get(*, campaign: Campaign, pk: int) -> Run:
    run = run_list(campaign=campaign).filter(pk=pk).first()
    if run is None:
        raise Http404("No such run.")
    return run


def policy_for_run_reader(*, user, pk: int) -> Policy:
    """A policy of a campaign where the user may read runs (404 otherwise: no existence leak)."""
    policy = Policy.objects.select_related("campaign").filter(
        pk=pk, campaign__memberships__user=user, campaign__memberships__role__in=RUN_READERS).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


def run_for_user(*, user, pk: int) -> tuple[Run | None, set[str]]:
    """The run and the user's roles in its campaign; (None, set()) for non-members."""
    run = Run.objects.select_related("campaign").filter(pk=pk, campaign__in=Campaign.objects.for_user(user)).first()
    return run, (run.campaign.roles_of(user) if run else set())


def run_flags(*, run_id: int) -> tuple[str, bool]:
    """(state, cancel_requested): what the job polls while the trainer runs."""
    return Run.objects.filter(pk=run_id).values_list("state", "cancel_requested").get()


def trainers_left(*, host: str) -> list[Run]:
    """Finished runs on ``host`` whose job never saw its trainer end (the job's worker died):
    their trainer may still be running there."""
    return list(
        Run.objects.filter(trainer_pid__isnull=False, trainer_host=host, state__in=Run.FINAL_STATES)
        .only("id", "state", "error", "run_dir", "trainer_pid", "trainer_started")
    )


def metric_list(*, run: Run, after: int = 0, limit: int = METRICS_PAGE) -> list[RunMetric]:
    """Metric rows of the run with id > ``after``, oldest first."""
    return list(RunMetric.objects.filter(run=run, id__gt=after).order_by("id")[:limit])


def reward_model_list(*, campaign: Campaign):
    return campaign.reward_models.select_related("snapshot", "run").order_by("-id")


def artifact_list(*, run: Run) -> list[dict]:
    """Files in the run folder (relative path and size), adapters' insides included."""
    root = Path(run.run_dir) if run.run_dir else None
    if root is None or not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            files.append({"path": str(path.relative_to(root)), "bytes": path.stat().st_size})
            if len(files) >= ARTIFACTS_MAX:
                break
    return files


def run_file(*, run: Run, path: str = "") -> Path:
    """The file or folder ``path`` names inside the run folder (the whole folder when empty),
    resolved. :class:`~labelhub.core.paths.PathRefused` for anything outside it or missing;
    :class:`FileNotFoundError` when the run has no folder yet."""
    if not run.run_dir or not Path(run.run_dir).is_dir():
        raise FileNotFoundError("The run has no folder yet.")
    root = Path(run.run_dir).resolve()
    try:
        real = (root / path.lstrip("/")).resolve()  # symlinks and .. followed, then checked
        exists = real.exists()
    except (OSError, RuntimeError, ValueError):
        raise PathRefused("cannot be read as a path on this server") from None
    if not real.is_relative_to(root):
        raise PathRefused("is outside the run folder")
    if not exists:
        raise PathRefused("names no file or folder in the run folder")
    return real


def lineage(*, run: Run) -> list[dict]:
    """What the run came from and what it made: snapshot → reward model → policy chain."""
    steps = []
    if run.snapshot_id:
        steps.append({"kind": "snapshot", "id": run.snapshot_id, "label": f"snapshot v{run.snapshot.version}"})
    rm = run.reward_model
    if rm is not None:
        if rm.snapshot_id and rm.snapshot_id != run.snapshot_id:
            steps.append({"kind": "snapshot", "id": rm.snapshot_id, "label": f"snapshot v{rm.snapshot.version}"})
        steps.append({"kind": "reward_model", "id": rm.pk, "label": rm.name, "run": rm.run_id})
    chain, policy = [], run.policy
    while policy is not None and len(chain) < 20:
        chain.append({"kind": "policy", "id": policy.pk, "label": policy.name})
        policy = policy.parent
    steps += reversed(chain)
    steps.append({"kind": "run", "id": run.pk, "label": f"run {run.pk} ({run.kind})"})
    if run.produced_reward_model_id:
        steps.append({"kind": "reward_model", "id": run.produced_reward_model_id, "label": run.produced_reward_model.name})
    if run.produced_policy_id:
        steps.append({"kind": "policy", "id": run.produced_policy_id, "label": run.produced_policy.name})
    return steps


def has_metrics(*, run: Run) -> bool:
    return RunMetric.objects.filter(run=run).exists()


def comparable_runs(*, run: Run) -> list[Run]:
    """Runs of the same kind in the campaign whose curves can be overlaid on this run's."""
    if not run.draws_curves:
        return []
    others = run.campaign.runs.filter(kind=run.kind, metrics__isnull=False).exclude(pk=run.pk).distinct()
    return list(others.select_related("policy", "snapshot", "reward_model").order_by("-id")[:COMPARE_CHOICES])


def summary_rows(*, summary: dict) -> list[tuple[str, str]]:
    """summary.json as (field, value) rows for a table, by field name: nested objects as dotted
    fields, numbers to 4 significant digits, long values cut. "status" is the run's state and
    "guards" has a section of its own."""
    rows: list[tuple[str, str]] = []

    def add(prefix: str, value) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                add(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            rows.append((prefix, _summary_value(value)))

    for key, value in (summary or {}).items():
        if key not in ("status", "guards"):
            add(str(key), value)
    return sorted(rows)  # the database keeps no key order


def _summary_value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) or v is None for v in value):
        text = ", ".join(_summary_value(v) for v in value)
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= SUMMARY_VALUE_CHARS else text[: SUMMARY_VALUE_CHARS - 1] + "…"


def loop_rounds_of(*, run: Run) -> list[LoopRound]:
    """The loop rounds that send the run's new policy version to labeling, newest first."""
    if not run.produced_policy_id:
        return []
    return list(LoopRound.objects.filter(policy_id=run.produced_policy_id).order_by("-created_at"))


def generated_completions(*, run: Run) -> dict | None:
    """For a generate run: how many completions it wrote, and how many its policy now has on
    the prompts it generated for (they are stored when the loop's step records them)."""
    if run.kind != Run.Kind.GENERATE or run.policy is None or run.state != Run.State.SUCCEEDED:
        return None
    split = run.prompt_split or kinds.get(run.kind).prompts
    stored = Completion.objects.filter(policy=run.policy, prompt__campaign=run.campaign, prompt__split=split).count()
    written = run.summary.get("completions") if isinstance(run.summary, dict) else None
    return {"written": written if isinstance(written, int) else None, "stored": stored, "split": split,
            "policy": run.policy}


#: The most prompts the Run page shows side by side (the whole file is a download).
LAB_PROMPTS_SHOWN = 100


def prompt_lab_results(*, run: Run) -> dict | None:
    """For a finished prompt lab: its variants (settings, ROUGE, length) and the first
    :data:`LAB_PROMPTS_SHOWN` prompts with each variant's answer, from its answers.jsonl."""
    if run.kind != Run.Kind.PROMPT_LAB or run.state != Run.State.SUCCEEDED or not isinstance(run.summary, dict):
        return None
    variants = [v for v in run.summary.get("variants") or [] if isinstance(v, dict)]
    rows, total = [], 0
    path = Path(run.run_dir) / "answers.jsonl"
    if path.is_file():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                total += 1
                if len(rows) < LAB_PROMPTS_SHOWN:
                    row = json.loads(line)
                    prompt = row.get("prompt")
                    if isinstance(prompt, list):
                        prompt = "\n\n".join(f"{m.get('role')}: {m.get('content')}" for m in prompt if isinstance(m, dict))
                    rows.append({"prompt": prompt, "reference": row.get("reference"), "answers": row.get("answers") or []})
    return {"variants": variants, "rows": rows, "total": total, "shown": len(rows),
            "has_reference": any(v.get("rougeL") is not None for v in variants)}
