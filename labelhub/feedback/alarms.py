"""Bias alarms per labeler: pure functions over plain data, each with its statistic and p-value.

A :class:`Response` is one labeler's latest judgment: its fractional ranks (1 = best; see
:mod:`labelhub.feedback.agreement`), the order the completions were shown in, and the
seconds spent. Display orders are shuffled per labeler and task, so for a labeler who
judges the content, where a completion was shown tells nothing about how it is ranked;
the alarms test exactly that, and answer length against the rest of the campaign
(docs/quality.md):

* **position** — how often the completion shown first beats the one shown second (ties
  left out), against 50%: exact two-sided binomial test.
* **length** — per judgment, Kendall's τ-b between the labeler's order and the answers'
  lengths (+1: always the longer one first); the labeler's mean minus the campaign's (the
  median of the labelers' means, which a biased few do not move), one-sample t test.
* **speed** — the median seconds per task against a floor; one-sided sign test of "more
  than half of the tasks took less than the floor".
* **straight_lining** — the same order of display slots again and again: the share of the
  labeler's judgments with their most frequent slot order (among judgments with the same
  pattern of ties), against the chance 1/m of one of the m slot orders, one-sided exact
  binomial test, Bonferroni-corrected for picking the most frequent (× m). Judgments
  that tie everything have only one slot order and say nothing here.

An alarm is raised when the labeler has at least ``min_judgments`` judgments that count
for it, the effect is at least the minimum, and the p-value, Bonferroni-adjusted for the
number of labelers tested (× m: with 30 labelers a fair one would otherwise trip one of the
30 tests at p < 0.01 a quarter of the time), is below ``p_value``.
Position, length and straight-lining look at judgments whose order covers exactly the
completions shown.

Per-judgment figures are computed for all judgments at once (arrays: a row per judgment,
a column per display slot); only the per-labeler summaries and p-values loop in Python.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from labelhub.feedback import significance
from labelhub.feedback.agreement import index_of


@dataclass(frozen=True)
class Thresholds:
    """When an alarm goes off (documented defaults; the API takes the first three per request)."""

    p_value: float = 0.01
    min_judgments: int = 20
    speed_floor_seconds: float = 5.0
    position_min_effect: float = 0.15  # |first-slot win share − 0.5|
    length_min_effect: float = 0.2  # |labeler's mean τ-b − the campaign's|
    straight_min_effect: float = 0.15  # modal slot order's share − its chance 1/m

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULTS = Thresholds()


@dataclass(frozen=True)
class Response:
    labeler: str
    ranks: dict[int, float] | None  # None for judgments without an order (ratings)
    shown: tuple[int, ...]
    seconds: float | None = None


ALARMS = ("position", "length", "speed", "straight_lining")


def alarms(responses: Iterable[Response], *, lengths: dict[int, int], thresholds: Thresholds = DEFAULTS) -> list[dict]:
    """One entry per labeler (sorted by name): how many judgments, each alarm, and which are raised."""
    data = _Judgments.of(list(responses), lengths)
    if data is None:
        return []
    taus = data.length_taus()
    rows_of = [np.flatnonzero(data.labeler_of_row == i) for i in range(len(data.labelers))]  # in the order given
    tau_lists = [taus[rows][~np.isnan(taus[rows])].tolist() for rows in rows_of]
    means = [statistics.fmean(t) for t in tau_lists if len(t) >= 2]
    campaign_length = statistics.median(means) if means else None
    wins, losses = data.first_slot_wins()
    patterns = _SlotOrders.of(data.ranks)
    out = []
    for i, name in enumerate(data.labelers):
        rows = rows_of[i]
        out.append({"labeler": name, "judgments": len(rows), "alarms": {
            "position": position_bias(int(wins[rows].sum()), int(losses[rows].sum()), thresholds),
            "length": length_bias(tau_lists[i], campaign_length, thresholds),
            "speed": speed(data.seconds[rows][~np.isnan(data.seconds[rows])], thresholds),
            "straight_lining": patterns.straight_lining(rows, thresholds),
        }})
    for key in ALARMS:
        _decide([entry["alarms"][key] for entry in out], thresholds)
    for entry in out:
        entry["raised"] = [key for key in ALARMS if entry["alarms"][key]["status"] == "alarm"]
    return out


@dataclass
class _Judgments:
    labelers: list[str]
    labeler_of_row: np.ndarray
    ranks: np.ndarray  # rows × slots: the rank of the completion shown in each slot (NaN: none)
    lengths: np.ndarray  # rows × slots: its length (NaN: unknown)
    seconds: np.ndarray  # NaN: not recorded

    @classmethod
    def of(cls, responses: list[Response], lengths: dict[int, int]) -> _Judgments | None:
        if not responses:
            return None
        width = max(len(r.shown) for r in responses)
        pad = [math.nan] * width
        ranks, sizes = [], []
        for r in responses:
            ordered = r.ranks is not None and len(r.ranks) == len(r.shown) and all(c in r.ranks for c in r.shown)
            ranks.append([r.ranks[c] for c in r.shown] + pad[len(r.shown):] if ordered else pad)
            sizes.append([lengths.get(c, math.nan) for c in r.shown] + pad[len(r.shown):])
        labelers, labeler_of_row = index_of([r.labeler for r in responses])
        seconds = np.array([math.nan if r.seconds is None else r.seconds for r in responses], dtype=float)
        return cls(labelers, labeler_of_row, np.array(ranks, dtype=float),
                   np.array(sizes, dtype=float), seconds)

    def first_slot_wins(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the completion shown first ranked above / below the one shown second."""
        if self.ranks.shape[1] < 2:
            return np.zeros(len(self.ranks), bool), np.zeros(len(self.ranks), bool)
        first, second = self.ranks[:, 0], self.ranks[:, 1]
        return first < second, first > second

    def length_taus(self) -> np.ndarray:
        """Per row, τ-b between its order (better first) and the answers' lengths (longer
        first); NaN where either is all ties, or a length is unknown."""
        a, b = np.triu_indices(self.ranks.shape[1], 1)
        shown = ~np.isnan(self.ranks)
        known = ~np.any(shown & np.isnan(self.lengths), axis=1)
        x = np.sign(np.nan_to_num(self.ranks[:, b] - self.ranks[:, a]))  # +1: the first of the two is better
        y = np.sign(np.nan_to_num(self.lengths[:, a] - self.lengths[:, b]))  # +1: the first is longer
        valid = shown[:, a] & shown[:, b]
        n0 = valid.sum(axis=1)
        ties_x, ties_y = ((x == 0) & valid).sum(axis=1), ((y == 0) & valid).sum(axis=1)
        concordance = ((x * y > 0) & valid).sum(axis=1) - ((x * y < 0) & valid).sum(axis=1)
        scale = np.sqrt((n0 - ties_x) * (n0 - ties_y))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(known & (scale > 0), concordance / scale, np.nan)


