"""Resume a cancelled or failed run from its newest checkpoint, from the API and the Run page:
a new run with the same inputs and config and ``resume`` on, the checkpoint linked into its
folder (as tests/trainer/test_ppo_resume.py resumes a copied checkpoint); refused, with the
reason, for kinds without checkpoints, runs that did not stop, and runs that saved none."""

import json
import os
from pathlib import Path

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.training import runner, services
from labelhub.training.models import Run
from tests.training.conftest import write_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def stopped(campaign, engineer, policy, reward_model, prompts):
    """A cancelled PPO run that saved checkpoints at steps 4 and 8 (the newest must be taken)."""
    run = services.run_create(campaign=campaign, user=engineer, kind="ppo", policy=policy, reward_model=reward_model,
                              config={"steps": 12, "save_every": 4})
    Run.objects.filter(pk=run.pk).update(state=Run.State.CANCELLED, error="cancelled on request")
    for step in (4, 8):
        folder = Path(run.run_dir, "checkpoints", f"step-{step:06d}")
        folder.mkdir(parents=True)
        (folder / "state.pt").write_bytes(b"weights at step %d" % step)
    run.refresh_from_db()
    return run


def api_url(run):
    return f"/api/campaigns/helpful/runs/{run.pk}/resume/"


@pytest.mark.parametrize("role, expected", write_cases(201))
def test_leads_and_engineers_resume_over_the_api(client_as, stopped, role, expected, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(role).post(api_url(stopped))
    assert response.status_code == expected
    assert Run.objects.count() == (2 if expected == 201 else 1)
    if expected == 201:
        resumed = Run.objects.get(pk=response.json()["id"])
        assert response.json()["resumed_from"] == stopped.pk
        assert (resumed.kind, resumed.state, resumed.policy_id, resumed.reward_model_id) == (
            "ppo", "queued", stopped.policy_id, stopped.reward_model_id)
        assert resumed.config == stopped.config | {"resume": True}
        assert ProcrastinateJob.objects.get(pk=resumed.job_id).args == {"run_id": resumed.pk}


def test_the_new_run_starts_the_trainer_on_the_newest_checkpoint(stopped, engineer):
    resumed = services.run_resume(run=stopped, user=engineer)
    linked = Path(resumed.run_dir, "checkpoints")
    assert sorted(p.name for p in linked.iterdir()) == ["step-000008"]
    state = linked / "step-000008" / "state.pt"
    assert state.read_bytes() == b"weights at step 8"
    assert os.stat(state).st_ino == os.stat(Path(stopped.run_dir, "checkpoints", "step-000008", "state.pt")).st_ino
    command = runner.prepare(resumed)
    assert command[-2:] == ["--out", resumed.run_dir]
    trainer_config = json.loads(Path(command[command.index("--config") + 1]).read_text())
    assert trainer_config["resume"] is True and trainer_config["steps"] == 12


def test_it_refuses_a_second_resume_of_the_same_run(stopped, engineer, client_as):
    first = services.run_resume(run=stopped, user=engineer)
    response = client_as("engineer").post(api_url(stopped))
    assert response.status_code == 409
    assert f"already resumed as run {first.pk}" in response.json()["detail"]


@pytest.mark.parametrize("change, reason", [
    ({"state": Run.State.SUCCEEDED}, "only a cancelled or failed run can be resumed"),
    ({"state": Run.State.RUNNING}, "only a cancelled or failed run can be resumed"),
    ({"kind": Run.Kind.REWARD}, "a reward run cannot be resumed: only ppo, rloo runs save checkpoints"),
])
def test_it_refuses_runs_that_cannot_continue_and_makes_nothing(client_as, stopped, change, reason):
    Run.objects.filter(pk=stopped.pk).update(**change)
    response = client_as("lead").post(api_url(stopped))
    assert response.status_code == 409
    assert reason in response.json()["detail"]
    assert Run.objects.count() == 1


def test_it_refuses_a_run_that_saved_no_checkpoint(client_as, stopped):
    for folder in Path(stopped.run_dir, "checkpoints").iterdir():
        for file in folder.iterdir():
            file.unlink()
    response = client_as("lead").post(api_url(stopped))
    assert response.status_code == 409
    assert "stopped before it saved a checkpoint (it saves one every 4 steps)" in response.json()["detail"]
    assert Run.objects.count() == 1


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        client.force_login(users_by_role[role])
        return client

    return make


def page(run):
    return f"/campaigns/helpful/runs/{run.pk}/"


def test_an_engineer_resumes_from_the_run_page(page_as, stopped, django_capture_on_commit_callbacks):
    client = page_as("engineer")
    assert f'action="{page(stopped)}resume/"' in client.get(page(stopped)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{page(stopped)}resume/", follow=True)
    resumed = Run.objects.get(resumed_from=stopped)
    assert response.redirect_chain[-1][0] == page(resumed)
    html = response.content.decode()
    assert f"Run {resumed.pk} continues run {stopped.pk} from its newest checkpoint." in html
    assert f'resumes <a href="{page(stopped)}">run {stopped.pk}</a>' in html


def test_the_page_says_why_a_run_cannot_be_resumed(page_as, stopped, engineer):
    services.run_resume(run=stopped, user=engineer)
    html = page_as("lead").get(page(stopped)).content.decode()
    assert "disabled" in html.split("data-resume")[1].split("</form>")[0]
    assert "was already resumed as run" in html


@pytest.mark.parametrize("role", ["reviewer", "labeler"])
def test_others_get_no_button_and_cannot_resume(page_as, stopped, role):
    client = page_as(role)
    if role == "reviewer":
        assert "data-resume" not in client.get(page(stopped)).content.decode()
    assert client.post(f"{page(stopped)}resume/").status_code == 403
    assert Run.objects.count() == 1
