"""How much labelers agree on the tasks they share: pure functions over plain data.

An :class:`Answer` is one labeler's latest judgment of a task, as fractional ranks (1 =
best; tied completions share the mean of their places, so ``[[a], [b, c], [d]]`` gives
a=1, b=c=2.5, d=4). A pairwise answer is a ranking of two (the preferred one first; a tie
or "both bad" ties them); its strength is not used here. Only tasks with answers from at
least two labelers count ("overlapping tasks"). The figures (docs/quality.md):

* **Krippendorff's α, ordinal** (the ``krippendorff`` package): a unit is a completion of
  an overlapping task, its values the ranks the labelers gave it.
* **Pairwise agreement**: for every two labelers on a task and every two of its
  completions, do they order the two the same way (better, worse or tied)? The share of
  such comparisons that match.
* **Kendall's τ-b**: for every two labelers on a task, τ-b between their rankings, i.e.
  (C − D) / √((n0 − n1)(n0 − n2)) over the task's completion pairs; a set of them (a
  labeler pair's tasks, a period, the campaign) is summarised as ΣC−D / Σ√(…), the
  τ-b of each weighted by its denominator, which for a single task is its own τ-b.

Sliced per campaign, per period (a task falls in the period of its latest answer), per
pair of labelers, per labeler (against each other labeler, and against the majority of the
others: for each completion pair, the relation most of the other labelers chose, when at
least two others answered and one relation has the most votes), and per pair of policies
(only the comparisons between a completion of one and a completion of the other; α there
has the comparisons as units and the relation, from the first policy's side, as an
ordinal value −1 < 0 < 1).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import krippendorff
import numpy as np


@dataclass(frozen=True)
class Answer:
    task: int
    labeler: str
    ranks: dict[int, float]  # completion id → fractional rank, 1 = best
    at: datetime | None = None


def fractional_ranks(ranking: Sequence[Sequence[int]]) -> dict[int, float]:
    """Best-first groups (ties share a group) → completion id → rank, ties at their mean place."""
    ranks, place = {}, 1
    for group in ranking:
        for completion in group:
            ranks[completion] = place + (len(group) - 1) / 2
        place += len(group)
    return ranks


def pairwise_ranks(shown: Sequence[int], preferred: int | None, strength: str) -> dict[int, float] | None:
    """An A/B answer as ranks: the preferred one 1, the other 2; a tie or "both bad" 1.5 each."""
    if len(shown) != 2 or not strength:
        return None
    a, b = shown
    if strength in {"tie", "both_bad"} or preferred not in (a, b):
        return {a: 1.5, b: 1.5}
    return {preferred: 1.0, (b if preferred == a else a): 2.0}


def relations(ranks: dict[int, float], completions: Sequence[int]) -> tuple[int, ...]:
    """For each pair (a, b) of ``completions`` in ``itertools.combinations`` order: +1 when a
    is ranked better, −1 when b is, 0 for a tie."""
    return tuple(_sign(ranks[b] - ranks[a]) for a, b in itertools.combinations(completions, 2))


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


@dataclass
class Tally:
    """Comparisons of two answers' relations, summed over units (one unit = one task seen by
    two raters, or the part of it a slice keeps)."""

    comparisons: int = 0
    agreements: int = 0
    concordance: float = 0.0  # Σ (C − D)
    scale: float = 0.0  # Σ √((n0 − n1)(n0 − n2))
    tasks: set = field(default_factory=set)

    def add(self, task: int, x: Sequence[int], y: Sequence[int]) -> None:
        self.add_counts(task, compare(x, y))

    def add_counts(self, task: int, counts: tuple[int, int, int, float]) -> None:
        n0, agreements, concordance, scale = counts
        if n0 == 0:
            return
        self.comparisons += n0
        self.agreements += agreements
        self.concordance += concordance
        self.scale += scale
        self.tasks.add(task)

    @property
    def agreement(self) -> float | None:
        return self.agreements / self.comparisons if self.comparisons else None

    @property
    def tau_b(self) -> float | None:
        return self.concordance / self.scale if self.scale else None

    def figures(self) -> dict:
        return {"agreement": _round(self.agreement), "tau_b": _round(self.tau_b),
                "comparisons": self.comparisons, "tasks": len(self.tasks)}


def compare(x: Sequence[int], y: Sequence[int]) -> tuple[int, int, int, float]:
    """Two raters' relations over the same completion pairs → (n0, pairs with the same
    relation, C − D, √((n0 − n1)(n0 − n2))): n1/n2 are the pairs each rater tied, C/D the
    pairs both ordered the same/opposite way."""
    ties_x = ties_y = concordant = discordant = agreements = 0
    for a, b in zip(x, y, strict=True):
        if a == b:
            agreements += 1
        if a == 0:
            ties_x += 1
        if b == 0:
            ties_y += 1
        product = a * b
        if product > 0:
            concordant += 1
        elif product < 0:
            discordant += 1
    n0 = len(x)
    return n0, agreements, concordant - discordant, math.sqrt((n0 - ties_x) * (n0 - ties_y))


class Units:
    """Values of α's units, kept as (unit, value) rows."""

    def __init__(self):
        self.rows: list[tuple[Hashable, float]] = []

    def add(self, unit: Hashable, values: Iterable[float]) -> None:
        self.rows.extend((unit, v) for v in values)

    def alpha(self) -> float | None:
        return ordinal_alpha(self.rows)