def _decision(p: float | None, large_enough: bool) -> dict:
    """What :func:`_decide` needs: the raw p-value and whether the effect is large enough."""
    return {"_p": p, "_large": large_enough}


def _decide(entries: list[dict], thresholds: Thresholds) -> None:
    """Set each labeler's status for one alarm: ``too_few`` under ``min_judgments`` (or
    without a p-value), else ``alarm`` when the p-value, Bonferroni-adjusted for the number of
    labelers tested (``p_adjusted``), is below ``p_value`` and the effect is large enough."""
    tested = [e["_p"] is not None and e["n"] >= thresholds.min_judgments for e in entries]
    m = sum(tested)
    for entry, is_tested in zip(entries, tested, strict=True):
        p, large = entry.pop("_p"), entry.pop("_large")
        adjusted = min(1.0, p * m) if is_tested else None
        status = "too_few" if not is_tested else ("alarm" if adjusted < thresholds.p_value and large else "ok")
        figures = dict(entry)
        entry.clear()  # status first, p_adjusted beside p_value
        entry.update(status=status, statistic=figures.pop("statistic"), p_value=figures.pop("p_value"),
                     p_adjusted=_p(adjusted), **figures)


def position_bias(wins: int, losses: int, thresholds: Thresholds) -> dict:
    n = wins + losses
    share = wins / n if n else None
    p = significance.binomial_two_sided(wins, n, 0.5) if n else None
    effect = abs(share - 0.5) if share is not None else 0.0
    return {"statistic": _round(share), "p_value": _p(p), "n": n, "expected": 0.5, "first_wins": wins,
            **_decision(p, effect >= thresholds.position_min_effect)}


def length_bias(taus: Sequence[float], campaign: float | None, thresholds: Thresholds) -> dict:
    entry = {"n": len(taus), "labeler_tau_b": None, "campaign_tau_b": _round(campaign)}
    if len(taus) < 2 or campaign is None:
        return {"statistic": None, "p_value": None, **entry, **_decision(None, False)}
    mean = statistics.fmean(taus)
    _, _, p = significance.one_sample_t_test(mean, statistics.variance(taus, mean), len(taus), campaign)
    difference = mean - campaign
    return {"statistic": _round(difference), "p_value": _p(p), **entry, "labeler_tau_b": _round(mean),
            **_decision(p, abs(difference) >= thresholds.length_min_effect)}


