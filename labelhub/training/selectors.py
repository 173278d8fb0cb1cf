"""Reads for runs and reward models, always within a campaign the caller may see."""

from __future__ import annotations

from pathlib import Path

from django.http import Http404

from labelhub.campaigns.models import Campaign, Role
from labelhub.training.models import Run, RunMetric

#: Who may watch runs and read reward models; who may start and cancel runs.
RUN_READERS = {Role.LEAD, Role.REVIEWER, Role.ENGINEER}
RUN_STARTERS = {Role.LEAD, Role.ENGINEER}

METRICS_PAGE = 5000
ARTIFACTS_MAX = 200


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
