"""A policy's base model and adapter name a tiny model, a hub id, or a folder inside what the
campaign may use — its run folders, its snapshots' folders, the models directory — checked
after symlinks and ``..`` are resolved; anything else is a 400 naming the field and changes
nothing (issue 14, point 5)."""

import os

import pytest

from labelhub.campaigns.models import Policy
from labelhub.feedback.models import Snapshot
from labelhub.training.models import Run
from tests.api_errors import error_fields, error_messages

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/policies/"
OUTSIDE = "is outside the folders this campaign may use (its run and snapshot folders, the models directory)."


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path / "data"
    settings.LABELHUB_MODELS_DIR = tmp_path / "models"
    (tmp_path / "models" / "tiny-abc" / "lm").mkdir(parents=True)
    return settings.LABELHUB_DATA_DIR


def run_folder(campaign, data_dir) -> Run:
    run = Run.objects.create(campaign=campaign, kind="sft", state="succeeded")
    run.run_dir = str(data_dir / "runs" / str(run.pk))
    run.save(update_fields=["run_dir"])
    os.makedirs(os.path.join(run.run_dir, "adapter"))
    return run


@pytest.fixture
def own_run(campaign, data_dir):
    return run_folder(campaign, data_dir)


@pytest.fixture
def foreign_run(other_campaign, data_dir):
    return run_folder(other_campaign, data_dir)


def create(client_as, **fields):
    return client_as("engineer").post(URL, {"name": "tuned", **fields}, format="json")


def test_it_takes_an_adapter_in_one_of_the_campaigns_run_folders(client_as, own_run, data_dir):
    response = create(client_as, base_model="tiny", adapter_path=f"runs/{own_run.pk}/adapter")
    assert response.status_code == 201, response.json()
    assert response.json()["adapter_path"] == f"runs/{own_run.pk}/adapter"
    policy = Policy.objects.get(name="tuned")
    assert (policy.base_model, policy.adapter_path) == ("tiny", os.path.realpath(os.path.join(own_run.run_dir, "adapter")))


@pytest.mark.parametrize("value", [
    "/etc",
    "../../../../../../etc",
    "runs/{own}/../../../../../../etc",
    "runs/{foreign}/adapter",           # another campaign's run, as shown by the API
    "{data}/runs/{foreign}/adapter",    # … as an absolute path
    "runs/{own}/../{foreign}/adapter",  # … through `..`
    "runs/{own}/theirs",                # … through a symlink in the campaign's own run folder
    "runs/{own}/etc",                   # a symlink out to /etc
])
def test_it_refuses_an_adapter_outside_and_writes_nothing(client_as, own_run, foreign_run, data_dir, value):
    os.symlink(os.path.join(foreign_run.run_dir, "adapter"), os.path.join(own_run.run_dir, "theirs"))
    os.symlink("/etc", os.path.join(own_run.run_dir, "etc"))
    value = value.format(own=own_run.pk, foreign=foreign_run.pk, data=data_dir)
    response = create(client_as, base_model="tiny", adapter_path=value)
    assert response.status_code == 400
    assert error_fields(response) == {"adapter_path"}
    assert error_messages(response) == [f"The adapter folder {OUTSIDE}"]
    assert not Policy.objects.filter(name="tuned").exists()


def test_it_refuses_an_update_that_points_outside_and_keeps_the_old_value(client_as, policy, foreign_run):
    response = client_as("lead").patch(f"{URL}{policy.pk}/", {"adapter_path": f"runs/{foreign_run.pk}/adapter",
                                                              "base_model": "/etc"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"adapter_path", "base_model"}
    policy.refresh_from_db()
    assert (policy.base_model, policy.adapter_path) == ("tiny-gpt", "")


@pytest.mark.parametrize("value, stored", [
    ("tiny", "tiny"), ("tiny-lm", "tiny-lm"), ("gpt2", "gpt2"), ("Org/Model-1.5B", "Org/Model-1.5B"),
    ("models/tiny-abc/lm", "{models}/tiny-abc/lm"), ("runs/{own}", "{own_dir}"), ("", ""),
])
def test_a_base_model_is_a_tiny_model_a_hub_id_or_a_folder_inside(client_as, own_run, settings, value, stored):
    names = {"own": own_run.pk, "own_dir": os.path.realpath(own_run.run_dir),
             "models": os.path.realpath(settings.LABELHUB_MODELS_DIR)}
    response = create(client_as, base_model=value.format(**names))
    assert response.status_code == 201, response.json()
    assert Policy.objects.get(name="tuned").base_model == stored.format(**names)


@pytest.mark.parametrize("value", [
    "/etc", "/", "labelhub/config",          # the checkout is the trainer's working directory
    "runs/{foreign}", "snapshots/elsewhere", "a/b/c", "../x", "~/models",
])
def test_a_base_model_that_would_be_read_as_a_path_outside_is_refused(client_as, campaign, foreign_run, value):
    response = create(client_as, base_model=value.format(foreign=foreign_run.pk))
    assert response.status_code == 400, response.json()
    assert error_fields(response) == {"base_model"}
    assert not Policy.objects.filter(name="tuned").exists()


def test_a_name_under_where_the_data_directory_will_be_is_a_path(client_as, campaign, settings):
    # <checkout>/var/data need not exist yet: "var/x" would still be read as a path there one day
    settings.LABELHUB_DATA_DIR = settings.BASE_DIR / "var-not-made-yet" / "data"
    response = create(client_as, base_model="var-not-made-yet/data")
    assert response.status_code == 400 and error_fields(response) == {"base_model"}


def test_a_snapshot_folder_of_the_campaign_is_inside(client_as, campaign, lead, data_dir):
    folder = data_dir / "snapshots" / "helpful" / "v1"
    folder.mkdir(parents=True)
    Snapshot.objects.create(campaign=campaign, version=1, state="ready", path=str(folder), created_by=lead)
    assert create(client_as, base_model="snapshots/helpful/v1").status_code == 201


def test_a_name_too_long_for_the_file_system_is_a_400(client_as, own_run):
    response = create(client_as, base_model="tiny", adapter_path=f"runs/{own_run.pk}/" + "0" * 480)
    assert response.status_code == 400
    assert error_messages(response) == ["The adapter folder cannot be read as a path on this server."]
