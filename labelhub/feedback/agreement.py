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

The answers are put in arrays once (a row per answer, a column per completion pair of its
task) and every slice is a weighted ``bincount`` of the same per-unit counts: no Python
loop runs per pair of labelers or per completion pair.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import krippendorff
import numpy as np


@dataclass(frozen=True)
class Answer:
    task: int
    labeler: str
    ranks: dict[int, float]  # completion id → fractional rank, 1 = best
    at: float | None = None  # when, in seconds since the epoch


def fractional_ranks(ranking: Sequence[Sequence[int]]) -> dict[int, float]:
    """Best-first groups (ties share a group) → completion id → rank, ties at their mean place."""
    ranks, place = {}, 1
    for group in ranking:
        if len(group) == 1:
            ranks[group[0]] = place
        else:
            middle = place + (len(group) - 1) / 2
            for completion in group:
                ranks[completion] = middle
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


def alpha_of_counts(counts: np.ndarray, domain: Sequence[float]) -> float | None:
    """Ordinal α of a units × values matrix of counts (the ``krippendorff`` package); None when
    it is undefined: no unit valued twice, or one value throughout (no variation to agree on)."""
    counts = counts[counts.sum(axis=1) >= 2]  # a unit fewer than two raters valued pairs nothing
    if len(counts) == 0 or np.count_nonzero(counts.sum(axis=0)) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(krippendorff.alpha(value_counts=counts, value_domain=list(domain), level_of_measurement="ordinal"))
    return value if math.isfinite(value) else None


@dataclass
class _Units:
    """Per-unit counts of compared raters (a unit: two raters on one task, or a part of it)."""

    n0: np.ndarray  # completion pairs both valued
    agreements: np.ndarray
    concordance: np.ndarray  # C − D
    scale: np.ndarray  # √((n0 − n1)(n0 − n2))

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> _Units:
        """Relations ``x`` and ``y`` (units × pairs, −1/0/+1) where ``valid``."""
        n0 = valid.sum(axis=1)
        product = x.astype(np.int64) * y
        ties_x, ties_y = ((x == 0) & valid).sum(axis=1), ((y == 0) & valid).sum(axis=1)
        concordance = ((product > 0) & valid).sum(axis=1) - ((product < 0) & valid).sum(axis=1)
        return cls(n0, ((x == y) & valid).sum(axis=1), concordance, np.sqrt((n0 - ties_x) * (n0 - ties_y)))

    def figures(self, group: np.ndarray, n_groups: int, tasks: np.ndarray) -> list[dict]:
        """Figures per group (``group``: each unit's group, −1 for none); ``tasks`` per group."""
        keep = group >= 0
        sums = [np.bincount(group[keep], weights=w[keep], minlength=n_groups)
                for w in (self.n0, self.agreements, self.concordance, self.scale)]
        return [_figures(*(s[g] for s in sums), tasks[g]) for g in range(n_groups)]

    def total(self, tasks: int) -> dict:
        return _figures(self.n0.sum(), self.agreements.sum(), self.concordance.sum(), self.scale.sum(), tasks)


def _figures(n0, agreements, concordance, scale, tasks) -> dict:
    return {"agreement": _round(agreements / n0) if n0 else None, "tau_b": _round(concordance / scale) if scale else None,
            "comparisons": int(n0), "tasks": int(tasks)}


