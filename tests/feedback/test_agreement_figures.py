"""Agreement figures on small hand-made rankings, checked against values worked out by hand
and against a second computation from the textbook formulas (tests/feedback/textbook.py): Krippendorff's α
from the coincidence matrix (checked itself on the example of Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability", whose ordinal α is 0.815), and Kendall's τ-b from rank
vectors with ties counted by their group sizes."""

import itertools
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from labelhub.feedback.agreement import (
    Answer,
    agreement,
    alpha_of_counts,
    fractional_ranks,
    pairwise_ranks,
)
from tests.feedback.textbook import textbook_alpha, textbook_tau_b

KRIPPENDORFF_2011 = [  # observers A–D × units 1–12; None = missing
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def paper_units():
    return [[row[u] for row in KRIPPENDORFF_2011 if row[u] is not None] for u in range(12)]


def test_the_textbook_alpha_gives_the_papers_values():
    assert round(textbook_alpha(paper_units(), "nominal"), 3) == 0.743
    assert round(textbook_alpha(paper_units(), "ordinal"), 3) == 0.815


def test_it_gives_the_papers_ordinal_alpha():
    units = paper_units()
    counts = np.array([[values.count(v) for v in (1, 2, 3, 4, 5)] for values in units])
    assert round(alpha_of_counts(counts, [1, 2, 3, 4, 5]), 3) == 0.815


# --- the hand-made campaign ---------------------------------------------------------------------

DAY1, DAY2 = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 3, 17, tzinfo=UTC)
POLICY_OF = {1: 10, 2: 20, 3: 30, 4: 10, 5: 20, 6: 10, 7: 30, 8: 10, 9: 20}
RANKINGS = {  # task → labeler → ranking (best first, ties grouped)
    1: {"ann": [[1], [2], [3], [4]], "bob": [[2], [1], [3, 4]], "cat": [[1], [2], [4], [3]]},
    2: {"ann": [[5], [6], [7]], "bob": [[7], [6], [5]]},
    3: {"ann": [[8], [9]]},  # one labeler: not an overlapping task
}


def answers():
    at = {1: DAY1.timestamp(), 2: DAY2.timestamp(), 3: DAY2.timestamp()}
    return [Answer(task=task, labeler=name, ranks=fractional_ranks(ranking), at=at[task])
            for task, by_labeler in RANKINGS.items() for name, ranking in by_labeler.items()]


DAYS = (86400, 0)


def start_of_day(at):
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def figures():
    return agreement(answers(), policy_of=POLICY_OF, period=DAYS)


def test_it_ranks_ties_at_their_mean_place():
    assert fractional_ranks([[3], [1, 4], [2]]) == {3: 1, 1: 2.5, 4: 2.5, 2: 4}
    assert pairwise_ranks([7, 9], 9, "better") == {9: 1, 7: 2}
    assert pairwise_ranks([7, 9], None, "tie") == pairwise_ranks([7, 9], None, "both_bad") == {7: 1.5, 9: 1.5}


def test_it_counts_only_tasks_two_labelers_judged(figures):
    assert figures["campaign"]["tasks"] == 2
    assert figures["campaign"]["labelers"] == 3
    assert [(e["labeler"], e["tasks"]) for e in figures["labelers"]] == [("ann", 2), ("bob", 2), ("cat", 1)]


def test_it_gives_the_campaigns_alpha_from_the_ranks_of_each_completion(figures):
    units = [[fractional_ranks(ranking)[c] for ranking in RANKINGS[task].values()]
             for task, completions in ((1, [1, 2, 3, 4]), (2, [5, 6, 7])) for c in completions]
    assert units[2] == [3, 3.5, 4]  # completion 3: ann 3rd, bob tied 3rd-4th, cat 4th
    assert figures["campaign"]["alpha"] == pytest.approx(textbook_alpha(units), abs=1e-4)


