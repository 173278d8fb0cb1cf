"""A generate run started by hand makes what "Make tasks" needs: K completions per train
prompt (the campaign's K, not the trainer's 1), as docs/loop.md says; the loop's own generate
runs make one per held-out prompt. Every run records the prompt split it sampled, so the
split it used stays known whatever the kind's default becomes."""

import pytest

from labelhub.training import kinds, loop, services
from labelhub.training.models import Run
from tests.api_errors import error_fields

pytestmark = pytest.mark.django_db


def test_a_generate_run_defaults_to_k_samples_per_train_prompt(campaign, engineer, policy, prompts):
    run = services.run_create(campaign=campaign, user=engineer, kind="generate", policy=policy)
    assert run.prompt_split == "train"
    assert run.config["num_samples"] == campaign.completions_per_task == 3  # not the trainer's own default, 1


def test_k_follows_the_campaign_and_the_request_still_wins(campaign, engineer, policy, prompts):
    campaign.completions_per_task = 5
    campaign.save(update_fields=["completions_per_task"])
    assert services.run_create(campaign=campaign, user=engineer, kind="generate", policy=policy).config["num_samples"] == 5
    asked = services.run_create(campaign=campaign, user=engineer, kind="generate", policy=policy,
                                prompt_split="held_out", config={"num_samples": 2})
    assert (asked.prompt_split, asked.config["num_samples"]) == ("held_out", 2)


@pytest.mark.parametrize("kind, split", [("evaluate", "held_out"), ("ppo", "train"), ("reward", "")])
def test_every_run_records_the_split_it_samples(campaign, engineer, policy, reward_model, snapshot, prompts, kind, split):
    inputs = {"evaluate": {"policy": policy}, "ppo": {"policy": policy, "reward_model": reward_model},
              "reward": {"snapshot": snapshot}}[kind]
    run = services.run_create(campaign=campaign, user=engineer, kind=kind, **inputs)
    assert run.prompt_split == split == (kinds.get(kind).prompts or "")


def test_the_loops_generate_runs_sample_once_per_held_out_prompt(campaign, engineer, policy, prompts):
    from labelhub.campaigns.models import Policy

    new = Policy.objects.create(campaign=campaign, name="base-v2", base_model="tiny", parent=policy)
    loop_round = loop.send_to_labeling(policy=new, user=engineer)
    runs = list(loop_round.generation_runs.all())
    assert len(runs) == 2
    assert {(r.kind, r.prompt_split, r.config["num_samples"]) for r in runs} == {("generate", "held_out", 1)}


def test_the_api_refuses_a_renamed_field_under_its_old_spelling(client_as, policy, prompts):
    response = client_as("engineer").post("/api/campaigns/helpful/runs/", {
        "kind": "evaluate", "policy": policy.pk, "config": {"heldout": "prose.txt"}}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"config.heldout"}
    assert response.json()["errors"][0]["message"] == "is the old spelling of held_out; use held_out"
    assert not Run.objects.exists()
