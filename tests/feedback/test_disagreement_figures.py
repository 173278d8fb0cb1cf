"""The disagreement queue's figures against values worked out by hand (docs/quality.md)."""

import pytest

from labelhub.feedback.agreement import Answer
from labelhub.feedback.disagreement import (
    disagreeing_tasks,
    majority,
    relation,
    reward_disagreements,
    task_agreement,
)

# Task 1: L1 says 1 > 2 > 3, L2 the reverse, L3 1 > 2 = 3.
#   relations over (1,2), (1,3), (2,3):  L1 +,+,+   L2 −,−,−   L3 +,+,0
#   L1–L2 match 0 of 3, L1–L3 2 of 3, L2–L3 0 of 3: 2 of 9 = 0.2222
# Task 2: L1 and L2 both 1 > 2 > 3: 3 of 3 = 1.  Task 3: L1 alone (not overlapping).
TASK_1 = [Answer(1, "L1", {1: 1, 2: 2, 3: 3}), Answer(1, "L2", {1: 3, 2: 2, 3: 1}),
          Answer(1, "L3", {1: 1, 2: 2.5, 3: 2.5})]
TASK_2 = [Answer(2, "L1", {1: 1, 2: 2, 3: 3}), Answer(2, "L2", {1: 1, 2: 2, 3: 3})]
TASK_3 = [Answer(3, "L1", {7: 1, 8: 2})]


def test_it_reads_relations_from_fractional_ranks():
    assert relation({1: 1, 2: 2}, 1, 2) == 1
    assert relation({1: 1, 2: 2}, 2, 1) == -1
    assert relation({1: 1.5, 2: 1.5}, 1, 2) == 0


def test_it_computes_a_tasks_pairwise_agreement():
    assert task_agreement(TASK_1) == (pytest.approx(2 / 9), 9)
    assert task_agreement(TASK_2) == (1.0, 3)
    assert task_agreement(TASK_3) == (None, 0)


def test_it_lists_overlapping_tasks_below_the_threshold_least_agreement_first():
    listed = disagreeing_tasks(TASK_2 + TASK_1 + TASK_3, threshold=0.5)
    assert listed == [{"task": 1, "agreement": 0.2222, "comparisons": 9, "labelers": ["L1", "L2", "L3"]}]
    assert [t["task"] for t in disagreeing_tasks(TASK_1 + TASK_2, threshold=1.01)] == [1, 2]
    assert disagreeing_tasks(TASK_1, threshold=0.2) == []
    assert disagreeing_tasks(TASK_1, threshold=0.5, min_labelers=4) == []


def test_it_takes_the_relation_with_strictly_most_votes_as_the_majority():
    assert majority([1, 1, -1]) == 1
    assert majority([0, 0, 1]) == 0
    assert majority([1, -1]) is None
    assert majority([1, -1, 0]) is None
    assert majority([]) is None


# Task 4: L1 says 2 > 1 > 3, L2 2 > 3 > 1; the reward model scores 1: 2.0, 2: 0.5, 3: 1.0.
#   (1, 2): its favourite 1, both humans prefer 2 → listed, gap 1.5
#   (1, 3): its favourite 1, humans split 1–1 → no majority
#   (3, 2): its favourite 3, both humans prefer 2 → listed, gap 0.5
TASK_4 = [Answer(4, "L1", {2: 1, 1: 2, 3: 3}), Answer(4, "L2", {2: 1, 3: 2, 1: 3})]
SCORES = {1: 2.0, 2: 0.5, 3: 1.0}


def test_it_lists_pairs_where_the_reward_models_favourite_loses_the_human_majority():
    listed = reward_disagreements(TASK_4, SCORES)
    assert listed == [
        {"task": 4, "favourite": 1, "preferred_by_humans": 2, "favourite_score": 2.0, "other_score": 0.5, "gap": 1.5,
         "votes": {"favourite": 0, "other": 2, "tie": 0}},
        {"task": 4, "favourite": 3, "preferred_by_humans": 2, "favourite_score": 1.0, "other_score": 0.5, "gap": 0.5,
         "votes": {"favourite": 0, "other": 2, "tie": 0}},
    ]
    assert [p["favourite"] for p in reward_disagreements(TASK_4, SCORES, margin=0.6)] == [1]
    assert reward_disagreements(TASK_4, SCORES, min_votes=3) == []


def test_it_leaves_out_pairs_the_humans_agree_with_or_split_on_and_unscored_completions():
    # Task 1 with the same scores: (1,2) and (1,3) the majority agrees with the model; (3,2) a 1–1–1 split.
    assert reward_disagreements(TASK_1, SCORES) == []
    assert reward_disagreements(TASK_4, {1: 2.0}) == []  # one score: no pair to compare
