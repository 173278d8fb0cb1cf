import json

import pytest

pytestmark = pytest.mark.trainer


def _metrics(path):
    rows = [json.loads(line) for line in (path / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]


def test_it_gives_the_same_result_for_the_same_seed(reward_run, runs_dir):
    from trainer.reward import RewardConfig, run

    saved = json.loads((reward_run.out / "config.json").read_text())
    fields = {k: v for k, v in saved.items() if k in RewardConfig.__dataclass_fields__}
    again = run(RewardConfig(**{**fields, "out": str(runs_dir / "reward-again")}))
    assert _metrics(again.out) == _metrics(reward_run.out)
    assert again.summary["eval_accuracy"] == reward_run.summary["eval_accuracy"]
    assert again.summary["eval_margin"] == reward_run.summary["eval_margin"]
