"""The forgetting report: every new policy version gets one forgetting run (the trainer's
``evaluate`` against its base, on the fixed general set the settings name — never the
campaign's prompts); its figures are kept on the version, and the leaderboard shows them beside
the human strength, flagged past the campaign's threshold."""

import json
from pathlib import Path

import pytest

from labelhub.campaigns.models import Policy
from labelhub.feedback import leaderboard as lb
from labelhub.training import kinds, loop, runner, services
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db

SUMMARY = {"status": "succeeded", "perplexity": 30.0, "reference_perplexity": 20.0, "perplexity_ratio": 1.5,
           "agree_rouge1": 0.5, "agree_rouge2": 0.25, "agree_rougeL": 0.45, "prompts": 16, "kl_per_token": 0.3}


@pytest.fixture
def versions(campaign, prompts):
    base = Policy.objects.create(campaign=campaign, name="base", base_model="tiny")
    new = Policy.objects.create(campaign=campaign, name="base-dpo-r9", base_model="tiny", adapter_path="runs/9/adapter",
                                parent=base)
    return base, new


def policy_run(campaign, engineer, base, new):
    return Run.objects.create(campaign=campaign, kind="dpo", policy=base, produced_policy=new,
                              state=Run.State.SUCCEEDED, created_by=engineer, run_dir="/tmp/x")


def test_every_new_version_gets_one_forgetting_run(campaign, engineer, versions):
    base, new = versions
    campaign.loop_auto = False
    campaign.save(update_fields=["loop_auto"])
    run = policy_run(campaign, engineer, base, new)
    loop.advance(run_id=run.pk)
    loop.advance(run_id=run.pk)  # a step run twice queues no second report
    report = Run.objects.get(kind=Run.Kind.FORGETTING)
    assert (report.policy, report.created_by, report.state) == (new, engineer, Run.State.QUEUED)
    assert report.config == {"do_sample": False, "max_new_tokens": 32, "seed": 0, "template": "zero-shot"}  # greedy, its own template


def test_its_trainer_reads_the_general_set_not_the_campaigns_prompts(campaign, versions, make_run, settings, tmp_path):
    settings.LABELHUB_FORGETTING_PROMPTS = tmp_path / "general.jsonl"
    settings.LABELHUB_FORGETTING_TEXT = tmp_path / "general.txt"
    run = make_run(kind=Run.Kind.FORGETTING, policy=versions[1], config={"do_sample": False})
    command = runner.prepare(run)
    config = json.loads((Path(run.run_dir) / runner.CONFIG_FILE).read_text())
    assert command[-4:-2] == ["--config", str(Path(run.run_dir) / runner.CONFIG_FILE)] and "evaluate" in command
    assert (config["prompts"], config["held_out"]) == (str(tmp_path / "general.jsonl"), str(tmp_path / "general.txt"))
    assert (config["policy"], config["adapter"]) == ("tiny", "runs/9/adapter")
    assert not (Path(run.run_dir) / "prompts.jsonl").exists()


def test_a_config_cannot_point_it_elsewhere(campaign, engineer, versions):
    for field in ("prompts", "held_out"):
        with pytest.raises(services.RunInvalid) as refused:
            services.run_create(campaign=campaign, user=engineer, kind=Run.Kind.FORGETTING, policy=versions[1],
                                config={field: "/etc/passwd"})
        assert f"config.{field}" in refused.value.errors
    assert "prompts" not in kinds.get(Run.Kind.FORGETTING).config_schema()["properties"]


def test_its_figures_are_kept_on_the_version(campaign, versions, make_run):
    run = make_run(kind=Run.Kind.FORGETTING, policy=versions[1])
    services.run_start(run_id=run.pk)
    services.run_finish(run_id=run.pk, exit_code=0, summary=SUMMARY, error_tail="")
    versions[1].refresh_from_db()
    assert versions[1].forgetting == {"perplexity": 30.0, "base_perplexity": 20.0, "perplexity_ratio": 1.5,
                                      "rouge1": 0.5, "rouge2": 0.25, "rougeL": 0.45, "prompts": 16, "run": run.pk}


def test_a_summary_without_the_figures_fails_the_run(campaign, versions, make_run):
    run = make_run(kind=Run.Kind.FORGETTING, policy=versions[1])
    services.run_start(run_id=run.pk)
    run = services.run_finish(run_id=run.pk, exit_code=0, summary={"status": "succeeded", "prompts": 16}, error_tail="")
    assert run.state == Run.State.FAILED and "perplexity" in run.error
    versions[1].refresh_from_db()
    assert versions[1].forgetting == {}


def test_the_leaderboard_flags_a_version_that_forgets_past_the_threshold(campaign, versions, api_as, engineer, lead, client):
    base, new = versions
    Policy.objects.filter(pk=new.pk).update(forgetting={"perplexity_ratio": 1.8, "perplexity": 36.0, "base_perplexity": 20.0,
                                                        "rougeL": 0.4})
    board = lb.Leaderboard(None, [lb.Standing(Policy.objects.get(pk=new.pk), 0.3, 0.1, 0.5, 10, 6.0)], {}, {}, 10, {},
                           forgetting_threshold=1.5)
    assert board.forgets(board.standings[0].policy)
    board.forgetting_threshold = 2.0
    assert not board.forgets(board.standings[0].policy)
    assert not board.forgets(base)  # no report: nothing to flag

    response = api_as(lead).patch("/api/campaigns/helpful/", {"forgetting_threshold": 0.5}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "forgetting_threshold"
    assert api_as(lead).patch("/api/campaigns/helpful/", {"forgetting_threshold": 1.7}, format="json").status_code == 200
    assert api_as(engineer).patch("/api/campaigns/helpful/", {"forgetting_threshold": 3}, format="json").status_code == 403
    campaign.refresh_from_db()
    assert campaign.forgetting_threshold == 1.7
