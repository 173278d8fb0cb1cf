import json

import pytest

from trainer.config import ConfigError

pytestmark = pytest.mark.trainer


def test_it_raises_the_reward_margin_and_accuracy(dpo_run):
    s = dpo_run.summary
    assert s["reference"] == "base (adapter disabled)"
    assert s["eval_reward_margin_before"] == pytest.approx(0.0, abs=1e-6)
    assert s["eval_reward_margin"] > 0.1
    assert s["eval_reward_accuracy"] >= 0.9 > s["eval_reward_accuracy_before"]


def test_it_logs_trl_reward_keys(dpo_run):
    rows = [json.loads(line) for line in (dpo_run.out / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss" in r]
    keys = {"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"}
    assert train_rows and all(keys <= set(r) for r in train_rows)


def test_it_continues_from_a_previous_rounds_adapter(dpo_run, preference_file, runs_dir):
    from trainer.dpo import DPOConfig, run

    cfg = DPOConfig(
        out=str(runs_dir / "dpo-round2"), model=str(dpo_run.out), data=str(preference_file),
        max_steps=4, eval_fraction=0.2, progress="off",
    )
    s = run(cfg).summary
    # The reference is a frozen copy of round 1: the margin starts at 0 again, though round 1's
    # policy already prefers the chosen answers by a wide margin against the base.
    assert s["reference"] == "adapter copy (previous round)"
    assert s["eval_reward_margin_before"] == pytest.approx(0.0, abs=1e-6)
    assert s["eval_reward_margin"] > 0
    assert json.loads((runs_dir / "dpo-round2" / "model.json").read_text())["base"] == "tiny"


def test_it_keeps_the_base_as_reference_when_asked_while_continuing(dpo_run, preference_file, runs_dir):
    from trainer.dpo import DPOConfig, run

    cfg = DPOConfig(
        out=str(runs_dir / "dpo-online"), model=str(dpo_run.out), data=str(preference_file),
        max_steps=4, eval_fraction=0.2, progress="off", reference="base",
    )
    s = run(cfg).summary
    # Against the base, round 1's adapter already prefers the chosen answers: the margin starts
    # where round 1 ended (same held-out pairs: same data, fraction and seed), and training goes on.
    assert s["reference"] == "base (adapter disabled)"
    assert s["eval_reward_margin_before"] == pytest.approx(dpo_run.summary["eval_reward_margin"], rel=1e-4)
    assert s["eval_reward_margin"] > s["eval_reward_margin_before"]
    assert s["params_trainable"] == dpo_run.summary["params_trainable"]


def test_it_refuses_an_unknown_reference(preference_file, runs_dir):
    from trainer.dpo import DPOConfig, run

    with pytest.raises(ConfigError, match="reference"):
        run(DPOConfig(out=str(runs_dir / "dpo-bad-ref"), data=str(preference_file), reference="parent"))
    assert not (runs_dir / "dpo-bad-ref").exists()


def test_it_refuses_an_unknown_loss_type_before_training(preference_file, runs_dir):
    from trainer.dpo import DPOConfig, run

    with pytest.raises(ConfigError, match="loss_type"):
        run(DPOConfig(out=str(runs_dir / "dpo-bad"), data=str(preference_file), loss_type=["sigmoidd"]))
    assert not (runs_dir / "dpo-bad").exists()
