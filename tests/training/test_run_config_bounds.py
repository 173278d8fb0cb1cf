"""A run config the trainer would refuse is a 400 naming `config.<field>` at POST …/runs/ and in
the run form, with the trainer's own words, before anything is queued (issue 14 point 2)."""

import json

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.training import services
from labelhub.training.models import Run
from tests.api_errors import error_fields, error_messages
from tests.training.conftest import write_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/runs/"


@pytest.fixture(autouse=True)
def _jobs_before():
    """Job rows outlive transactional tests that ran earlier in this process (procrastinate's
    table is not rolled back for them), so "nothing queued" means no run job newer than these."""
    global _last_job_before
    _last_job_before = ProcrastinateJob.objects.order_by("-id").values_list("id", flat=True).first() or 0


_last_job_before = 0


def nothing_queued() -> bool:
    return not Run.objects.exists() and not ProcrastinateJob.objects.filter(
        task_name=services.RUN_JOB, id__gt=_last_job_before).exists()


@pytest.mark.parametrize("role, status", write_cases(400))
def test_an_absurd_sample_count_is_a_400_naming_the_field(client_as, policy, prompts, role, status):
    body = {"kind": "generate", "policy": policy.pk, "config": {"num_samples": 1e30}}
    response = client_as(role).post(URL, body, format="json")
    assert response.status_code == status
    if status == 400:
        assert error_fields(response) == {"config.num_samples"}
        assert error_messages(response) == ["must be <= 1024 (got 1e+30)"]
    assert nothing_queued()


@pytest.mark.parametrize(("kind", "config", "errors"), [
    ("generate", {"max_new_tokens": 0, "top_p": 1.5, "template": "fancy"}, {
        "config.max_new_tokens": "must be >= 1 (got 0)",
        "config.top_p": "must be <= 1 (got 1.5)",
        "config.template": "is 'fancy', not one of raw, zero-shot, one-shot, few-shot, cot"}),
    ("generate", {"num_sampels": 3}, {
        "config.num_sampels": "is not a field of GenerateConfig (did you mean 'num_samples'?)"}),
    ("generate", {"num_samples": "many"}, {"config.num_samples": "'many' is not a valid int"}),
    ("ppo", {"batch_size": 6, "minibatch_size": 4}, {
        "config.minibatch_size": "4 does not divide batch_size 6"}),
    ("ppo", {"kl_estimator": "k2", "lora_r": 100000}, {
        "config.kl_estimator": "is 'k2', not one of k1, k3", "config.lora_r": "must be <= 1024 (got 100000)"}),
    ("dpo", {"loss_type": ["sigmoid", "hinge"], "loss_weights": [1.0]}, {
        "config.loss_weights": "needs one weight per loss_type"}),
    ("reward", {"learning_rate": 0}, {"config.learning_rate": "must be > 0 (got 0)"}),
])
def test_each_field_the_trainer_refuses_is_named_with_its_reason(
        client_as, snapshot, policy, reward_model, prompts, kind, config, errors):
    inputs = {"reward": {"snapshot": snapshot.pk}, "dpo": {"snapshot": snapshot.pk, "policy": policy.pk},
              "ppo": {"policy": policy.pk, "reward_model": reward_model.pk}, "generate": {"policy": policy.pk}}[kind]
    response = client_as("engineer").post(URL, {"kind": kind, "config": config, **inputs}, format="json")
    assert response.status_code == 400
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == errors
    assert response.json()["detail"] == "The run was not started."
    assert nothing_queued()


def test_a_config_the_trainer_accepts_is_stored_in_its_types(client_as, policy, prompts):
    body = {"kind": "generate", "policy": policy.pk, "config": {"num_samples": "3", "top_p": 1, "do_sample": "false"}}
    response = client_as("engineer").post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    config = Run.objects.get().config
    assert (config["num_samples"], config["top_p"], config["do_sample"]) == (3, 1.0, False)
    assert isinstance(config["top_p"], float)


def test_the_policys_sampling_defaults_are_checked_too(client_as, policy, prompts):
    policy.generation_settings = {"temperature": 500}
    policy.save()
    response = client_as("engineer").post(URL, {"kind": "generate", "policy": policy.pk}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"config.temperature"}
    assert nothing_queued()


def test_the_run_form_shows_the_refused_field_and_starts_nothing(client, engineer, policy, prompts):
    client.force_login(engineer)
    response = client.post("/campaigns/helpful/runs/start/", {
        "kind": "generate", "policy": policy.pk, "config": json.dumps({"num_samples": 1e30}),
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert '<span class="field-error" id="run-generate-num_samples-error">must be &lt;= 1024 (got 1e+30)</span>' in html
    assert nothing_queued()
