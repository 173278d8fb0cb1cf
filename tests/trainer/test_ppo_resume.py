"""A run resumed from a checkpoint continues with the metrics the uninterrupted run had."""

import shutil

import pytest

from tests.trainer.ppo_helpers import FAST, WORD, metrics, write_prompts

pytestmark = pytest.mark.trainer

SMALL = {**FAST, "batch_size": 4, "minibatch_size": 2, "max_new_tokens": 8, "reward_functions": WORD, "steps": 6}


def _same(rows):
    return [{k: v for k, v in r.items() if k != "elapsed_s" and not k.startswith("timing/")} for r in rows]


def test_it_continues_the_same_metrics_from_the_last_checkpoint(tiny_models, tmp_path):
    import torch
    from safetensors.torch import load_file

    from trainer.ppo import PPOConfig, run

    prompts = str(write_prompts(tmp_path / "prompts.jsonl"))
    whole = run(PPOConfig(out=str(tmp_path / "whole"), prompts=prompts, save_every=2, keep_checkpoints=2, **{
        k: v for k, v in SMALL.items() if k != "save_every"}))
    kept = sorted(p.name for p in (whole.out / "checkpoints").iterdir())
    assert kept == ["step-000004", "step-000006"]  # every 2 steps, the newest 2 kept

    # A second run folder that stopped after step 4: resume it.
    shutil.copytree(whole.out / "checkpoints" / "step-000004", tmp_path / "resumed" / "checkpoints" / "step-000004")
    resumed = run(PPOConfig(out=str(tmp_path / "resumed"), prompts=prompts, resume=True, **SMALL))

    assert resumed.summary["status"] == "succeeded"
    got, want = _same(metrics(resumed.out)), _same(metrics(whole.out))
    assert [r["step"] for r in got] == [1, 2, 3, 4, 5, 6]
    assert got[:4] == want[:4]  # replayed from the checkpoint, unchanged
    for mine, theirs in zip(got[4:], want[4:], strict=True):  # recomputed: the same numbers
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert mine[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-6), key
    a = load_file(whole.out / "adapter" / "adapter_model.safetensors")
    b = load_file(resumed.out / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_it_refuses_to_resume_with_a_changed_config_or_without_a_checkpoint(tiny_models, tmp_path):
    from trainer.config import ConfigError
    from trainer.ppo import PPOConfig, run

    prompts = str(write_prompts(tmp_path / "prompts.jsonl", n=8))
    cfg = {**SMALL, "steps": 1}
    with pytest.raises(ConfigError, match="no checkpoint"):
        run(PPOConfig(out=str(tmp_path / "r"), prompts=prompts, resume=True, **cfg))
    run(PPOConfig(out=str(tmp_path / "r"), prompts=prompts, **cfg))
    with pytest.raises(ConfigError, match="config differs in learning_rate"):
        run(PPOConfig(out=str(tmp_path / "r"), prompts=prompts, resume=True, **{**cfg, "learning_rate": 1e-2, "steps": 2}))
