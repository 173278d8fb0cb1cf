import pytest

from trainer.textmetrics import distinct_n, rouge, rouge_l, rouge_n


def test_it_computes_rouge_on_hand_checked_examples():
    assert rouge_n("the cat sat", "the cat sat", 1) == 1.0
    assert rouge_n("the cat", "the cat sat down", 1) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert rouge_n("the cat sat", "the dog sat", 2) == 0.0
    assert rouge_l("a b c d", "a c d") == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    assert rouge(["Paris is the capital."], ["The capital is Paris!"])["rouge1"] == 1.0


def test_it_measures_distinct_ngrams():
    assert distinct_n(["a a a a"], 1) == 0.25
    assert distinct_n(["a b", "c d"], 2) == 1.0
