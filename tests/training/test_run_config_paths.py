"""Every path a run's trainer reads lies inside the roots the campaign may use — its snapshot
and run folders, the models directory — after symlinks and ``..`` are resolved; anything else
is a 400 naming the config field, and nothing is started (issue 14, point 5)."""

import os

import pytest

from labelhub.campaigns import services as campaign_services
from labelhub.feedback.models import Snapshot
from labelhub.training import kinds
from labelhub.training.config_paths import FILE_FIELDS, MODEL_FIELDS
from labelhub.training.models import Run
from tests.api_errors import error_fields, error_messages

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/runs/"
OUTSIDE = "is outside the folders this campaign may use (its run and snapshot folders, the models directory)"


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.LABELHUB_MODELS_DIR = tmp_path / "models"
    (tmp_path / "models" / "tiny-abc" / "rm").mkdir(parents=True)
    return settings.LABELHUB_MODELS_DIR


@pytest.fixture
def own_run(make_run):
    """A finished run of this campaign with a file in its folder."""
    run = make_run(kind=Run.Kind.REWARD, state=Run.State.SUCCEEDED)
    os.makedirs(run.run_dir)
    with open(os.path.join(run.run_dir, "held.jsonl"), "w") as fh:
        fh.write('{"prompt": "q", "chosen": "a", "rejected": "b"}\n')
    return run


@pytest.fixture
def foreign_snapshot(outsider, data_dir):
    """Another campaign's ready snapshot, on disk in the data directory."""
    elsewhere = campaign_services.campaign_create(user=outsider, name="Other", slug="other")
    folder = data_dir / "snapshots" / "other" / "v1"
    folder.mkdir(parents=True)
    (folder / "data.jsonl").write_text('{"prompt": "secret", "chosen": "a", "rejected": "b"}\n')
    return Snapshot.objects.create(campaign=elsewhere, version=1, state=Snapshot.State.READY, path=str(folder), row_count=1)


def start(api_as, engineer, snapshot, **config):
    return api_as(engineer).post(URL, {"kind": "reward", "snapshot": snapshot.pk, "config": config}, format="json")


def refused(response, field, message=OUTSIDE):
    assert response.status_code == 400, response.json()
    assert error_fields(response) == {f"config.{field}"}
    assert error_messages(response) == [message]
    return True


@pytest.mark.parametrize("value", [
    "/etc/passwd",                                  # an absolute path anywhere
    "../../../../../../../etc/passwd",              # up and out of the data directory
    "runs/{run}/../../../../../../../etc/passwd",   # into its own run folder, then out
    "runs/{run}/../../snapshots/other/v1/data.jsonl",  # another campaign's snapshot, through `..`
    "snapshots/other/v1/data.jsonl",                # another campaign's snapshot, as shown by the API
    "{data}/snapshots/other/v1/data.jsonl",         # … and as an absolute path
])
def test_it_refuses_a_file_outside_the_campaigns_folders(api_as, engineer, snapshot, own_run, foreign_snapshot, data_dir, value):
    value = value.format(run=own_run.pk, data=data_dir)
    assert refused(start(api_as, engineer, snapshot, eval_data=value), "eval_data")
    assert Run.objects.count() == 1  # only own_run: nothing was started


def test_it_refuses_a_symlink_out_of_the_campaigns_own_run_folder(api_as, engineer, snapshot, own_run, foreign_snapshot):
    os.symlink("/etc/passwd", os.path.join(own_run.run_dir, "passwd"))
    os.symlink(foreign_snapshot.path, os.path.join(own_run.run_dir, "theirs"))
    os.symlink("/nonexistent/file", os.path.join(own_run.run_dir, "dangling"))
    for name in ("passwd", "theirs/data.jsonl", "dangling"):
        assert refused(start(api_as, engineer, snapshot, eval_data=f"runs/{own_run.pk}/{name}"), "eval_data")
    assert Run.objects.count() == 1


def test_it_says_nothing_about_files_outside_whether_they_exist_or_not(api_as, engineer, snapshot):
    assert refused(start(api_as, engineer, snapshot, eval_data="/etc/passwd"), "eval_data")
    assert refused(start(api_as, engineer, snapshot, eval_data="/etc/no-such-file"), "eval_data")


def test_it_refuses_a_missing_file_inside_and_a_value_that_is_no_path(api_as, engineer, snapshot, own_run):
    assert refused(start(api_as, engineer, snapshot, eval_data=f"runs/{own_run.pk}/missing.jsonl"), "eval_data",
                   "names no file or folder on the server")
    assert refused(start(api_as, engineer, snapshot, eval_data=7), "eval_data", "must be a path (a string)")
    assert refused(start(api_as, engineer, snapshot, eval_data=f"runs/{own_run.pk}/" + "x" * 5000), "eval_data",
                   "cannot be read as a path on this server")


