"""The policy version a PPO/DPO/RLOO run registers carries the run's guards, so the leaderboard
and the promotion gate know a flagged version without reading runs."""

import json
from pathlib import Path

import pytest

from labelhub.training import services
from labelhub.training.models import Run
from tests.guard_samples import fine_guards, flagged_guards

pytestmark = pytest.mark.django_db


def finish(run, summary):
    folder = Path(run.run_dir)
    (folder / "adapter").mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"base": "tiny", "adapter": "adapter"}))
    Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING)
    return services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded", **summary}, error_tail="")


@pytest.mark.parametrize("kind", [Run.Kind.PPO, Run.Kind.DPO, Run.Kind.RLOO])
def test_a_flagged_runs_policy_version_is_flagged_with_its_reasons(make_run, policy, reward_model, snapshot, kind):
    inputs = {"snapshot": snapshot} if kind == Run.Kind.DPO else {"reward_model": reward_model}
    guards = flagged_guards()
    run = finish(make_run(kind=kind, policy=policy, **inputs), {"guards": guards})
    assert run.state == Run.State.SUCCEEDED and run.flagged
    version = run.produced_policy
    version.refresh_from_db()
    assert version.guards == guards
    assert version.flagged is True and version.flag_reasons == guards["reasons"] == run.flag_reasons


def test_a_fine_or_guardless_runs_version_is_not_flagged(make_run, policy, snapshot):
    fine = finish(make_run(kind=Run.Kind.DPO, policy=policy, snapshot=snapshot), {"guards": fine_guards()})
    assert fine.produced_policy.guards["flagged"] is False and not fine.produced_policy.flagged
    sft = finish(make_run(kind=Run.Kind.SFT, policy=policy, snapshot=snapshot), {})
    assert sft.produced_policy.guards == {} and not sft.produced_policy.flagged and sft.produced_policy.flag_reasons == []