def ordinal_alpha(rows: Sequence[tuple[Hashable, float]]) -> float | None:
    """Krippendorff's ordinal α of (unit, value) rows; None when it is undefined (no unit
    with two values, or a single value throughout: no variation to agree on)."""
    if not rows:
        return None
    domain = sorted({v for _, v in rows})
    value_index = {v: i for i, v in enumerate(domain)}
    unit_index: dict[Hashable, int] = {}
    counts: Counter = Counter((unit_index.setdefault(unit, len(unit_index)), value_index[value]) for unit, value in rows)
    matrix = np.zeros((len(unit_index), len(domain)), dtype=np.int64)
    for (u, v), n in counts.items():
        matrix[u, v] = n
    matrix = matrix[matrix.sum(axis=1) >= 2]  # a unit fewer than two raters valued pairs nothing
    if len(matrix) == 0 or np.count_nonzero(matrix.sum(axis=0)) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(krippendorff.alpha(value_counts=matrix, value_domain=domain, level_of_measurement="ordinal"))
    return value if math.isfinite(value) else None


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def majority(relation_lists: Sequence[Sequence[int]]) -> list[int | None]:
    """Per position, the relation most lists hold, or None when two relations tie for most."""
    out: list[int | None] = []
    for votes in zip(*relation_lists, strict=True):
        (top, n), *rest = Counter(votes).most_common()
        out.append(None if rest and rest[0][1] == n else top)
    return out


