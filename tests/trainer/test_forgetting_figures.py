"""The forgetting report's figures, as ``trainer evaluate`` gives them for a forgetting run
(greedy, against the base with the adapter off, on the fixed general set): a policy that is its
base agrees with it exactly (ROUGE 1, perplexity ratio 1); a DPO version drifts (ROUGE below 1,
ratio not 1), and the figures are those of its answers against the base's."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.trainer

GENERAL = Path(__file__).resolve().parents[2] / "fixtures" / "forgetting"


def forgetting(out, **policy):
    from trainer.evaluate import EvaluateConfig, run

    cfg = EvaluateConfig(out=str(out), prompts=str(GENERAL / "general.jsonl"), held_out=str(GENERAL / "general.txt"),
                         do_sample=False, max_new_tokens=16, progress="off", **policy)
    return run(cfg)


def test_a_policy_that_is_its_base_has_forgotten_nothing(tiny_models, runs_dir):
    s = forgetting(runs_dir / "forget-base", policy="tiny").summary
    assert (s["agree_rouge1"], s["agree_rouge2"], s["agree_rougeL"]) == (1.0, 1.0, 1.0)
    assert s["perplexity_ratio"] == pytest.approx(1.0)
    assert s["prompts"] == 16


def test_a_tuned_version_is_scored_against_its_bases_answers(dpo_run, runs_dir):
    from trainer.textmetrics import rouge

    result = forgetting(runs_dir / "forget-dpo", policy=str(dpo_run.out))
    s = result.summary
    rows = [json.loads(line) for line in (result.out / "samples.jsonl").read_text().splitlines()]
    assert s["agree_rougeL"] == pytest.approx(rouge([r["completion"] for r in rows],
                                                    [r["reference_completion"] for r in rows])["rougeL"])
    assert s["agree_rougeL"] < 1.0
    assert s["perplexity_ratio"] != pytest.approx(1.0, abs=1e-4)
