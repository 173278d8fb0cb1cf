"""Judgments → preference pairs, and pairs from several labelers → one answer per pair.

Pure functions over plain values, so they are tested without a database:

* a ranking of K (best first, ties as groups) gives K·(K−1)/2 ordered pairs, less the tied
  ones (kept as tie records when asked);
* an A/B choice gives one pair whose margin comes from its strength;
* aggregation: ``all`` keeps every labeler's pair (duplicates weigh), ``majority`` keeps the
  side most labelers chose (a draw is a tie), ``bradley_terry`` fits per-task strengths to
  everyone's pairs and orders the completions by them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

DEFAULT_STRENGTH_MARGINS = {"much_better": 3.0, "better": 2.0, "slightly_better": 1.0}


@dataclass
class Pair:
    task_id: int
    chosen: int  # completion id
    rejected: int
    margin: float | None = None
    tie: bool = False
    labelers: list[str] = field(default_factory=list)
    votes: int = 1
    guideline_versions: list[int] = field(default_factory=list)
    judgment_ids: list[int] = field(default_factory=list)  # whose ratings, flags and rationales go with it


def pairs_from_ranking(ranking: list[list[int]], *, keep_ties: bool = False) -> list[tuple[int, int, bool]]:
    """``[[a], [b, c], [d]]`` → (a,b), (a,c), (a,d), (b,d), (c,d) [+ (b,c) as a tie]."""
    out = []
    for i, better in enumerate(ranking):
        if keep_ties:
            out += [(x, y, True) for x, y in itertools.combinations(better, 2)]
        for worse in ranking[i + 1:]:
            out += [(x, y, False) for x in better for y in worse]
    return out


def pair_from_choice(pair_ids: list[int], preferred: int | None, strength: str, margins: dict) -> tuple | None:
    """An A/B answer → (chosen, rejected, tie, margin); ``both_bad`` gives no pair."""
    if strength == "both_bad":
        return None
    a, b = pair_ids
    if strength == "tie" or preferred is None:
        return (a, b, True, 0.0)
    other = b if preferred == a else a
    return (preferred, other, False, margins.get(strength))


def aggregate(pairs: list[Pair], method: str) -> list[Pair]:
    if method == "all":
        return pairs
    if method == "majority":
        return _majority(pairs)
    if method == "bradley_terry":
        return _bradley_terry_per_task(pairs)
    raise ValueError(f"unknown aggregation {method!r}: all, majority or bradley_terry")


def _majority(pairs: list[Pair]) -> list[Pair]:
    votes: dict[tuple[int, int, int], list[Pair]] = defaultdict(list)
    for p in pairs:
        a, b = sorted((p.chosen, p.rejected))
        votes[(p.task_id, a, b)].append(p)
    out = []
    for (task_id, a, b), group in votes.items():
        for_a = sum(1 for p in group if not p.tie and p.chosen == a)
        for_b = sum(1 for p in group if not p.tie and p.chosen == b)
        chosen, rejected = (a, b) if for_a >= for_b else (b, a)
        margins = [p.margin for p in group if not p.tie and p.chosen == chosen and p.margin is not None]
        out.append(Pair(
            task_id=task_id, chosen=chosen, rejected=rejected, tie=for_a == for_b,
            margin=sum(margins) / len(margins) if margins and for_a != for_b else (0.0 if for_a == for_b else None),
            labelers=sorted({name for p in group for name in p.labelers}), votes=max(for_a, for_b),
            guideline_versions=sorted({v for p in group for v in p.guideline_versions}),
            judgment_ids=sorted({i for p in group for i in p.judgment_ids}),
        ))
    return out


def _bradley_terry_per_task(pairs: list[Pair]) -> list[Pair]:
    # deferred: bradley_terry loads numpy, which only this aggregation rule needs
    from labelhub.feedback.bradley_terry import fit

    by_task: dict[int, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_task[p.task_id].append(p)
    out = []
    for task_id, group in by_task.items():
        items = sorted({c for p in group for c in (p.chosen, p.rejected)})
        comparisons = [(p.chosen, p.rejected, 0.5 if p.tie else 1.0) for p in group]
        strengths = fit(items, comparisons)
        labelers = sorted({name for p in group for name in p.labelers})
        versions = sorted({v for p in group for v in p.guideline_versions})
        judgment_ids = sorted({i for p in group for i in p.judgment_ids})
        for x, y in itertools.combinations(items, 2):
            if not _compared(group, x, y):
                continue
            gap = strengths[x] - strengths[y]
            chosen, rejected = (x, y) if gap >= 0 else (y, x)
            out.append(Pair(task_id=task_id, chosen=chosen, rejected=rejected, margin=round(abs(gap), 4),
                            tie=abs(gap) < 1e-6, labelers=labelers, votes=len(group), guideline_versions=versions,
                            judgment_ids=judgment_ids))
    return out


def _compared(group: list[Pair], x: int, y: int) -> bool:
    return any({p.chosen, p.rejected} == {x, y} for p in group)
