"""`trainer rloo`: TRL's RLOOTrainer with the PPO reward (reward model on decoded text +
functions), a LoRA adapter, the base as reference, and the same run contract."""

import json

import pytest

from tests.trainer.ppo_helpers import WORD, metrics, write_prompts

pytestmark = pytest.mark.trainer


def test_it_trains_a_lora_policy_against_the_reward_model_and_functions(reward_run, tmp_path):
    import torch
    from safetensors.torch import load_file

    from trainer.rloo import RLOOConfig, run

    prompts = write_prompts(tmp_path / "prompts.jsonl", n=16)
    result = run(RLOOConfig(
        out=str(tmp_path / "rloo"), prompts=str(prompts), reward_model=str(reward_run.out), reward_functions=WORD,
        reward_weights=[1.0, 0.5], steps=4, batch_size=4, num_generations=2, max_new_tokens=12, learning_rate=3e-3,
        save_every=2, missing_eos_penalty=1.0, progress="off",
    ))
    s = result.summary
    assert s["status"] == "succeeded" and s["steps"] == 4 and s["reference"] == "base (adapter disabled)"
    for key in ("reward_mean_final", "kl_final", "response_length_mean", "eos_rate", "distinct_1", "distinct_2"):
        assert isinstance(s[key], float), key

    rows = metrics(result.out)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all({"reward", "kl", "entropy", "completions/mean_length", "reward/model", "reward/word_reward"} <= set(r)
               for r in rows)
    # The score TRL optimised is the weighted sum of the sources, minus the penalty for cut-off responses.
    r = rows[-1]
    penalty = r["completions/clipped_ratio"] * 1.0
    assert r["reward"] == pytest.approx(r["reward/model"] + 0.5 * r["reward/word_reward"] - penalty, abs=1e-4)

    model = json.loads((result.out / "model.json").read_text())
    assert model["base"] == "tiny" and model["kind"] == "causal-lm"
    weights = load_file(result.out / "adapter" / "adapter_model.safetensors")
    lora_b = [w for k, w in weights.items() if "lora_B" in k]
    assert lora_b and any(float(w.abs().max()) > 0 for w in lora_b)  # LoRA B starts at 0: it was trained
    assert sorted(p.name for p in (result.out / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert (result.out / "checkpoints" / "checkpoint-4" / "metrics.jsonl").is_file()
    assert not torch.isnan(torch.tensor([r["loss"] for r in rows])).any()


def test_it_finishes_the_step_saves_and_reports_cancelled_on_sigterm(tiny_models, tmp_path):
    from tests.trainer import ppo_helpers
    from trainer.rloo import RLOOConfig, run

    prompts = write_prompts(tmp_path / "prompts.jsonl", n=8)
    fields = dict(out=str(tmp_path / "rloo"), prompts=str(prompts), reward_functions=[
        "tests.trainer.ppo_helpers:word_reward_then_sigterm"], steps=50, batch_size=2, num_generations=2,
        max_new_tokens=8, save_every=0, progress="off")
    ppo_helpers.SIGTERM_AT_CALL.update(n=0, at=2)
    s = run(RLOOConfig(**fields)).summary
    assert s["status"] == "cancelled" and s["cancelled_at_step"] == 2 == s["steps"]
    assert s["checkpoint"].endswith("checkpoint-2")
    assert [r["step"] for r in metrics(tmp_path / "rloo")] == [1, 2]

    ppo_helpers.SIGTERM_AT_CALL.update(n=0, at=0)
    again = run(RLOOConfig(**{**fields, "steps": 3, "resume": True})).summary
    assert again["status"] == "succeeded" and again["steps"] == 3
    assert [r["step"] for r in metrics(tmp_path / "rloo")] == [1, 2, 3]
