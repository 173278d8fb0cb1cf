"""Where judgments disagree: pure functions over plain data (docs/quality.md, "Disagreement").

* **Tasks where labelers disagree**: per overlapping task (answers from at least
  ``min_labelers`` labelers), the *pairwise agreement* of its answers — for every two
  labelers and every two completions both ranked, do they give the same relation (better,
  worse or tied)? — the share that match, as in ``agreement.py`` but per task. A task below
  the threshold is listed, least agreement first.
* **Reward model against the human majority** (reward-hacking candidates): for every two
  completions of a task that a scorer (a reward model) scored, the one it scores higher is
  *its favourite*. The humans' majority relation of the two (the relation with strictly
  more votes than any other, among at least ``min_votes`` answers) saying the *other* one is
  better makes the pair a candidate: an answer the reward model rates high that people reject.
  Largest score gap first.

An answer is ``agreement.Answer`` (a labeler's latest judgment as fractional ranks, 1 = best).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable

from labelhub.feedback.agreement import Answer

#: A task whose answers agree on less than this share of comparisons is listed.
DEFAULT_THRESHOLD = 0.5
DEFAULT_MIN_LABELERS = 2
DEFAULT_MIN_VOTES = 2


def relation(ranks: dict[int, float], a: int, b: int) -> int:
    """+1: ``a`` ranked better than ``b``; −1: worse; 0: tied."""
    return (ranks[a] < ranks[b]) - (ranks[a] > ranks[b])


def by_task(answers: Iterable[Answer]) -> dict[int, list[Answer]]:
    tasks: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers:
        tasks[answer.task].append(answer)
    return tasks


def task_agreement(answers: list[Answer]) -> tuple[float | None, int]:
    """(pairwise agreement, comparisons) of one task's answers; None without a comparison."""
    matches = comparisons = 0
    for one, other in itertools.combinations(answers, 2):
        shared = sorted(set(one.ranks) & set(other.ranks))
        for a, b in itertools.combinations(shared, 2):
            comparisons += 1
            matches += relation(one.ranks, a, b) == relation(other.ranks, a, b)
    return (matches / comparisons if comparisons else None), comparisons


def disagreeing_tasks(answers: Iterable[Answer], *, threshold: float = DEFAULT_THRESHOLD,
                      min_labelers: int = DEFAULT_MIN_LABELERS) -> list[dict]:
    """Tasks answered by at least ``min_labelers`` labelers whose agreement is below
    ``threshold``: ``{task, agreement, comparisons, labelers}``, least agreement first."""
    listed = []
    for task, task_answers in by_task(answers).items():
        if len({a.labeler for a in task_answers}) < min_labelers:
            continue
        share, comparisons = task_agreement(task_answers)
        if share is not None and share < threshold:
            listed.append({"task": task, "agreement": round(share, 4), "comparisons": comparisons,
                           "labelers": sorted(a.labeler for a in task_answers)})
    return sorted(listed, key=lambda t: (t["agreement"], t["task"]))


def majority(relations: list[int]) -> int | None:
    """The relation with strictly more votes than each other one; None for none or a draw."""
    votes = sorted(((relations.count(r), r) for r in set(relations)), reverse=True)
    if not votes or (len(votes) > 1 and votes[0][0] == votes[1][0]):
        return None
    return votes[0][1]


def reward_disagreements(answers: Iterable[Answer], scores: dict[int, float], *, min_votes: int = DEFAULT_MIN_VOTES,
                         margin: float = 0.0) -> list[dict]:
    """Completion pairs where the scorer's favourite (the higher score, by more than
    ``margin``) is the one the human majority ranks worse: ``{task, favourite, preferred_by_humans,
    favourite_score, other_score, gap, votes: {favourite, other, tie}}`` (votes: answers ranking
    the favourite better, the other better, the two tied), largest gap first."""
    listed = []
    for task, task_answers in by_task(answers).items():
        completions = sorted({c for a in task_answers for c in a.ranks if c in scores})
        for a, b in itertools.combinations(completions, 2):
            high, low = (a, b) if scores[a] >= scores[b] else (b, a)
            gap = scores[high] - scores[low]
            if gap <= margin:
                continue
            relations = [relation(x.ranks, high, low) for x in task_answers if high in x.ranks and low in x.ranks]
            if len(relations) < min_votes or majority(relations) != -1:
                continue
            listed.append({
                "task": task, "favourite": high, "preferred_by_humans": low,
                "favourite_score": round(scores[high], 6), "other_score": round(scores[low], 6), "gap": round(gap, 6),
                "votes": {"favourite": relations.count(1), "other": relations.count(-1), "tie": relations.count(0)},
            })
    return sorted(listed, key=lambda p: (-p["gap"], p["task"], p["favourite"]))
