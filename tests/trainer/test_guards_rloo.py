"""A finished RLOO run's summary has the guards, on its prompts file (its KL coefficient is
fixed, so the KL is reported, not checked)."""

import pytest

from tests.trainer.ppo_helpers import WORD, write_prompts

pytestmark = pytest.mark.trainer


def test_it_measures_the_policy_against_its_base_on_its_prompts(tiny_models, tmp_path):
    from trainer.rloo import RLOOConfig, run

    prompts = write_prompts(tmp_path / "prompts.jsonl", n=12)
    result = run(RLOOConfig(
        out=str(tmp_path / "rloo"), prompts=str(prompts), reward_functions=WORD, steps=2, batch_size=4,
        num_generations=2, max_new_tokens=12, save_every=0, guard_prompts=10, progress="off",
    ))
    guards = result.summary["guards"]
    assert guards["prompts"] == 10 and guards["kl_target"] is None
    kl = next(c for c in guards["checks"] if c["name"] == "kl")
    assert kl["ok"] and kl["limit"] is None and kl["value"] == guards["kl"] >= 0
    assert guards["flagged"] == bool(guards["reasons"]) == any(not c["ok"] for c in guards["checks"])
    assert guards["policy"]["length_words"] > 0 and guards["base"]["length_words"] > 0
