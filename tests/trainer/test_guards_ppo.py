"""A finished PPO run's summary has the guards: its trained policy against the base (adapter
disabled) on the run's prompts. A policy that learned to repeat the rewarded word is
flagged; with a KL target, the KL check is against that target."""

import json
from types import SimpleNamespace

import pytest

from tests.trainer.ppo_helpers import KL_TARGET, word_run_adaptive, word_run_without_kl

pytestmark = pytest.mark.trainer


def check(guards, name):
    return next(c for c in guards["checks"] if c["name"] == name)


def resample(spec: str, run_dir, n: int) -> list[str]:
    """Sample the first n prompts again from a model, with the run's own settings and seed."""
    from trainer.generate import render_all, sample_completions
    from trainer.models import load_causal_lm, load_tokenizer, resolve_model

    cfg = SimpleNamespace(**json.loads((run_dir / "config.json").read_text()))
    rows = [json.loads(line) for line in open(cfg.prompts, encoding="utf-8")][:n]
    ref = resolve_model(spec)
    tokenizer = load_tokenizer(ref)
    texts = render_all(tokenizer, [r["prompt"] for r in rows], cfg)
    return [s["completion"] for s in sample_completions(load_causal_lm(ref), tokenizer, texts, cfg, cfg.seed, "cpu")]


def test_it_flags_a_policy_that_repeats_the_rewarded_word(runs_dir):
    from trainer.guards import figures

    run = word_run_without_kl(runs_dir)
    guards = run.summary["guards"]
    assert guards["prompts"] == 32 and guards["kl_target"] is None
    assert set(guards["policy"]) == set(guards["base"]) == {"length_words", "distinct_2", "in_vocab"}
    # The reward ("the" up to 8 times) was over-learned: the answers repeat themselves.
    diversity = check(guards, "diversity")
    assert not diversity["ok"] and diversity["value"] < diversity["limit"] == pytest.approx(guards["base"]["distinct_2"] / 2)
    assert guards["flagged"] is True and diversity["reason"] in guards["reasons"]
    # No KL target: the KL (far from the base, with no penalty) is reported, not checked.
    kl = check(guards, "kl")
    assert kl["ok"] and kl["limit"] is None and kl["value"] == guards["kl"] > 10
    # The figures are those of the trained policy's and the base's own samples (same seed and settings).
    policy = figures(resample(str(run.out), run.out, 32), set())
    base = figures(resample("tiny", run.out, 32), set())
    assert policy["length_words"] == pytest.approx(guards["policy"]["length_words"], abs=0.5)
    assert policy["distinct_2"] == pytest.approx(guards["policy"]["distinct_2"], abs=0.05)
    assert base["length_words"] == pytest.approx(guards["base"]["length_words"], abs=0.5)
    assert base["distinct_2"] == pytest.approx(guards["base"]["distinct_2"], abs=0.05)
    # The summary keeps its last-batch figures beside the guards.
    assert isinstance(run.summary["response_length_mean"], float) and isinstance(run.summary["distinct_2"], float)


def test_it_checks_the_kl_against_the_runs_target(runs_dir):
    adaptive = word_run_adaptive(runs_dir).summary["guards"]
    kl = check(adaptive, "kl")
    assert adaptive["kl_target"] == KL_TARGET and kl["limit"] == KL_TARGET
    assert kl["value"] == adaptive["kl"] > 0
    assert kl["ok"] == (adaptive["kl"] <= KL_TARGET)
    assert (kl["reason"] in adaptive["reasons"]) == (not kl["ok"])
    # Held near its target, the policy stays much closer to the base than the run without a penalty.
    assert adaptive["kl"] < word_run_without_kl(runs_dir).summary["guards"]["kl"] / 3
    # Same seed, same prompts, same base: the base's side is the same in both runs.
    assert adaptive["base"] == word_run_without_kl(runs_dir).summary["guards"]["base"]
