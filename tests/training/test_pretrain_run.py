"""A continued pre-training run trains on the campaign's documents: refused without them, its
corpus file is the campaign's passages, and its new version is registered — base plus adapter,
or (full) the run's own model; its page shows the held-out perplexity before and after."""

import json
from pathlib import Path

import pytest

from labelhub.campaigns import services as campaign_services
from labelhub.training import kinds, runner, services
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(campaign):
    campaign_services.passages_import(campaign=campaign, filename="harbour.txt",
                                      data=b"The harbour trades salt.\n\nThe harbour trades rope.\n")


def test_it_needs_documents(campaign, engineer, policy):
    with pytest.raises(services.RunInvalid) as refused:
        services.run_create(campaign=campaign, user=engineer, kind=Run.Kind.PRETRAIN, policy=policy)
    assert "no documents" in refused.value.errors["documents"]


def test_its_corpus_is_the_campaigns_passages(campaign, engineer, policy, documents):
    run = services.run_create(campaign=campaign, user=engineer, kind=Run.Kind.PRETRAIN, policy=policy,
                              config={"full": True, "learning_rate": 1e-4})
    runner.prepare(run)
    config = json.loads((Path(run.run_dir) / runner.CONFIG_FILE).read_text())
    corpus = [json.loads(line) for line in Path(config["data"]).read_text().splitlines()]
    assert corpus == [{"text": "The harbour trades salt."}, {"text": "The harbour trades rope."}]
    assert (config["model"], config["full"], config["max_steps"]) == ("tiny", True, 30)
    assert "data" not in kinds.get(Run.Kind.PRETRAIN).config_schema()["properties"]


def test_a_full_run_cannot_start_from_an_adapter(campaign, engineer, policy, documents):
    policy.adapter_path = "runs/3/adapter"
    policy.save(update_fields=["adapter_path"])
    with pytest.raises(services.RunInvalid) as refused:
        services.run_create(campaign=campaign, user=engineer, kind=Run.Kind.PRETRAIN, policy=policy, config={"full": True})
    assert "adapter" in refused.value.errors["config.full"]
    assert services.run_create(campaign=campaign, user=engineer, kind=Run.Kind.PRETRAIN, policy=policy).config["max_steps"] == 30


def test_a_config_cannot_name_its_own_corpus(campaign, engineer, policy, documents):
    with pytest.raises(services.RunInvalid) as refused:
        services.run_create(campaign=campaign, user=engineer, kind=Run.Kind.PRETRAIN, policy=policy,
                            config={"data": "/etc/passwd"})
    assert "config.data" in refused.value.errors


@pytest.mark.parametrize("full", [False, True])
def test_its_new_version_is_registered_and_its_page_shows_the_perplexity(campaign, policy, make_run, client, engineer, full):
    run = make_run(kind=Run.Kind.PRETRAIN, policy=policy, config={"full": full})
    folder = Path(run.run_dir)
    (folder / ("model" if full else "adapter")).mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"base": str(folder / "model") if full else "tiny",
                                                   "adapter": None if full else "adapter"}))
    services.run_start(run_id=run.pk)
    run = services.run_finish(run_id=run.pk, exit_code=0, error_tail="", summary={
        "status": "succeeded", "perplexity_before": 80.0, "perplexity_after": 40.0, "perplexity_ratio": 0.5,
        "eval_passages": 3})
    assert run.state == Run.State.SUCCEEDED, run.error
    new = run.produced_policy
    assert (new.parent, new.base_model, new.adapter_path) == (
        (policy, str(folder / "model"), "") if full else (policy, "tiny", str(folder / "adapter")))
    client.force_login(engineer)
    page = client.get(f"/campaigns/helpful/runs/{run.pk}/").content.decode()
    assert "80.00 before → <strong>40.00</strong> after" in page
