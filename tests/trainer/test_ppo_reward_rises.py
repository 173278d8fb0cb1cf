"""PPO raises the reward: a reward function (the reward-function path) and a reward model
trained by `trainer reward` on a learnable preference."""

import json

import pytest

from tests.trainer.ppo_helpers import TARGET_WORD, metrics, ppo_run, word_run_without_kl

pytestmark = pytest.mark.trainer


def _mean(rows, key):
    return sum(r[key] for r in rows) / len(rows)


def test_it_raises_a_reward_functions_score(runs_dir):
    run = word_run_without_kl(runs_dir)
    rows = metrics(run.out)
    assert len(rows) == 30
    first, last = _mean(rows[:10], "objective/scores"), _mean(rows[-10:], "objective/scores")
    assert first < 2.0 and last > first + 3.0  # from about one "the" per response to most of the cap of 8
    assert run.summary["reward_mean_final"] > run.summary["reward_mean_first"]
    final = [json.loads(line) for line in (run.out / "samples.jsonl").read_text().splitlines()][-4:]
    assert all(s["step"] == 30 and s["completion"].lower().split().count(TARGET_WORD) >= 3 for s in final)


def test_it_raises_a_trained_reward_models_score(reward_run, runs_dir):
    # running score normalisation: the reward model's scores differ by ~0.1, so without it the KL
    # penalty outweighs them and the rise depended on the machine (+0.14 on one, +0.46 on another).
    # Measured over seeds 0-3 with it: +0.29 to +0.50 (without: +0.15 to +0.46); the margin is half the least.
    run = ppo_run(runs_dir, "ppo-rm", reward_model=str(reward_run.out), kl_coef=0.05, steps=30, score_norm="running")
    rows = metrics(run.out)
    assert {"reward/model", "objective/raw_scores"} <= set(rows[0])
    assert all(r["reward/model"] == pytest.approx(r["objective/raw_scores"], abs=1e-5) for r in rows)  # one source, as is
    first, last = _mean(rows[:10], "objective/raw_scores"), _mean(rows[-10:], "objective/raw_scores")
    assert last > first + 0.15, (first, last)
    assert run.summary["status"] == "succeeded" and run.summary["kl_final"] > 0