def test_it_gives_the_campaigns_pairwise_agreement_and_tau_b(figures):
    # task 1: ann–bob agree on 4 of 6 pairs (bob swaps 1 and 2, ties 3 and 4), ann–cat on 5, bob–cat on 4;
    # task 2: ann and bob disagree on all 3 pairs → 13 of 21
    assert figures["campaign"]["comparisons"] == 21
    assert figures["campaign"]["agreement"] == pytest.approx(13 / 21, abs=1e-4)
    # τ-b per (task, labeler pair): (C − D) over √((n0 − n1)(n0 − n2)) — 3/√30, 4/6, 3/√30 and −3/3
    assert figures["campaign"]["tau_b"] == pytest.approx(7 / (9 + 2 * math.sqrt(30)), abs=1e-4)


def test_its_tau_b_of_one_task_is_the_textbook_tau_b():
    ranks = {name: fractional_ranks(r) for name, r in RANKINGS[1].items()}
    for a, b in itertools.combinations(sorted(ranks), 2):
        one = agreement([Answer(1, a, ranks[a]), Answer(1, b, ranks[b])])
        x, y = ([ranks[name][c] for c in (1, 2, 3, 4)] for name in (a, b))
        assert one["campaign"]["tau_b"] == pytest.approx(textbook_tau_b(x, y), abs=1e-4)
    assert textbook_tau_b([1, 2, 3, 4], [2, 1, 3.5, 3.5]) == pytest.approx(3 / math.sqrt(30))


def test_it_gives_each_pair_of_labelers_their_own_figures(figures):
    pairs = {tuple(e["labelers"]): e for e in figures["labeler_pairs"]}
    assert pairs[("ann", "bob")]["tasks"] == 2
    assert pairs[("ann", "bob")]["agreement"] == pytest.approx(4 / 9, abs=1e-4)
    assert pairs[("ann", "bob")]["tau_b"] == pytest.approx((3 - 3) / (math.sqrt(30) + 3), abs=1e-4)
    assert pairs[("ann", "cat")]["tau_b"] == pytest.approx(4 / 6, abs=1e-4)
    assert pairs[("bob", "cat")]["agreement"] == pytest.approx(4 / 6, abs=1e-4)


def test_it_gives_each_labeler_figures_against_the_others(figures):
    ann = next(e for e in figures["labelers"] if e["labeler"] == "ann")["vs_others"]
    assert ann["comparisons"] == 15
    assert ann["agreement"] == pytest.approx(9 / 15, abs=1e-4)
    assert ann["tau_b"] == pytest.approx((3 + 4 - 3) / (math.sqrt(30) + 6 + 3), abs=1e-4)


def test_it_gives_each_labeler_figures_against_the_majority_of_the_others(figures):
    by_name = {e["labeler"]: e["vs_majority"] for e in figures["labelers"]}
    # bob against ann and cat: they agree on pairs 1–5 (on 3-vs-4 they split: no majority); bob swaps pair 1
    assert (by_name["bob"]["comparisons"], by_name["bob"]["agreement"], by_name["bob"]["tau_b"]) == (5, 0.8, 0.6)
    # ann against bob and cat: they split on pairs 1 and 6, agree with ann on 2–5
    assert (by_name["ann"]["comparisons"], by_name["ann"]["agreement"], by_name["ann"]["tau_b"]) == (4, 1.0, 1.0)
    assert by_name["cat"]["comparisons"] == 4
    # task 2 has two labelers: nobody there has a majority of others
    assert by_name["ann"]["tasks"] == by_name["bob"]["tasks"] == 1


def test_a_draw_among_the_others_is_no_majority():
    # four labelers on one task of three completions; against "dan", the others are
    # ann 1>2>3, bob 2>1>3, cat 1=2>3: on (1, 2) one vote each for +1, −1 and 0 → no majority;
    # on (1, 3) and (2, 3) all three say +1
    rankings = {"ann": [[1], [2], [3]], "bob": [[2], [1], [3]], "cat": [[1, 2], [3]], "dan": [[3], [1], [2]]}
    figures = agreement([Answer(1, name, fractional_ranks(r)) for name, r in rankings.items()])
    dan = next(e for e in figures["labelers"] if e["labeler"] == "dan")["vs_majority"]
    assert (dan["comparisons"], dan["agreement"], dan["tau_b"]) == (2, 0.0, -1.0)


