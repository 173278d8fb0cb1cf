"""PPO from an earlier round's adapter (an SFT run): the adapter is merged into the base,
the merged model is the reference, and the new adapter is saved against that base."""

import json

import pytest

from tests.trainer.ppo_helpers import FAST, WORD, metrics, write_prompts

pytestmark = pytest.mark.trainer


def test_it_merges_the_starting_adapter_and_measures_kl_from_it(tiny_models, tmp_path):
    import torch
    from peft import get_peft_model

    from trainer.config import LoraFields
    from trainer.models import (
        load_causal_lm,
        load_tokenizer,
        lora_config,
        resolve_model,
        save_model,
    )
    from trainer.ppo import PPOConfig, run
    from trainer.runfolder import RunFolder

    # A stand-in for an SFT run: a saved adapter that clearly changes the model.
    ref = resolve_model("tiny")
    torch.manual_seed(0)
    sft = get_peft_model(load_causal_lm(ref), lora_config(LoraFields(), "CAUSAL_LM"))
    with torch.no_grad():
        for name, param in sft.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    save_model(RunFolder(tmp_path / "sft", "sft", LoraFields()), sft, load_tokenizer(ref), ref, kind="causal-lm")

    prompts = write_prompts(tmp_path / "prompts.jsonl", n=8)
    result = run(PPOConfig(out=str(tmp_path / "ppo"), model=str(tmp_path / "sft"), prompts=str(prompts),
                           reward_functions=WORD, steps=2, **FAST))
    first = metrics(result.out)[0]
    # Step 1's policy is the merged model plus a LoRA adapter that starts as the identity, so its
    # KL to the reference is exactly 0 if (and only if) the reference is the merged model too.
    assert first["objective/kl"] == pytest.approx(0.0, abs=1e-5)
    assert first["objective/kl_k3"] == pytest.approx(0.0, abs=1e-5)

    assert result.summary["reference"] == "starting adapter merged into the base (adapters disabled)"
    config = json.loads((result.out / "config.json").read_text())
    assert config["resolved"]["adapter_start"] == str(tmp_path / "sft" / "adapter")
    model_json = json.loads((result.out / "model.json").read_text())
    assert model_json["base"] == str((result.out / "base").resolve())
    policy = load_causal_lm(resolve_model(str(result.out)))
    ids = load_tokenizer(ref)(["<|user|>What is a volcano?<|endoftext|><|assistant|>"], return_tensors="pt")
    with torch.no_grad():
        with policy.disable_adapter():
            merged = policy(**ids).logits
        expected = sft.eval()(**ids).logits
    assert torch.allclose(merged, expected, atol=1e-4)  # the saved base is the SFT policy
