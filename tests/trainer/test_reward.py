import json

import pytest

pytestmark = pytest.mark.trainer


def test_it_learns_the_preference_from_about_chance_to_090(reward_run):
    s = reward_run.summary
    assert s["status"] == "succeeded"
    assert s["eval_pairs"] == 60  # 20% of 300 single-pair groups (task_id)
    assert 0.2 <= s["eval_accuracy_before"] <= 0.8
    assert s["eval_accuracy"] >= 0.9
    assert s["eval_margin"] > 0


def test_it_logs_loss_accuracy_and_margin_per_step(reward_run):
    rows = [json.loads(line) for line in (reward_run.out / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss" in r]
    assert len(train_rows) >= 3
    for r in train_rows:
        assert {"step", "epoch", "loss", "accuracy", "margin"} <= set(r)
    assert [r["step"] for r in train_rows] == sorted(r["step"] for r in train_rows)
    assert train_rows[-1]["accuracy"] > train_rows[0]["accuracy"]


def test_it_saves_a_lora_adapter_with_the_score_head(reward_run):
    model = json.loads((reward_run.out / "model.json").read_text())
    assert model["kind"] == "reward" and model["base"] == "tiny-rm"
    config = json.loads((reward_run.out / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and "score" in config["modules_to_save"]
    assert (reward_run.out / "tokenizer" / "tokenizer.json").is_file()
    assert reward_run.summary["params_trainable"] < reward_run.summary["params_total"] / 5
