"""Rollouts: responses cut at the first EOS, the missing-EOS penalty, the prompt schedule."""

import pytest

from tests.trainer.ppo_helpers import FAST, WORD, metrics, write_prompts

pytestmark = pytest.mark.trainer


def test_it_cuts_each_response_after_its_first_eos():
    import torch

    from trainer.ppo.rollout import cut_at_eos

    eos, pad = 0, 9
    generated = torch.tensor([[5, 6, 0, 7, 0], [0, 5, 5, 5, 5], [5, 6, 7, 8, 4]])
    ids, mask, has_eos = cut_at_eos(generated, eos, pad)
    assert ids.tolist() == [[5, 6, 0, 9, 9], [0, 9, 9, 9, 9], [5, 6, 7, 8, 4]]
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]]
    assert has_eos.tolist() == [True, True, False]
    # A tokenizer whose pad is its EOS: the EOS that ends a response still counts.
    ids, mask, _ = cut_at_eos(torch.tensor([[5, 0, 0, 0]]), eos, eos)
    assert mask.tolist() == [[1, 1, 0, 0]]


def test_it_covers_every_prompt_once_per_pass_in_a_seeded_order():
    from trainer.ppo.rollout import prompt_indices

    first_pass = [i for step in (1, 2, 3) for i in prompt_indices(12, 4, step, seed=0)]
    assert sorted(first_pass) == list(range(12)) and first_pass != list(range(12))
    assert prompt_indices(12, 4, 2, seed=0) == prompt_indices(12, 4, 2, seed=0)
    assert prompt_indices(12, 4, 4, seed=0) != prompt_indices(12, 4, 1, seed=0)  # a new shuffle next pass


def test_it_subtracts_the_missing_eos_penalty_from_responses_cut_off(tiny_models, tmp_path):
    from trainer.ppo import PPOConfig, run

    prompts = write_prompts(tmp_path / "prompts.jsonl", n=8)
    result = run(PPOConfig(out=str(tmp_path / "r"), prompts=str(prompts), reward_functions=WORD, steps=1,
                           **{**FAST, "max_new_tokens": 6, "missing_eos_penalty": 2.0}))
    row = metrics(result.out)[0]
    cut_off = 1.0 - row["response/eos_rate"]
    assert cut_off > 0.5  # 6 tokens rarely reach EOS
    assert row["objective/scores"] == pytest.approx(row["objective/raw_scores"] - 2.0 * cut_off, abs=1e-5)
    assert row["response/length_mean"] <= 6
