"""POST /api/plan/: the compute planner's figures (trainer.plan) for params and a shape, or for a
policy's model config.json; errors name the field; a request may not name a path on the server,
and a policy is read only by those who may read its campaign's runs (issue 16.1)."""

import json

import pytest

from labelhub.campaigns.models import Policy
from tests.training.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/plan/"
LLAMA = {"layers": 32, "hidden": 4096, "heads": 32, "vocab": 32000, "intermediate": 11008, "gated_mlp": True,
         "tie_embeddings": False}


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "llama-shaped"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32,
        "num_key_value_heads": 32, "intermediate_size": 11008, "vocab_size": 32000, "tie_word_embeddings": False}))
    return folder


@pytest.fixture
def local_policy(campaign, model_folder):
    return Policy.objects.create(campaign=campaign, name="local", base_model=str(model_folder))


def test_it_gives_the_chinchilla_figures_for_a_parameter_count(client_as):
    response = client_as("labeler").post(URL, {"params": 70e9, "flop_budget": 5.76e23}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["chinchilla"]["optimal_tokens"] == pytest.approx(1.4e12)
    assert body["chinchilla"]["budget"]["params"] == pytest.approx(70e9, rel=0.02)
    assert body["training_memory"]["bytes_per_param"] == 16


def test_a_form_body_is_read_as_the_cli_reads_flags(client_as):
    response = client_as("outsider").post(URL, {"params": "7e9", "precision": "fp32"})
    assert response.status_code == 200
    assert response.json()["inference_memory"]["weights"] == 28e9


def test_anonymous_is_refused(client_as):
    assert client_as("anonymous").post(URL, {"params": 1e9}, format="json").status_code == ANON


@pytest.mark.parametrize(("body", "field", "words"), [
    ({}, "model", "is needed"),
    ({"params": 1e9, "accelerator": "tpu"}, "accelerator", "not one of"),
    ({"params": 1e9, "tokens": -5}, "tokens", "must be > 0"),
    ({"params": 1e9, "out": "/tmp/x"}, "out", "is not a field of the planner"),
    ({"model": "/etc"}, "model", "may only be tiny"),
    ({"model": ["tiny"]}, "model", "may only be tiny"),
    ({"params": {"n": 1}}, "params", "is not a valid float"),
    ({**LLAMA, "hidden": 4095}, "heads", "must divide hidden"),
    ({"params": 1e9, "policy": "seven"}, "policy", "must be a policy id"),
])
def test_bad_input_is_a_400_naming_the_field(client_as, body, field, words):
    response = client_as("engineer").post(URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == field and words in error["message"], response.json()


@pytest.mark.parametrize(("role", "status"), role_cases(
    {"lead": 200, "labeler": 404, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON}))
def test_a_policy_is_planned_from_its_config_json_for_those_who_read_its_runs(client_as, local_policy, role, status):
    response = client_as(role).post(URL, {"policy": local_policy.pk, "method": "lora"}, format="json")
    assert response.status_code == status
    if status == 200:
        model = response.json()["model"]
        assert model["params_source"] == "config.json"
        assert model["params"] == pytest.approx(6.74e9, rel=0.005)
        assert model["trainable_params"] > 0


def test_a_policy_without_a_local_model_folder_has_no_estimate(client_as, campaign):
    hub = Policy.objects.create(campaign=campaign, name="hub", base_model="meta-llama/Llama-2-7b-hf")
    response = client_as("engineer").post(URL, {"policy": hub.pk}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "policy" and "not a model folder on this machine" in error["message"]
