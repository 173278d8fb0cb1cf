from labelhub.feedback.pairs import Pair, aggregate, pair_from_choice, pairs_from_ranking


def test_it_expands_a_ranking_of_k_into_k_choose_2_pairs():
    assert pairs_from_ranking([[1], [2], [3], [4]]) == [
        (1, 2, False), (1, 3, False), (1, 4, False), (2, 3, False), (2, 4, False), (3, 4, False)]


def test_it_drops_tied_pairs_or_keeps_them_as_ties():
    assert pairs_from_ranking([[1], [2, 3]]) == [(1, 2, False), (1, 3, False)]
    assert pairs_from_ranking([[1], [2, 3]], keep_ties=True) == [(1, 2, False), (1, 3, False), (2, 3, True)]


def test_it_turns_a_strength_into_a_margin():
    margins = {"much_better": 3.0, "better": 2.0, "slightly_better": 1.0}
    assert pair_from_choice([5, 9], 9, "much_better", margins) == (9, 5, False, 3.0)
    assert pair_from_choice([5, 9], None, "tie", margins) == (5, 9, True, 0.0)
    assert pair_from_choice([5, 9], None, "both_bad", margins) is None


def p(chosen, rejected, who, tie=False):
    return Pair(task_id=1, chosen=chosen, rejected=rejected, tie=tie, labelers=[who], guideline_versions=[1])


def test_it_keeps_the_majority_side_and_counts_votes():
    out = aggregate([p(1, 2, "a"), p(1, 2, "b"), p(2, 1, "c")], "majority")
    assert [(x.chosen, x.rejected, x.votes, x.tie) for x in out] == [(1, 2, 2, False)]
    assert out[0].labelers == ["a", "b", "c"]


def test_it_marks_a_split_vote_as_a_tie():
    out = aggregate([p(1, 2, "a"), p(2, 1, "b")], "majority")
    assert out[0].tie


def test_it_orders_by_bradley_terry_within_a_task():
    judged = [p(1, 2, "a"), p(2, 3, "a"), p(1, 3, "a"), p(1, 2, "b"), p(3, 2, "b"), p(1, 3, "b")]
    out = {(x.chosen, x.rejected) for x in aggregate(judged, "bradley_terry")}
    assert (1, 2) in out and (1, 3) in out
    assert len(out) == 3


def test_it_keeps_every_pair_with_all():
    pairs = [p(1, 2, "a"), p(2, 1, "b")]
    assert aggregate(pairs, "all") == pairs
