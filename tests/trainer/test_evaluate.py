import json

import pytest

from tests.trainer.synthetic import FIXTURES

pytestmark = pytest.mark.trainer


@pytest.fixture(scope="module")
def evaluation(dpo_run, reward_run, prompts_file, runs_dir):
    from trainer.evaluate import EvaluateConfig, run

    cfg = EvaluateConfig(
        out=str(runs_dir / "eval-full"), policy=str(dpo_run.out), reward_model=str(reward_run.out),
        prompts=str(prompts_file), held_out=str(FIXTURES / "prose.txt"), max_new_tokens=24, progress="off",
    )
    return run(cfg)


def test_it_writes_one_summary_with_every_figure(evaluation):
    s = evaluation.summary
    for key in ("reward_mean", "reference_reward_mean", "win_rate", "kl_per_token", "rouge1", "rougeL",
                "perplexity", "reference_perplexity", "mean_tokens", "distinct_2"):
        assert isinstance(s[key], float), key
    assert 0 <= s["win_rate"] <= 1
    assert 0 < s["rouge1"] < 1
    assert s["perplexity"] > 1 and s["perplexity_ratio"] == pytest.approx(s["perplexity"] / s["reference_perplexity"])


def test_it_writes_per_prompt_samples(evaluation):
    rows = [json.loads(line) for line in (evaluation.out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    assert {"prompt", "completion", "reference_completion", "kl", "reward", "reference_reward"} <= set(rows[0])
    wins = sum(1.0 if r["reward"] > r["reference_reward"] else 0.5 if r["reward"] == r["reference_reward"] else 0 for r in rows)
    assert evaluation.summary["win_rate"] == pytest.approx(wins / 8)
