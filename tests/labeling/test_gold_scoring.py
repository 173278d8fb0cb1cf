"""Scoring a labeler's answer against a gold answer, and the Wilson interval of an accuracy
(docs/quality.md, "Gold tasks"): pure functions, no database."""

import pytest

from labelhub.labeling.gold import score_choice, score_ranking, score_ratings, wilson_interval


def test_it_accepts_the_expected_ranking():
    assert score_ranking([[1], [2], [3], [4]], [[1], [2], [3], [4]]) == {
        "correct": True, "opposite": 0, "tie_differences": 0, "pairs": 6}


def test_it_refuses_any_pair_ordered_opposite_to_the_gold_answer():
    result = score_ranking([[2], [1], [3], [4]], [[1], [2], [3], [4]])
    assert result["correct"] is False and result["opposite"] == 1


def test_it_tolerates_one_tie_difference():
    # gold orders 3 above 4; the labeler ties them: one difference, still right
    assert score_ranking([[1], [2], [3, 4]], [[1], [2], [3], [4]])["correct"] is True
    # gold ties 1 and 2; the labeler orders them either way: still right
    assert score_ranking([[2], [1], [3]], [[1, 2], [3]])["correct"] is True
    assert score_ranking([[1], [2], [3]], [[1, 2], [3]])["correct"] is True


def test_it_refuses_more_tie_differences_than_the_tolerance():
    result = score_ranking([[1], [2, 3, 4]], [[1], [2], [3], [4]])
    assert result == {"correct": False, "opposite": 0, "tie_differences": 3, "pairs": 6}


def test_it_refuses_a_labeler_who_ties_everything():
    assert score_ranking([[1, 2, 3]], [[1], [2], [3]])["correct"] is False


@pytest.mark.parametrize("preferred,strength,expected_preferred,expected_strength,correct", [
    (7, "better", 7, "better", True),
    (7, "much_better", 7, "slightly_better", True),  # same side: the strength is not held against them
    (8, "slightly_better", 7, "much_better", False),  # the other side
    (None, "tie", 7, "slightly_better", True),  # "about the same" against a slight preference
    (None, "tie", 7, "better", False),
    (None, "both_bad", None, "tie", True),
    (8, "slightly_better", None, "tie", True),  # a slight preference against an expected tie
    (8, "better", None, "tie", False),
    (7, "much_better", None, "both_bad", False),
])
def test_it_scores_an_ab_choice_by_side_with_a_tie_tolerance(preferred, strength, expected_preferred,
                                                            expected_strength, correct):
    assert score_choice(preferred, strength, expected_preferred, expected_strength)["correct"] is correct


def test_it_scores_ratings_within_one_point():
    expected = {"5": {"helpfulness": 4}, "6": {"helpfulness": 2}}
    assert score_ratings({"5": {"helpfulness": 5}, "6": {"helpfulness": 2}}, expected)["correct"] is True
    assert score_ratings({"5": {"helpfulness": 2}, "6": {"helpfulness": 2}}, expected) == {
        "correct": False, "ratings_off": 1}
    assert score_ratings({"5": {"helpfulness": 4}}, expected)["correct"] is False


def test_its_wilson_interval_matches_published_values():
    # 8 of 10 at 95%: (0.4902, 0.9433), as statsmodels' proportion_confint(8, 10, method="wilson")
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_its_wilson_interval_has_the_closed_forms_at_the_edges():
    z2 = 1.959963984540054 ** 2
    assert wilson_interval(0, 10) == (0.0, pytest.approx(z2 / (10 + z2)))
    assert wilson_interval(10, 10) == (pytest.approx(10 / (10 + z2)), 1.0)
    assert wilson_interval(0, 0) == (None, None)
