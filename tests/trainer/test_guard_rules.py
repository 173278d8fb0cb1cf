"""The guard rules (trainer.guards.report), on hand-made samples: a collapsed, a shrunken, an
out-of-vocabulary, a repetitive and a far-drifted policy each fail with their own reason; a
policy that talks like its base passes."""

import random

import pytest

from trainer.config import ConfigError, check_config
from trainer.guards import GuardFields, distinct_prompts, report

WORDS = (
    "the a water plant grows when light and rain reach its roots slowly but surely under warm sun "
    "people often ask why leaves turn green because they hold chlorophyll which catches energy"
).split()
PROMPTS = [f"Question {i}: why do plants need water and light?" for i in range(16)]


def answers(seed: int, n: int = 16, length: int = 14) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(length)) + "." for _ in range(n)]


def guards(policy_texts, kls=None, kl_target=None, base_texts=None):
    base_texts = base_texts or answers(1)
    return report(
        prompts=PROMPTS, policy_texts=policy_texts, base_texts=base_texts, vocabulary_texts=answers(2) + answers(3),
        kls=kls if kls is not None else [1.0] * len(policy_texts), kl_target=kl_target,
    )


def check(result, name):
    return next(c for c in result["checks"] if c["name"] == name)


def test_it_passes_a_policy_that_talks_like_its_base():
    result = guards(answers(4), kls=[2.0, 4.0] * 8, kl_target=5.0)
    assert result["flagged"] is False and result["reasons"] == []
    assert [c["name"] for c in result["checks"]] == ["length", "vocabulary", "diversity", "kl"]
    assert all(c["ok"] and c["reason"] is None for c in result["checks"])
    assert result["prompts"] == 16
    assert result["kl"] == pytest.approx(3.0) and result["kl_target"] == 5.0
    assert result["policy"]["length_words"] == pytest.approx(14.0)
    assert set(result["base"]) == {"length_words", "distinct_2", "in_vocab"}


def test_it_flags_answers_that_collapsed_to_a_word():
    result = guards([" Please."] * 16)
    length = check(result, "length")
    assert not length["ok"] and length["value"] == pytest.approx(1.0) and length["limit"] == pytest.approx(7.0)
    assert "collapsed to 1.0 words" in length["reason"]
    assert result["flagged"] and length["reason"] in result["reasons"]
    assert "no word pairs" in check(result, "diversity")["reason"]


def test_it_flags_answers_under_half_the_bases_length_even_above_five_words():
    result = guards(answers(4, length=6), base_texts=answers(1, length=30))
    length = check(result, "length")
    assert not length["ok"] and length["limit"] == pytest.approx(15.0)
    assert "under half the base's 30.0" in length["reason"]
    assert result["reasons"] == [length["reason"]]


def test_it_flags_words_the_base_never_uses():
    rng = random.Random(5)
    made_up = ["zorblax", "quenth", "vrimble", "snorf", "plaxit", "gromel", "twindle", "kessok"]
    texts = [" ".join(rng.choice(made_up if i % 2 else WORDS) for i in range(14)) for _ in range(16)]
    result = guards(texts)
    vocab = check(result, "vocabulary")
    assert result["base"]["in_vocab"] > 0.9  # measured against samples it did not write itself
    assert not vocab["ok"] and vocab["value"] == pytest.approx(0.5, abs=0.05)
    assert vocab["limit"] == pytest.approx(0.9 * result["base"]["in_vocab"])
    assert "of the policy's words are in the base's vocabulary" in vocab["reason"]
    assert result["reasons"] == [vocab["reason"]]


def test_it_flags_answers_that_repeat_themselves():
    result = guards(["the water the water the water the water the water the water the water."] * 16)
    diversity = check(result, "diversity")
    assert not diversity["ok"] and diversity["value"] < 0.01
    assert diversity["limit"] == pytest.approx(result["base"]["distinct_2"] / 2)
    assert "repeat themselves" in diversity["reason"]
    assert check(result, "length")["ok"] and check(result, "vocabulary")["ok"]
    assert result["reasons"] == [diversity["reason"]]


def test_it_flags_kl_over_the_runs_target_and_only_reports_it_without_one():
    over = guards(answers(4), kls=[6.0, 8.0] * 8, kl_target=4.0)
    kl = check(over, "kl")
    assert not kl["ok"] and kl["value"] == pytest.approx(7.0) and kl["limit"] == 4.0
    assert kl["reason"] == "KL to the base is 7.00 nats per answer, over the run's target of 4"
    assert over["flagged"] and over["reasons"] == [kl["reason"]]

    reported = guards(answers(4), kls=[60.0] * 16, kl_target=None)
    kl = check(reported, "kl")
    assert kl["ok"] and kl["limit"] is None and kl["value"] == pytest.approx(60.0)
    assert reported["flagged"] is False and reported["kl_target"] is None


def test_it_takes_distinct_prompts_in_order_and_refuses_a_negative_count():
    prompts = ["a", "b", "a", [{"role": "user", "content": "c"}], "b", "d"]
    assert distinct_prompts(prompts, 3) == ["a", "b", [{"role": "user", "content": "c"}]]
    assert distinct_prompts(prompts, 10) == ["a", "b", [{"role": "user", "content": "c"}], "d"]
    check_config(GuardFields(guard_prompts=0))
    with pytest.raises(ConfigError, match="guard_prompts"):
        check_config(GuardFields(guard_prompts=-1))
