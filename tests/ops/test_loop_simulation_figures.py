"""The figures of `manage.py simulate`: Wilson intervals, win rates with ties, guards, option checks."""

import pytest

from labelhub.ops.loop_simulation import (
    METHODS,
    SimulationConfig,
    distinct_2,
    guard_figures,
    split_prompts,
    wilson,
    win_rate,
)


def test_it_computes_wilson_intervals_like_the_textbook():
    low, high = wilson(80, 100)  # Newcombe (1998), 80/100: 0.7112 to 0.8666
    assert (round(low, 4), round(high, 4)) == (0.7112, 0.8666)
    low, high = wilson(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and round(high, 4) == 0.2775


def test_it_counts_a_tie_as_half_a_win():
    score = lambda prompt, text: len(text)  # noqa: E731
    assert win_rate(score, [("p", "aa", "a"), ("p", "a", "aa"), ("p", "a", "b")]) == (1.5, 3)


def test_it_measures_length_diversity_and_vocabulary():
    figures = guard_figures(
        ["the cat sat", "the cat sat", "a dog ran far"], vocabulary={"the", "cat", "sat", "dog"}
    )
    assert figures["length_words"] == pytest.approx(10 / 3)
    # (the cat)(cat sat) twice + (a dog)(dog ran)(ran far)
    assert figures["distinct_2"] == pytest.approx(5 / 7)
    assert figures["in_vocab"] == pytest.approx(7 / 10)
    assert distinct_2(["same same same same"]) == pytest.approx(1 / 3)


def test_it_holds_out_the_same_prompts_whatever_their_order():
    texts = [f"question {i}" for i in range(20)]
    assert split_prompts(texts, 5) == split_prompts(list(reversed(texts)), 5)
    assert sum(s == "held_out" for s in split_prompts(texts, 5).values()) == 5
    with pytest.raises(ValueError, match="leaves no train prompts"):
        split_prompts(texts, 20)


def test_it_names_each_bad_option():
    errors = SimulationConfig(method="sft", rounds=0, noise=1.5, preference="vibes").errors()
    assert set(errors) == {"method", "rounds", "noise", "preference"}


def test_the_step_options_override_the_recipe_and_nothing_else():
    ppo = SimulationConfig(method="ppo", reward_steps=120, policy_steps=30).recipe()
    assert ppo["reward"] == METHODS["ppo"]["reward"] | {"max_steps": 120}
    assert ppo["ppo"] == METHODS["ppo"]["ppo"] | {"steps": 30}
    dpo = SimulationConfig(method="dpo", policy_steps=50).recipe()
    assert dpo["dpo"] == METHODS["dpo"]["dpo"] | {"max_steps": 50}
    # unset: the documented recipe, which the overrides did not change in place
    assert SimulationConfig(method="ppo").recipe() == METHODS["ppo"]
    assert METHODS["ppo"]["ppo"]["steps"] == 60 and METHODS["ppo"]["reward"]["max_steps"] == 240


def test_it_names_each_bad_step_option():
    assert SimulationConfig(method="ppo", reward_steps=0, policy_steps=0).errors() == {
        "reward_steps": "must be at least 1",
        "policy_steps": "must be at least 1",
    }
    assert SimulationConfig(method="dpo", reward_steps=100).errors() == {
        "reward_steps": "only --method ppo trains a reward model"
    }


def test_the_command_refuses_bad_options_before_touching_anything():
    from django.core.management import CommandError, call_command

    with pytest.raises(
        CommandError, match="--rounds: must be at least 1; --noise: must be between 0 and 1"
    ):
        call_command("simulate", rounds=0, noise=2)


def test_the_held_out_option_has_one_spelling_and_the_old_one_still_works():
    from django.core.management import CommandError, call_command

    for flag in ("--held-out", "--heldout"):
        with pytest.raises(CommandError, match="^--held-out: must be at least 1$"):
            call_command("simulate", flag, "0")


def test_the_command_names_a_bad_step_option():
    from django.core.management import CommandError, call_command

    with pytest.raises(
        CommandError, match="^--reward-steps: only --method ppo trains a reward model$"
    ):
        call_command("simulate", "--method", "dpo", "--reward-steps", "10")
    with pytest.raises(CommandError, match="^--policy-steps: must be at least 1$"):
        call_command("simulate", "--policy-steps", "0")