def _round(x, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


@dataclass
class _Overlap:
    """The overlapping tasks as arrays: a row per answer (grouped by task, labelers in name
    order), a column per completion (ranks) or completion pair (relations) of its task."""

    labelers: list[str]
    task_of_row: np.ndarray
    labeler_of_row: np.ndarray
    ranks: np.ndarray  # rows × K, NaN past the task's completions
    policies: np.ndarray  # tasks × K policy ids, −1 unknown
    period_of_task: np.ndarray  # −1 without a period
    periods: list[float]  # their starts, in seconds since the epoch

    @classmethod
    def of(cls, answers, policy_of: dict[int, int], period: tuple[float, float] | None) -> _Overlap | None:
        by_task: dict[int, dict[str, Answer]] = defaultdict(dict)
        for answer in answers:
            by_task[answer.task][answer.labeler] = answer  # one per labeler and task: the latest wins
        tasks, latest, row_task, row_name, row_ranks = [], [], [], [], []
        for answers_of in by_task.values():
            if len(answers_of) < 2:
                continue
            names = sorted(answers_of)
            values, completions = _ranks_of_common(answers_of, names)
            if len(completions) < 2:
                continue
            times = [a.at for a in answers_of.values() if a.at is not None]
            latest.append(max(times) if times else math.nan)
            row_task += [len(tasks)] * len(names)
            row_name += names
            row_ranks += values
            tasks.append(completions)
        if not tasks:
            return None
        width = max(map(len, tasks))
        ranks = np.array([r + [math.nan] * (width - len(r)) for r in row_ranks] if min(map(len, tasks)) < width
                         else row_ranks, dtype=float)
        labelers, labeler_of_row = index_of(row_name)
        policies = np.array([[policy_of.get(c, -1) for c in completions] + [-1] * (width - len(completions))
                             for completions in tasks], dtype=np.int64)
        period_of_task, periods = _periods(np.array(latest), period)
        return cls(labelers, np.array(row_task), labeler_of_row, ranks, policies, period_of_task,
                   periods)

    @property
    def n_tasks(self) -> int:
        return len(self.policies)

    def relations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(relations, valid, first, second): per row and completion pair (first, second) in
        ``itertools.combinations`` order, +1 when the first is ranked better, −1 when the
        second is, 0 for a tie."""
        first, second = np.triu_indices(self.ranks.shape[1], 1)
        difference = self.ranks[:, second] - self.ranks[:, first]
        valid = ~np.isnan(difference)
        return np.sign(np.where(valid, difference, 0)).astype(np.int8), valid, first, second

    def row_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every two rows of one task (the first labeler by name first)."""
        starts = np.flatnonzero(np.r_[True, self.task_of_row[1:] != self.task_of_row[:-1]])
        ends = np.r_[starts[1:], len(self.task_of_row)]
        pairs = [pair for s, e in zip(starts, ends, strict=True) for pair in itertools.combinations(range(s, e), 2)]
        return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])


def agreement(answers: Iterable[Answer], *, policy_of: dict[int, int] | None = None,
              period: tuple[float, float] | None = None, max_periods: int | None = None) -> dict:
    """Every figure for these answers (see the module's docstring). ``policy_of`` maps
    completion ids to policy ids (for the policy-pair slices); ``period`` is the length and
    offset of the periods of the series over time, in seconds (a day: 86400, 0; weeks from
    Monday: 604800, 345600), of which the latest ``max_periods`` are kept."""
    data = _Overlap.of(answers, policy_of or {}, period)
    if data is None:
        return {"campaign": {"alpha": None, **_figures(0, 0, 0, 0, 0), "labelers": 0},
                "labelers": [], "labeler_pairs": [], "policy_pairs": [], "periods": []}
    rel, valid, first, second = data.relations()
    a, b = data.row_pairs()
    units = _Units.of(rel[a], rel[b], valid[a])
    rank_counts, rank_domain = _rank_counts(data)
    return {
        "campaign": {"alpha": _round(alpha_of_counts(rank_counts, rank_domain)), **units.total(data.n_tasks),
                     "labelers": len(data.labelers)},
        "labelers": _per_labeler(data, units, a, b, rel, valid),
        "labeler_pairs": _per_labeler_pair(data, units, a, b),
        "policy_pairs": _per_policy_pair(data, rel, valid, first, second, a, b),
        "periods": _per_period(data, units, a, rank_counts, rank_domain, max_periods),
    }


