"""The Run API exposes a finished run's guards (summary.json "guards"), ``flagged`` and
``flag_reasons`` to the roles that read runs; the run's live state event carries them too."""

import pytest

from labelhub.training.events import state_payload
from labelhub.training.models import Run
from tests.guard_samples import fine_guards, flagged_guards
from tests.training.conftest import READ

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/runs/"


@pytest.mark.parametrize("role, status", READ)
def test_it_gives_readers_a_flagged_runs_guards_and_reasons(client_as, make_run, policy, role, status):
    guards = flagged_guards()
    run = make_run(kind=Run.Kind.PPO, policy=policy, state=Run.State.SUCCEEDED, summary={"status": "succeeded", "guards": guards})
    response = client_as(role).get(f"{URL}{run.pk}/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["guards"] == guards
        assert body["flagged"] is True and body["flag_reasons"] == guards["reasons"] and len(guards["reasons"]) >= 2
        listed = client_as(role).get(URL).json()["results"]
        assert [(r["id"], r["flagged"]) for r in listed] == [(run.pk, True)]


def test_it_says_not_flagged_for_fine_guards_and_null_without_any(client_as, make_run, policy, snapshot):
    fine = make_run(kind=Run.Kind.DPO, policy=policy, state=Run.State.SUCCEEDED, summary={"guards": fine_guards()})
    reward = make_run(kind=Run.Kind.REWARD, snapshot=snapshot, state=Run.State.SUCCEEDED, summary={"eval_accuracy": 0.8})
    running = make_run(kind=Run.Kind.PPO, policy=policy, state=Run.State.RUNNING)
    body = {r["id"]: r for r in client_as("engineer").get(URL).json()["results"]}
    assert (body[fine.pk]["flagged"], body[fine.pk]["flag_reasons"], body[fine.pk]["guards"]["prompts"]) == (False, [], 8)
    for run in (reward, running):
        assert (body[run.pk]["guards"], body[run.pk]["flagged"], body[run.pk]["flag_reasons"]) == (None, False, [])


def test_the_state_event_carries_the_guards(make_run, policy):
    guards = flagged_guards()
    run = make_run(kind=Run.Kind.RLOO, policy=policy, state=Run.State.SUCCEEDED, summary={"guards": guards})
    assert state_payload(run)["guards"] == guards
    assert state_payload(make_run(kind=Run.Kind.RLOO, policy=policy))["guards"] is None
