import math
import random

from labelhub.feedback.bradley_terry import bootstrap, fit


def test_it_recovers_known_strengths_from_simulated_games():
    true = {"a": 0.0, "b": 1.0, "c": -1.0}
    rng = random.Random(0)
    games = []
    for _ in range(3000):
        x, y = rng.sample(list(true), 2)
        p_x = 1 / (1 + math.exp(-(true[x] - true[y])))
        games.append((x, y, 1.0) if rng.random() < p_x else (y, x, 1.0))
    fitted = fit(["a", "b", "c"], games, reference="a")
    assert fitted["a"] == 0
    assert abs(fitted["b"] - 1.0) < 0.15
    assert abs(fitted["c"] + 1.0) < 0.15


def test_it_keeps_an_undefeated_item_finite():
    fitted = fit(["a", "b"], [("b", "a", 1.0)] * 20)
    assert 2 < fitted["b"] - fitted["a"] < 20


def test_it_counts_a_tie_as_half_a_win_each():
    fitted = fit(["a", "b"], [("a", "b", 0.5)] * 10)
    assert abs(fitted["b"] - fitted["a"]) < 1e-6


def test_it_gives_intervals_that_contain_the_estimate_and_narrow_with_data():
    few = [("b", "a", 1.0)] * 7 + [("a", "b", 1.0)] * 3
    many = few * 20
    s, lo, hi = bootstrap(["a", "b"], few, reference="a", rounds=200)["b"]
    s2, lo2, hi2 = bootstrap(["a", "b"], many, reference="a", rounds=200)["b"]
    assert lo <= s <= hi and lo2 <= s2 <= hi2
    assert (hi2 - lo2) < (hi - lo) / 2
    assert lo2 > 0  # 70% wins over 200 games clears the reference
