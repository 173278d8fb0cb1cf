"""API responses name files relative to the data directory (or models/<name> for the built-in
models), never as absolute server paths; a shown path sent back names the same file."""

import pytest

from labelhub.campaigns.models import Policy
from labelhub.training.models import RewardModel, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path / "data"
    settings.LABELHUB_MODELS_DIR = tmp_path / "models"
    (tmp_path / "data" / "runs" / "7" / "adapter").mkdir(parents=True)
    (tmp_path / "models" / "tiny-abc").mkdir(parents=True)
    return tmp_path


def test_a_run_names_its_folder_and_outputs_relative_to_the_data_directory(api_as, engineer, campaign, data_dir):
    folder = data_dir / "data" / "runs" / "7"
    run = Run.objects.create(campaign=campaign, kind="generate", run_dir=str(folder),
                             config={"model": str(data_dir / "models" / "tiny-abc")},
                             summary={"output": str(folder / "completions.jsonl"), "rows": 3})
    body = api_as(engineer).get(f"/api/campaigns/helpful/runs/{run.pk}/").json()
    assert body["run_dir"] == "runs/7"
    assert body["summary"] == {"output": "runs/7/completions.jsonl", "rows": 3}
    assert body["config"]["model"] == "models/tiny-abc"
    assert str(data_dir) not in str(body)


def test_policies_and_reward_models_name_their_files_relative(api_as, engineer, campaign, data_dir):
    adapter = data_dir / "data" / "runs" / "7" / "adapter"
    Run.objects.create(pk=7, campaign=campaign, kind="sft", run_dir=str(adapter.parent))  # the campaign's run 7
    policy = Policy.objects.create(campaign=campaign, name="tuned", base_model=str(data_dir / "models" / "tiny-abc"),
                                   adapter_path=str(adapter))
    RewardModel.objects.create(campaign=campaign, name="rm", base_model=str(data_dir / "models" / "tiny-abc"),
                               adapter_path=str(adapter))
    client = api_as(engineer)
    shown = client.get(f"/api/campaigns/helpful/policies/{policy.pk}/").json()
    assert (shown["base_model"], shown["adapter_path"]) == ("models/tiny-abc", "runs/7/adapter")
    [rm] = client.get("/api/campaigns/helpful/reward-models/").json()["results"]
    assert (rm["base_model"], rm["adapter_path"]) == ("models/tiny-abc", "runs/7/adapter")
    # sent back as shown, it is the same file
    response = client.patch(f"/api/campaigns/helpful/policies/{policy.pk}/",
                            {"base_model": shown["base_model"], "adapter_path": shown["adapter_path"]}, format="json")
    assert response.status_code == 200
    policy.refresh_from_db()
    assert (policy.base_model, policy.adapter_path) == (str(data_dir / "models" / "tiny-abc"), str(adapter))


def test_a_hub_name_is_shown_as_given(api_as, engineer, campaign, data_dir):
    policy = Policy.objects.create(campaign=campaign, name="hub", base_model="gpt2")
    assert api_as(engineer).get(f"/api/campaigns/helpful/policies/{policy.pk}/").json()["base_model"] == "gpt2"


def test_a_name_too_long_for_the_file_system_is_refused_not_a_500(api_as, engineer, campaign, data_dir):
    # found by the schema fuzzer: looking such a name up raised "File name too long" (a 500);
    # since paths are confined (tests/campaigns/test_policy_paths.py) it is a 400 naming the fields
    name = "0" * 600
    response = api_as(engineer).post("/api/campaigns/helpful/policies/", {"name": "long", "base_model": name[:255], "adapter_path": name[:500]}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"base_model", "adapter_path"}
    assert not Policy.objects.filter(name="long").exists()
