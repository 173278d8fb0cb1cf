"""run_create: inputs checked per kind, defaults merged, the job queued after commit."""

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import Policy
from labelhub.feedback.models import Snapshot
from labelhub.training import services
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db


def create(campaign, engineer, kind, **inputs):
    return services.run_create(campaign=campaign, user=engineer, kind=kind, **inputs)


def errors_of(campaign, engineer, kind, **inputs):
    with pytest.raises(services.RunInvalid) as caught:
        create(campaign, engineer, kind, **inputs)
    return caught.value.errors


def test_it_stores_the_kinds_defaults_under_the_given_config_and_queues_a_job(
        campaign, engineer, snapshot, data_dir, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = create(campaign, engineer, "reward", snapshot=snapshot, config={"max_steps": 3})
    run.refresh_from_db()
    assert (run.state, run.config["max_steps"], run.config["model"]) == ("queued", 3, "tiny-rm")
    assert run.run_dir == str(data_dir / "runs" / str(run.pk))
    job = ProcrastinateJob.objects.get(pk=run.job_id)
    assert (job.task_name, job.args, job.status, job.queue_name) == ("training.run", {"run_id": run.pk}, "todo", "training")


def test_it_queues_nothing_when_the_transaction_rolls_back(campaign, engineer, snapshot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        create(campaign, engineer, "reward", snapshot=snapshot)
    assert len(callbacks) == 1  # run_enqueue, only once the run is committed
    assert not ProcrastinateJob.objects.filter(task_name="training.run").exists()


def test_it_takes_template_and_sampling_defaults_from_the_policy(campaign, engineer, policy, prompts):
    run = create(campaign, engineer, "generate", policy=policy, config={"max_new_tokens": 8})
    assert run.config | {} == {"num_samples": campaign.completions_per_task, "max_new_tokens": 8, "seed": 0,
                               "template": "zero-shot", "temperature": 0.7}


@pytest.mark.parametrize("kind, missing", [
    ("reward", {"snapshot"}), ("sft", {"snapshot", "policy"}), ("dpo", {"snapshot", "policy"}),
    ("ppo", {"policy", "reward_model", "prompts"}), ("rloo", {"policy", "reward_model", "prompts"}),
    ("generate", {"policy", "prompts"}), ("evaluate", {"policy", "prompts"}),
])
def test_it_names_each_missing_input_of_a_kind(campaign, engineer, kind, missing):
    assert set(errors_of(campaign, engineer, kind)) == missing
    assert not Run.objects.exists()


def test_it_refuses_a_snapshot_that_is_not_ready_or_of_the_wrong_kind(campaign, engineer, snapshot, policy):
    Snapshot.objects.filter(pk=snapshot.pk).update(state=Snapshot.State.BUILDING)
    snapshot.refresh_from_db()
    assert "building, not ready" in errors_of(campaign, engineer, "reward", snapshot=snapshot)["snapshot"]
    Snapshot.objects.filter(pk=snapshot.pk).update(state=Snapshot.State.READY)
    snapshot.refresh_from_db()
    assert "needs a sft snapshot" in errors_of(campaign, engineer, "sft", snapshot=snapshot, policy=policy)["snapshot"]


def test_it_refuses_inputs_of_another_campaign_and_inputs_a_kind_does_not_take(
        campaign, engineer, outsider, snapshot, policy):
    elsewhere = campaign_services.campaign_create(user=outsider, name="Other", slug="other")
    foreign = Policy.objects.create(campaign=elsewhere, name="theirs", base_model="tiny")
    assert "another campaign" in errors_of(campaign, engineer, "dpo", snapshot=snapshot, policy=foreign)["policy"]
    assert errors_of(campaign, engineer, "reward", snapshot=snapshot, policy=policy) == {
        "policy": "a reward run takes no policy"}


def test_it_refuses_a_policy_without_a_base_model(campaign, engineer, snapshot):
    external = Policy.objects.create(campaign=campaign, name="imported")
    assert "no base model" in errors_of(campaign, engineer, "dpo", snapshot=snapshot, policy=external)["policy"]


@pytest.mark.parametrize("config, field, message", [
    (["max_steps", 3], "config", "JSON object"),
    ({"data": "/etc/passwd"}, "config.data", "is set from the run's inputs"),
    ({"out": "/tmp/x"}, "config.out", "is set from the run's inputs"),
    ({"max steps": 3}, "config", "not a config field name"),
    ({"note": "a\x00b"}, "config", "NUL"),
])
def test_it_refuses_configs_that_would_override_inputs_or_cannot_be_stored(
        campaign, engineer, snapshot, config, field, message):
    assert message in errors_of(campaign, engineer, "reward", snapshot=snapshot, config=config)[field]