def speed(seconds: np.ndarray, thresholds: Thresholds) -> dict:
    floor = thresholds.speed_floor_seconds
    if not len(seconds):
        return {"statistic": None, "p_value": None, "n": 0, "floor": floor, "faster": 0, **_decision(None, False)}
    faster = int((seconds < floor).sum())
    median = float(np.median(seconds))
    p = significance.binomial_at_least(faster, len(seconds), 0.5)
    return {"statistic": _round(median, 3), "p_value": _p(p), "n": len(seconds), "floor": floor, "faster": faster,
            **_decision(p, median < floor)}


def slot_order(ranks: dict[int, float], shown: Sequence[int]) -> tuple[tuple[int, ...], ...] | None:
    """The judgment as display slots, best first: ((2,), (0, 3), (1,)) — slot 2 first, then
    slots 0 and 3 tied, then slot 1 (0 = the slot shown first)."""
    if set(shown) != set(ranks):
        return None
    return _slots_of([ranks[c] for c in shown])


def _slots_of(ranks_by_slot: Sequence[float]) -> tuple[tuple[int, ...], ...]:
    groups: dict[float, list[int]] = {}
    for slot, rank in enumerate(ranks_by_slot):
        if not math.isnan(rank):
            groups.setdefault(rank, []).append(slot)
    return tuple(tuple(groups[rank]) for rank in sorted(groups))


def slot_orders_possible(order: tuple[tuple[int, ...], ...]) -> int:
    """How many slot orders share this pattern of ties: K! / Π(group size!)."""
    count = math.factorial(sum(len(g) for g in order))
    for group in order:
        count //= math.factorial(len(group))
    return count


@dataclass
class _SlotOrders:
    """Each row's slot order, as an index into the distinct orders (few: at most the weak
    orders of K slots), with what each distinct order is."""

    pattern_of_row: np.ndarray
    orders: list[tuple[tuple[int, ...], ...]]
    possible: np.ndarray  # per order: how many orders share its pattern of ties (1: says nothing)
    shape_of: np.ndarray  # per order: its pattern of ties (group sizes, best first), as an index

    @classmethod
    def of(cls, ranks: np.ndarray) -> _SlotOrders:
        codes = np.nan_to_num(ranks * 2).astype(np.int64) @ ((2 * ranks.shape[1] + 1) ** np.arange(ranks.shape[1]))
        _, first_row, pattern_of_row = np.unique(codes, return_index=True, return_inverse=True)
        orders = [_slots_of(ranks[row].tolist()) for row in first_row]
        shapes = [tuple(map(len, order)) for order in orders]
        shape_index = {shape: i for i, shape in enumerate(dict.fromkeys(shapes))}
        return cls(pattern_of_row, orders, np.array([slot_orders_possible(o) for o in orders]),
                   np.array([shape_index[s] for s in shapes]))

    def straight_lining(self, rows: np.ndarray, thresholds: Thresholds) -> dict:
        patterns = self.pattern_of_row[rows]
        patterns = patterns[self.possible[patterns] > 1]
        if not len(patterns):
            return {"statistic": None, "p_value": None, "n": 0, "order": None, "expected": None, "longest_run": 0,
                    **_decision(None, False)}
        counts = np.bincount(patterns, minlength=len(self.orders))
        modal = min(np.flatnonzero(counts), key=lambda o: (-counts[o], self.orders[o]))
        m = int(self.possible[modal])
        n, k = int((self.shape_of[patterns] == self.shape_of[modal]).sum()), int(counts[modal])
        p = min(1.0, m * significance.binomial_at_least(k, n, 1 / m))
        share = k / n
        return {"statistic": _round(share), "p_value": _p(p), "n": n, "order": _order_text(self.orders[modal]),
                "expected": _round(1 / m), "longest_run": _longest_run(patterns == modal),
                **_decision(p, share - 1 / m >= thresholds.straight_min_effect)}


def _order_text(order: tuple[tuple[int, ...], ...]) -> str:
    """((1,), (0, 2)) → "2 > 1 = 3" (slots counted from 1, as a person reads them)."""
    return " > ".join(" = ".join(str(slot + 1) for slot in group) for group in order)


def _longest_run(hits: np.ndarray) -> int:
    """The longest run of True."""
    edges = np.diff(np.r_[0, hits.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if len(starts) else 0


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _p(p: float | None) -> float | None:
    """p-values keep their magnitude (1e-12 stays 1e-12): four significant digits."""
    return None if p is None else float(f"{p:.4g}")