def test_it_gives_figures_per_pair_of_policies_from_their_comparisons_only(figures):
    pairs = {tuple(e["policies"]): e for e in figures["policy_pairs"]}
    assert set(pairs) == {(10, 20), (10, 30), (20, 30)}
    p = pairs[(10, 20)]
    # comparisons of a policy-10 and a policy-20 completion: (1,2) and (2,4) in task 1, (5,6) in task 2
    assert (p["comparisons"], p["tasks"]) == (7, 2)
    assert p["agreement"] == pytest.approx(4 / 7, abs=1e-4)
    assert p["tau_b"] == pytest.approx(1 / 7, abs=1e-4)
    # α over the comparisons, read from policy 10's side (+1: its completion is better)
    units = [[1, -1, 1],  # 1 vs 2: ann, cat prefer 1 (policy 10), bob prefers 2
             [-1, -1, -1],  # 2 vs 4: everyone prefers 2 (policy 20)
             [-1, 1]]  # 5 vs 6: ann prefers 5 (policy 20), bob 6
    assert p["alpha"] == pytest.approx(textbook_alpha(units), abs=1e-4)


def test_it_gives_a_series_by_the_period_of_each_tasks_latest_answer(figures):
    periods = figures["periods"]
    assert [p["start"] for p in periods] == [start_of_day(DAY1), start_of_day(DAY2)]
    assert (periods[0]["comparisons"], periods[0]["agreement"]) == (18, round(13 / 18, 4))
    assert (periods[1]["comparisons"], periods[1]["agreement"], periods[1]["tau_b"]) == (3, 0.0, -1.0)
    assert periods[1]["alpha"] == pytest.approx(textbook_alpha([[1, 3], [2, 2], [3, 1]]), abs=1e-4)


def test_it_starts_weeks_on_mondays_and_hours_on_the_hour():
    weeks = agreement(answers(), period=(7 * 86400, 4 * 86400))["periods"]  # 1970-01-05 was a Monday
    assert [p["start"] for p in weeks] == [datetime(2026, 3, 2, tzinfo=UTC)]  # both days are in that week
    assert weeks[0]["tasks"] == 2
    hours = agreement(answers(), period=(3600, 0))["periods"]
    assert [p["start"] for p in hours] == [datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 3, 17, tzinfo=UTC)]


def test_it_keeps_only_the_latest_periods_when_asked(figures):
    latest = agreement(answers(), period=DAYS, max_periods=1)["periods"]
    assert [p["start"] for p in latest] == [start_of_day(DAY2)]


def test_it_leaves_alpha_undefined_without_variation_and_figures_empty_without_overlap():
    ties = [Answer(1, name, {1: 1.5, 2: 1.5}) for name in ("ann", "bob")]
    assert agreement(ties)["campaign"]["alpha"] is None
    assert agreement(ties)["campaign"]["agreement"] == 1.0
    assert agreement(ties)["campaign"]["tau_b"] is None  # both tie everything: τ-b is 0/0
    alone = agreement([Answer(1, "ann", {1: 1, 2: 2})])
    assert alone["campaign"] == {"alpha": None, "agreement": None, "tau_b": None, "comparisons": 0, "tasks": 0, "labelers": 0}


def test_perfect_agreement_is_alpha_one():
    same = [Answer(task, name, fractional_ranks([[task * 10 + 1], [task * 10 + 2], [task * 10 + 3]]))
            for task in (1, 2) for name in ("ann", "bob")]
    campaign = agreement(same)["campaign"]
    assert (campaign["alpha"], campaign["agreement"], campaign["tau_b"]) == (1.0, 1.0, 1.0)