def _rank_counts(data: _Overlap) -> tuple[np.ndarray, list[float]]:
    """α's units (task × completion) by rank values: how many labelers gave each rank."""
    width = data.ranks.shape[1]
    valued = ~np.isnan(data.ranks)
    domain, value_index = np.unique(data.ranks[valued], return_inverse=True)
    rows, columns = np.nonzero(valued)
    return _count(data.task_of_row[rows] * width + columns, value_index, data.n_tasks * width, len(domain)), \
        [float(v) for v in domain]


def _count(unit: np.ndarray, value: np.ndarray, n_units: int, n_values: int) -> np.ndarray:
    """A units × values matrix: how often each (unit, value) occurs."""
    return np.bincount(unit * n_values + value, minlength=n_units * n_values).reshape(n_units, n_values)


def _per_labeler(data: _Overlap, units: _Units, a, b, rel, valid) -> list[dict]:
    n = len(data.labelers)
    tasks = np.bincount(data.labeler_of_row, minlength=n)
    both = _Units(*(np.r_[x, x] for x in (units.n0, units.agreements, units.concordance, units.scale)))
    others = both.figures(np.r_[data.labeler_of_row[a], data.labeler_of_row[b]], n, tasks)
    majority = _against_majority(data, rel, valid)
    majority_tasks = np.bincount(data.labeler_of_row, weights=majority.n0 > 0, minlength=n)
    by_majority = majority.figures(data.labeler_of_row, n, majority_tasks)
    return [{"labeler": name, "tasks": int(tasks[i]), "vs_others": others[i], "vs_majority": by_majority[i]}
            for i, name in enumerate(data.labelers)]


def _against_majority(data: _Overlap, rel: np.ndarray, valid: np.ndarray) -> _Units:
    """Each row against the majority of the task's other rows: per completion pair, the
    relation most of them hold, where at least two others answered and one relation leads."""
    rows, columns = np.nonzero(valid)
    width = rel.shape[1]
    votes = _count(data.task_of_row[rows] * width + columns, rel[rows, columns] + 1, data.n_tasks * width, 3)
    others = votes.reshape(data.n_tasks, width, 3)[data.task_of_row] - (np.eye(3, dtype=np.int64)[rel + 1] * valid[..., None])
    top = others.max(axis=2)
    leads = (others == top[..., None]).sum(axis=2) == 1
    answered = np.bincount(data.task_of_row, minlength=data.n_tasks)[data.task_of_row] - 1
    kept = valid & leads & (answered >= 2)[:, None]
    return _Units.of(rel, (others.argmax(axis=2) - 1).astype(np.int8), kept)


