"""A finished DPO run's summary has the guards, on the prompts of its held-out pairs: a policy
that learned the kind register keeps its length, words and diversity; 0 turns them off."""

import pytest

pytestmark = pytest.mark.trainer


def test_it_measures_the_policy_against_its_base_on_the_held_out_prompts(dpo_run, preference_file):
    from trainer.data import load_preferences, split_by_group
    from trainer.guards import distinct_prompts

    guards = dpo_run.summary["guards"]
    _, held = split_by_group(load_preferences(preference_file), 0.2, 0)
    assert guards["prompts"] == len(distinct_prompts([p["prompt"] for p in held], 32)) > 0
    assert guards["kl_target"] is None and guards["kl"] > 0
    assert [c["name"] for c in guards["checks"]] == ["length", "vocabulary", "diversity", "kl"]
    assert guards["flagged"] is False and guards["reasons"] == []
    assert all(c["ok"] and c["reason"] is None for c in guards["checks"])
    assert 0 < guards["base"]["in_vocab"] < 1  # measured against base samples it did not write itself
    assert guards["policy"]["length_words"] >= 5


def test_it_leaves_the_guards_out_when_guard_prompts_is_0(tiny_models, preference_file, runs_dir):
    from trainer.dpo import DPOConfig, run

    result = run(DPOConfig(out=str(runs_dir / "dpo-no-guards"), data=str(preference_file), max_steps=1,
                           eval_fraction=0.2, guard_prompts=0, progress="off"))
    assert result.summary["status"] == "succeeded" and "guards" not in result.summary