def agreement(answers: Iterable[Answer], *, policy_of: dict[int, int] | None = None,
              period_of: Callable[[datetime], datetime] | None = None, max_periods: int | None = None) -> dict:
    """Every figure for these answers (see the module's docstring). ``policy_of`` maps
    completion ids to policy ids (for the policy-pair slices); ``period_of`` maps a time to
    the start of its period (for the series over time, of which the latest ``max_periods``
    are kept)."""
    policy_of = policy_of or {}
    by_task: dict[int, dict[str, Answer]] = defaultdict(dict)
    for answer in answers:
        by_task[answer.task][answer.labeler] = answer  # one per labeler and task: the latest wins
    overall, by_labeler_pair = Tally(), defaultdict(Tally)
    vs_others, vs_majority = defaultdict(Tally), defaultdict(Tally)
    by_policy_pair, by_period = defaultdict(Tally), defaultdict(Tally)
    rank_units, period_units, policy_units = Units(), defaultdict(Units), defaultdict(Units)
    judged: Counter = Counter()
    for task, answers_of in by_task.items():
        if len(answers_of) < 2:
            continue
        labelers = sorted(answers_of)
        completions = sorted(set.intersection(*(set(answers_of[name].ranks) for name in labelers)))
        if len(completions) < 2:
            continue
        judged.update(labelers)
        period = _period(answers_of.values(), period_of)
        rel = {name: relations(answers_of[name].ranks, completions) for name in labelers}
        for completion in completions:
            values = [answers_of[name].ranks[completion] for name in labelers]
            rank_units.add((task, completion), values)
            if period is not None:
                period_units[period].add((task, completion), values)
        slices = _policy_slices(completions, policy_of)
        for a, b in itertools.combinations(labelers, 2):
            counts = compare(rel[a], rel[b])
            for tally in (overall, by_labeler_pair[(a, b)], vs_others[a], vs_others[b]):
                tally.add_counts(task, counts)
            if period is not None:
                by_period[period].add_counts(task, counts)
            for key, (positions, _) in slices.items():
                by_policy_pair[key].add(task, [rel[a][i] for i in positions], [rel[b][i] for i in positions])
        for key, (positions, flips) in slices.items():
            for i, flip in zip(positions, flips, strict=True):
                policy_units[key].add((task, i), [-rel[name][i] if flip else rel[name][i] for name in labelers])
        if len(labelers) >= 3:
            _against_majority(task, labelers, rel, vs_majority)
    return {
        "campaign": {"alpha": _round(rank_units.alpha()), **overall.figures(), "labelers": len(judged)},
        "labelers": [
            {"labeler": name, "tasks": judged[name], "vs_others": vs_others[name].figures(),
             "vs_majority": vs_majority[name].figures()}
            for name in sorted(judged)
        ],
        "labeler_pairs": [{"labelers": list(pair), **tally.figures()} for pair, tally in sorted(by_labeler_pair.items())],
        "policy_pairs": [
            {"policies": list(key), "alpha": _round(policy_units[key].alpha()), **tally.figures()}
            for key, tally in sorted(by_policy_pair.items())
        ],
        "periods": [
            {"start": start, "alpha": _round(period_units[start].alpha()), **tally.figures()}
            for start, tally in sorted(by_period.items())[-max_periods if max_periods else None:]
        ],
    }


def _against_majority(task: int, labelers: list[str], rel: dict[str, tuple[int, ...]], vs_majority) -> None:
    """Each labeler against the majority of the others, where it exists (at least two others)."""
    for name in labelers:
        common = majority([rel[other] for other in labelers if other != name])
        kept = [i for i, m in enumerate(common) if m is not None]
        if kept:
            vs_majority[name].add(task, [rel[name][i] for i in kept], [common[i] for i in kept])


def _period(answers: Iterable[Answer], period_of) -> datetime | None:
    """The start of the period of the task's latest answer."""
    if period_of is None:
        return None
    times = [a.at for a in answers if a.at is not None]
    return period_of(max(times)) if times else None


def _policy_slices(completions: Sequence[int], policy_of: dict[int, int]) -> dict[tuple[int, int], tuple[list[int], list[bool]]]:
    """(policy, policy) with the lower id first → the positions of the completion pairs
    between them, and for each whether its first completion is the second policy's (so the
    relation is read from the first policy's side)."""
    slices: dict[tuple[int, int], tuple[list[int], list[bool]]] = {}
    for i, (a, b) in enumerate(itertools.combinations(completions, 2)):
        pa, pb = policy_of.get(a), policy_of.get(b)
        if pa is None or pb is None or pa == pb:
            continue
        positions, flips = slices.setdefault((min(pa, pb), max(pa, pb)), ([], []))
        positions.append(i)
        flips.append(pa > pb)
    return slices