def _per_labeler_pair(data: _Overlap, units: _Units, a, b) -> list[dict]:
    n = len(data.labelers)
    codes, group = np.unique(data.labeler_of_row[a] * n + data.labeler_of_row[b], return_inverse=True)
    tasks = np.bincount(group, minlength=len(codes))
    figures = units.figures(group, len(codes), tasks)
    return [{"labelers": [data.labelers[code // n], data.labelers[code % n]], **figures[g]}
            for g, code in enumerate(codes)]


def _per_policy_pair(data: _Overlap, rel, valid, first, second, a, b) -> list[dict]:
    """Units: a pair of rows on one task, restricted to the completion pairs between two
    policies; α: each such completion pair of a task, valued from the first policy's side."""
    policy_ids, dense = np.unique(data.policies, return_inverse=True)
    dense = dense.reshape(data.policies.shape)
    pa, pb = dense[:, first], dense[:, second]
    known = data.policies >= 0
    between = known[:, first] & known[:, second] & (pa != pb)
    if not between.any():
        return []
    n = len(policy_ids)
    codes, key_of = np.unique(np.minimum(pa, pb)[between] * n + np.maximum(pa, pb)[between], return_inverse=True)
    n_keys = len(codes)
    key = np.full(between.shape, -1)
    key[between] = key_of
    side = np.where(pa > pb, -1, 1).astype(np.int8)  # +1: the first completion is the first policy's
    # a unit per (pair of rows, key): the comparisons of two labelers between two policies on one task
    unit_key = key[data.task_of_row[a]]
    unit, column = np.nonzero((unit_key >= 0) & valid[a])
    x, y = rel[a][unit, column].astype(np.int64), rel[b][unit, column]
    part, group = np.unique(unit * n_keys + unit_key[unit, column], return_inverse=True)
    product = x * y
    n0, agreements, ties_x, ties_y, concordance = (
        np.bincount(group, weights=w, minlength=len(part))
        for w in (np.ones(len(x)), x == y, x == 0, y == 0, (product > 0).astype(int) - (product < 0)))
    parts = _Units(n0, agreements, concordance, np.sqrt((n0 - ties_x) * (n0 - ties_y)))
    part_key = part % n_keys
    task_keys = np.unique(data.task_of_row[a][part // n_keys] * n_keys + part_key) % n_keys
    figures = parts.figures(part_key, n_keys, np.bincount(task_keys, minlength=n_keys))
    # α: units are (task, completion pair) with a key, valued −1/0/+1 from the first policy's side
    rows, columns = np.nonzero(valid & (key[data.task_of_row] >= 0))
    width = rel.shape[1]
    values = rel[rows, columns] * side[data.task_of_row[rows], columns]
    units, unit_of = np.unique(data.task_of_row[rows] * width + columns, return_inverse=True)
    counts = _count(unit_of, values.astype(np.int64) + 1, len(units), 3)
    unit_keys = key.ravel()[units]
    return [{"policies": [int(policy_ids[codes[k] // n]), int(policy_ids[codes[k] % n])],
             "alpha": _round(alpha_of_counts(counts[unit_keys == k], [-1, 0, 1])), **figures[k]} for k in range(n_keys)]


def _per_period(data: _Overlap, units: _Units, a, rank_counts, rank_domain, max_periods) -> list[dict]:
    if not data.periods:
        return []
    n = len(data.periods)
    figures = units.figures(data.period_of_task[data.task_of_row[a]], n,
                            np.bincount(data.period_of_task[data.period_of_task >= 0], minlength=n))
    width = data.ranks.shape[1]
    unit_period = np.repeat(data.period_of_task, width)
    keep = range(max(0, n - max_periods) if max_periods else 0, n)
    return [{"start": datetime.fromtimestamp(data.periods[p], UTC), "alpha": _round(alpha_of_counts(rank_counts[unit_period == p], rank_domain)),
             **figures[p]} for p in keep]


def index_of(names: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct names, sorted, and each name's place among them."""
    distinct = sorted(set(names))
    place = {name: i for i, name in enumerate(distinct)}
    return distinct, np.fromiter((place[n] for n in names), dtype=np.int64, count=len(names))


def _ranks_of_common(answers_of: dict[str, Answer], names: list[str]) -> tuple[list[list[float]], list[int]]:
    """Each answer's ranks of the completions all of them ranked (in id order), and those ids.
    Answers to one task rank the same completions; the intersection is the rare fallback."""
    completions = sorted(answers_of[names[0]].ranks)
    try:
        if all(len(answers_of[n].ranks) == len(completions) for n in names):
            return [[answers_of[n].ranks[c] for c in completions] for n in names], completions
    except KeyError:
        pass
    completions = sorted(set.intersection(*(set(answers_of[n].ranks) for n in names)))
    return [[answers_of[n].ranks[c] for c in completions] for n in names], completions


def _periods(latest: np.ndarray, period: tuple[float, float] | None) -> tuple[np.ndarray, list[float]]:
    """Each task's period (its index, −1 for none) and the periods' starts: ``period`` is
    (length, offset) in seconds, a period starting at offset + n × length."""
    if period is None:
        return np.full(len(latest), -1), []
    length, offset = period
    starts = np.floor((latest - offset) / length) * length + offset
    known = ~np.isnan(starts)
    periods, index = np.unique(starts[known], return_inverse=True)
    period_of_task = np.full(len(latest), -1)
    period_of_task[known] = index
    return period_of_task, [float(p) for p in periods]
