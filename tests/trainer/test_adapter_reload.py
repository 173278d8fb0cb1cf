import json
import shutil

import pytest

pytestmark = pytest.mark.trainer


def test_it_reloads_a_saved_lm_adapter_to_identical_outputs_after_moving_the_folder(tiny_models, tmp_path):
    import torch
    from peft import get_peft_model

    from trainer.config import TrainConfig
    from trainer.models import (
        load_causal_lm,
        load_tokenizer,
        lora_config,
        resolve_model,
        save_model,
    )
    from trainer.runfolder import RunFolder

    ref = resolve_model("tiny")
    tokenizer = load_tokenizer(ref)
    torch.manual_seed(0)
    model = get_peft_model(load_causal_lm(ref), lora_config(TrainConfig(), "CAUSAL_LM"))
    with torch.no_grad():  # a trained-looking adapter: LoRA B starts at zero, so perturb it
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    ids = tokenizer(["<|user|>What is the sun?<|endoftext|><|assistant|>The sun is"], return_tensors="pt")
    model.eval()
    with torch.no_grad():
        expected = model(**ids).logits
    folder = RunFolder(tmp_path / "run", "test", TrainConfig())
    save_model(folder, model, tokenizer, ref, kind="causal-lm")
    moved = shutil.move(str(tmp_path / "run"), str(tmp_path / "elsewhere"))

    reloaded = load_causal_lm(resolve_model(moved))
    with torch.no_grad():
        got = reloaded(**ids).logits
        with reloaded.disable_adapter():
            without = reloaded(**ids).logits
    assert torch.equal(got, expected)
    assert not torch.allclose(without, expected, atol=1e-3)


def test_it_reloads_the_reward_model_to_the_scores_it_had_in_training(reward_run):
    """The summary's held-out figures were computed by the in-memory model after training."""
    from trainer.data import load_preferences, split_by_group
    from trainer.models import load_reward_model, load_tokenizer, resolve_model
    from trainer.reward import RewardConfig, encode_pairs, held_out_metrics

    saved = json.loads((reward_run.out / "config.json").read_text())
    cfg = RewardConfig(**{k: v for k, v in saved.items() if k in RewardConfig.__dataclass_fields__})
    ref = resolve_model(str(reward_run.out))
    tokenizer = load_tokenizer(ref)
    model = load_reward_model(ref, tokenizer)
    _, held = split_by_group(load_preferences(cfg.data), cfg.eval_fraction, cfg.seed)
    metrics = held_out_metrics(model, tokenizer, encode_pairs(tokenizer, held, cfg.max_length)[0], cfg)
    assert metrics["accuracy"] == reward_run.summary["eval_accuracy"]
    assert metrics["margin"] == pytest.approx(reward_run.summary["eval_margin"], abs=1e-5)

