"""One declaration per run kind (labelhub/training/kinds.py), read by the services, the runner,
the form and the API; its config schema is the trainer's own (`python -m trainer <method> --schema`)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from labelhub.training import kinds, runner, services
from labelhub.training.forms import RunStartForm
from labelhub.training.models import Run
from tests.training.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/run-kinds/"
EVERYONE = role_cases({"lead": 200, "labeler": 200, "reviewer": 200, "engineer": 200, "outsider": 200,
                       "anonymous": ANON})


def cli_schema(method: str) -> dict:
    """What the trainer's command line prints, in a process of its own."""
    result = subprocess.run([sys.executable, "-m", "trainer", method, "--schema"], cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_run_kind_is_declared_once_and_its_method_has_a_schema():
    assert set(kinds.KINDS) == set(Run.Kind.values)
    for name, kind in kinds.KINDS.items():
        schema = kind.trainer_schema()
        assert kind.registers in kinds.REGISTERS
        assert kind.platform_fields <= set(schema["properties"]), name  # the trainer has every field we set
        assert set(kind.defaults) <= set(schema["properties"]) - kind.platform_fields, name
        assert kind.check_config(kind.default_config()) == kind.default_config(), name  # the defaults pass


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_a_kinds_config_schema_is_the_trainers_less_what_the_platform_sets(name):
    kind = kinds.KINDS[name]
    trainer = cli_schema(kind.method)
    ours = kind.config_schema()
    assert set(ours["properties"]) == set(trainer["properties"]) - kind.platform_fields
    for field, prop in ours["properties"].items():
        expected = trainer["properties"][field] | ({"default": kind.defaults[field]} if field in kind.defaults else {})
        if field == kind.samples_per_task:  # the one field whose default follows the campaign says so
            expected["description"] += " A run's default is its campaign's K (completions per task)."
        assert prop == expected, field
    assert ours["required"] == [f for f in trainer["required"] if f not in kind.platform_fields]


@pytest.mark.parametrize("role, status", EVERYONE)
def test_the_api_lists_every_kind_with_its_schema_to_signed_in_users(client_as, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        body = {k["name"]: k for k in response.json()}
        assert set(body) == set(Run.Kind.values)
        generate = body["generate"]
        assert (generate["method"], generate["registers"]) == ("generate", "completions")
        assert generate["inputs"] == {"snapshot": None, "policy": "required", "reward_model": None, "prompts": "train"}
        assert generate["set_by_platform"] == ["adapter", "model", "out", "prompts"]
        assert generate["config_schema"]["properties"]["num_samples"] | {} == {
            "type": "integer", "minimum": 1, "maximum": 1024, "default": 4,
            "description": "Completions per prompt. A run's default is its campaign's K (completions per task)."}
        assert "prompts" not in generate["config_schema"]["properties"]
        assert body["reward"]["registers"] == "reward_model" and body["evaluate"]["inputs"]["reward_model"] == "optional"


@pytest.mark.parametrize("role, status", EVERYONE)
def test_the_api_shows_one_kind(client_as, role, status):
    response = client_as(role).get(f"{URL}dpo/")
    assert response.status_code == status
    if status == 200:
        loss_type = response.json()["config_schema"]["properties"]["loss_type"]
        assert loss_type["items"]["enum"][0] == "sigmoid" and loss_type["maxItems"] >= 2


def test_an_unknown_kind_is_404(client_as):
    response = client_as("engineer").get(f"{URL}train-harder/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_runner_starts_the_kinds_method_with_the_platforms_fields(make_run, policy, prompts, tmp_path):
    run = make_run(kind=Run.Kind.EVALUATE, policy=policy, config={"max_new_tokens": 8})
    argv = runner.prepare(run)
    config = json.loads((Path(run.run_dir) / runner.CONFIG_FILE).read_text())
    assert argv[-5:] == ["evaluate", "--config", str(Path(run.run_dir) / runner.CONFIG_FILE), "--out", run.run_dir]
    kind = kinds.get("evaluate")
    assert set(config) == set(run.config) | (kind.platform_fields - {"out", "reward_model"})
    assert (config["policy"], config["adapter"], config["max_new_tokens"]) == ("tiny", None, 8)
    assert Path(config["prompts"]).read_text().count("\n") >= 1


def test_the_form_offers_every_kind_and_shows_its_config_fields_with_their_bounds(campaign, client, engineer):
    assert [value for value, _ in RunStartForm(campaign=campaign).fields["kind"].choices] == list(kinds.KINDS)
    client.force_login(engineer)
    html = client.get("/campaigns/helpful/runs/").content.decode()
    assert html.count('<form method="post" action="/campaigns/helpful/runs/start/" class="run-form"') == len(kinds.KINDS)
    help_ = html.split('id="run-generate-num_samples-help">', 1)[1].split("</span></span>", 1)[0]
    assert "(≥ 1; ≤ 1,024)" in help_ and "Completions per prompt." in help_


def test_every_kind_names_basics_its_schema_has():
    for name, kind in kinds.KINDS.items():
        assert kind.basics and set(kind.basics) <= set(kind.config_schema()["properties"]), name


def test_the_kinds_declare_what_their_success_registers():
    assert kinds.registering("policy") == {"sft", "dpo", "ppo", "rloo", "pretrain"}
    assert kinds.registering("reward_model") == {"reward"}
    assert kinds.registering("completions") == {"generate"}
    assert kinds.registering("nothing") == {"evaluate", "prompt_lab"}  # a lab's variant becomes a policy by hand


@pytest.mark.parametrize("registers, produced", [("reward_model", "produced_reward_model"), ("policy", "produced_policy")])
def test_a_successful_run_registers_what_its_kind_declares(make_run, snapshot, policy, registers, produced):
    name = sorted(kinds.registering(registers))[0]
    run = make_run(kind=name, snapshot=snapshot, policy=policy, state=Run.State.RUNNING)
    adapter = Path(run.run_dir) / "adapter"
    adapter.mkdir(parents=True)
    run = services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded"}, error_tail="")
    assert run.state == Run.State.SUCCEEDED
    assert getattr(run, produced) is not None
    other = "produced_policy" if produced == "produced_reward_model" else "produced_reward_model"
    assert getattr(run, other) is None