def test_it_takes_files_of_its_own_snapshots_and_runs_as_the_resolved_path(api_as, engineer, snapshot, own_run):
    held = os.path.join(own_run.run_dir, "held.jsonl")
    own = os.path.join(snapshot.path, "data.jsonl")
    for value, stored in [(f"runs/{own_run.pk}/held.jsonl", held), (f"runs/{own_run.pk}/../{own_run.pk}/held.jsonl", held),
                          (held, held), (own, own)]:
        response = start(api_as, engineer, snapshot, eval_data=value)
        assert response.status_code == 201, response.json()
        assert Run.objects.get(pk=response.json()["id"]).config["eval_data"] == os.path.realpath(stored)
    first = Run.objects.filter(config__eval_data=os.path.realpath(held)).first()
    shown = api_as(engineer).get(f"{URL}{first.pk}/").json()
    assert shown["config"]["eval_data"] == f"runs/{own_run.pk}/held.jsonl"  # shown relative, as every path


def test_a_model_field_takes_tiny_models_hub_names_and_folders_inside(api_as, engineer, snapshot, own_run, models_dir):
    for value, stored in [("tiny-rm", "tiny-rm"), ("gpt2", "gpt2"), ("org/some-model", "org/some-model"),
                          ("models/tiny-abc/rm", os.path.realpath(models_dir / "tiny-abc" / "rm")),
                          (f"runs/{own_run.pk}", os.path.realpath(own_run.run_dir))]:
        response = start(api_as, engineer, snapshot, model=value)
        assert response.status_code == 201, (value, response.json())
        assert Run.objects.get(pk=response.json()["id"]).config["model"] == stored


@pytest.mark.parametrize("value", ["/etc", "labelhub/config", "fixtures/tiny", "snapshots/other/v1", "runs/999999",
                                   "../../../../etc", "snapshots/other"])
def test_a_model_field_refuses_folders_outside_even_when_they_look_like_hub_names(
        api_as, engineer, snapshot, foreign_snapshot, models_dir, value):
    response = start(api_as, engineer, snapshot, model=value)
    assert response.status_code == 400 and error_fields(response) == {"config.model"}


def test_evaluate_takes_base_as_its_reference(campaign, engineer, policy, prompts):
    from labelhub.training import services

    run = services.run_create(campaign=campaign, user=engineer, kind="evaluate", policy=policy, config={"reference": "base"})
    assert run.config["reference"] == "base"
    with pytest.raises(services.RunInvalid) as caught:
        services.run_create(campaign=campaign, user=engineer, kind="evaluate", policy=policy,
                            config={"reference": "/etc", "held_out": "/etc/passwd", "examples": "../x"})
    assert set(caught.value.errors) == {"config.reference", "config.held_out", "config.examples"}


def test_the_runs_page_names_the_field_and_starts_nothing(client, engineer, campaign, snapshot):
    client.force_login(engineer)
    response = client.post("/campaigns/helpful/runs/start/", {"kind": "reward", "snapshot": snapshot.pk,
                                                               "config": '{"eval_data": "/etc/passwd"}'})
    assert response.status_code == 400
    assert "<code>config.eval_data</code>" in response.content.decode()
    assert not Run.objects.exists()


# --- every path field of the trainer is known ----------------------------------------------------

#: Text fields of the trainer configs that name no file (choices, names, module paths).
NOT_PATHS = {"device", "progress", "lr_scheduler", "bf16", "template", "layout", "group_column", "loss_type",
             "score_norm", "kl_estimator", "lr_schedule", "lora_target_modules", "reward_functions"}
#: dpo's ``reference`` is a choice (start, …); evaluate's names a model (MODEL_FIELDS).
NOT_PATHS_OF = {"dpo": {"reference"}}


def text_fields(kind: str) -> set[str]:
    from trainer.cli import method_parts
    from trainer.config import config_fields

    _, cls = method_parts(kinds.get(kind).method)  # a kind's trainer method (prompt_lab runs `trainer prompt-lab`, forgetting runs evaluate)
    return {name for name, (tp, _) in config_fields(cls).items() if "str" in str(tp)}


@pytest.mark.parametrize("kind", Run.Kind.values)
def test_every_text_field_of_the_trainer_is_a_checked_path_an_input_or_known_to_name_no_file(kind):
    classified = (FILE_FIELDS.get(kind, set()) | MODEL_FIELDS.get(kind, set()) | kinds.get(kind).platform_fields
                  | NOT_PATHS | NOT_PATHS_OF.get(kind, set()))
    fields = text_fields(kind)
    assert sorted(fields - classified) == []
    assert FILE_FIELDS.get(kind, set()) | MODEL_FIELDS.get(kind, set()) <= fields  # no stale names here
