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

An alarm is raised when the p-value is below ``p_value``, the effect is at least the
minimum, and the labeler has at least ``min_judgments`` judgments that count for it.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from labelhub.feedback import significance
from labelhub.feedback.agreement import compare, relations


@dataclass(frozen=True)
class Thresholds:
    """When an alarm goes off (documented defaults; the API takes the first three per request)."""

    p_value: float = 0.01
    min_judgments: int = 20
    speed_floor_seconds: float = 5.0
    position_min_effect: float = 0.15  # |first-slot win share − 0.5|
    length_min_effect: float = 0.2  # |labeler's mean τ-b − the others'|
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
    by_labeler: dict[str, list[Response]] = defaultdict(list)
    for response in responses:
        by_labeler[response.labeler].append(response)
    length_taus = {name: _length_taus(rs, lengths) for name, rs in by_labeler.items()}
    length_means = [statistics.fmean(taus) for taus in length_taus.values() if len(taus) >= 2]
    campaign_length = statistics.median(length_means) if length_means else None
    out = []
    for name in sorted(by_labeler):
        rs = by_labeler[name]
        checks = {
            "position": position_bias(rs, thresholds),
            "length": length_bias(length_taus[name], campaign_length, thresholds),
            "speed": speed(rs, thresholds),
            "straight_lining": straight_lining(rs, thresholds),
        }
        out.append({"labeler": name, "judgments": len(rs), "alarms": checks,
                    "raised": [key for key in ALARMS if checks[key]["status"] == "alarm"]})
    return out


def _verdict(n: int, p: float | None, effect: float, min_effect: float, thresholds: Thresholds) -> str:
    if n < thresholds.min_judgments or p is None:
        return "too_few"
    return "alarm" if p < thresholds.p_value and effect >= min_effect else "ok"


def position_bias(responses: Sequence[Response], thresholds: Thresholds) -> dict:
    wins = losses = 0
    for r in responses:
        if r.ranks is None or len(r.shown) < 2 or r.shown[0] not in r.ranks or r.shown[1] not in r.ranks:
            continue
        first, second = r.ranks[r.shown[0]], r.ranks[r.shown[1]]
        wins += first < second
        losses += first > second
    n = wins + losses
    share = wins / n if n else None
    p = significance.binomial_two_sided(wins, n, 0.5) if n else None
    effect = abs(share - 0.5) if share is not None else 0.0
    return {"status": _verdict(n, p, effect, thresholds.position_min_effect, thresholds),
            "statistic": _round(share), "p_value": _p(p), "n": n, "expected": 0.5, "first_wins": wins}


def _length_taus(responses: Sequence[Response], lengths: dict[int, int]) -> list[float]:
    """Per judgment, τ-b between its order (better first) and the answers' lengths (longer
    first); judgments where either is all ties are left out."""
    taus = []
    for r in responses:
        if r.ranks is None or not all(c in lengths for c in r.ranks):
            continue
        completions = sorted(r.ranks)
        by_length = tuple(_sign(lengths[a] - lengths[b]) for a, b in itertools.combinations(completions, 2))
        _, _, concordance, scale = compare(relations(r.ranks, completions), by_length)
        if scale:
            taus.append(concordance / scale)
    return taus


def length_bias(taus: Sequence[float], campaign: float | None, thresholds: Thresholds) -> dict:
    entry = {"n": len(taus), "labeler_tau_b": None, "campaign_tau_b": _round(campaign)}
    if len(taus) < 2 or campaign is None:
        return {"status": "too_few", "statistic": None, "p_value": None, **entry}
    mean = statistics.fmean(taus)
    _, _, p = significance.one_sample_t_test(mean, statistics.variance(taus, mean), len(taus), campaign)
    difference = mean - campaign
    return {"status": _verdict(len(taus), p, abs(difference), thresholds.length_min_effect, thresholds),
            "statistic": _round(difference), "p_value": _p(p), **entry, "labeler_tau_b": _round(mean)}


def speed(responses: Sequence[Response], thresholds: Thresholds) -> dict:
    seconds = [r.seconds for r in responses if r.seconds is not None]
    floor = thresholds.speed_floor_seconds
    if not seconds:
        return {"status": "too_few", "statistic": None, "p_value": None, "n": 0, "floor": floor, "faster": 0}
    faster = sum(s < floor for s in seconds)
    median = statistics.median(seconds)
    p = significance.binomial_at_least(faster, len(seconds), 0.5)
    status = _verdict(len(seconds), p, 1.0 if median < floor else 0.0, 1.0, thresholds)
    return {"status": status, "statistic": _round(median, 3), "p_value": _p(p), "n": len(seconds), "floor": floor,
            "faster": faster}


def slot_order(ranks: dict[int, float], shown: Sequence[int]) -> tuple[tuple[int, ...], ...] | None:
    """The judgment as display slots, best first: ((2,), (0, 3), (1,)) — slot 2 first, then
    slots 0 and 3 tied, then slot 1 (0 = the slot shown first)."""
    if set(shown) != set(ranks):
        return None
    groups: dict[float, list[int]] = defaultdict(list)
    for slot, completion in enumerate(shown):
        groups[ranks[completion]].append(slot)
    return tuple(tuple(groups[rank]) for rank in sorted(groups))


def slot_orders_possible(order: tuple[tuple[int, ...], ...]) -> int:
    """How many slot orders share this pattern of ties: K! / Π(group size!)."""
    count = math.factorial(sum(len(g) for g in order))
    for group in order:
        count //= math.factorial(len(group))
    return count


def straight_lining(responses: Sequence[Response], thresholds: Thresholds) -> dict:
    orders = [o for r in responses if r.ranks is not None and (o := slot_order(r.ranks, r.shown)) is not None]
    orders = [o for o in orders if slot_orders_possible(o) > 1]
    if not orders:
        return {"status": "too_few", "statistic": None, "p_value": None, "n": 0, "order": None, "expected": None,
                "longest_run": 0}
    counts = Counter(orders)
    modal = min(counts, key=lambda o: (-counts[o], o))
    same_pattern = [o for o in orders if tuple(map(len, o)) == tuple(map(len, modal))]
    m = slot_orders_possible(modal)
    n, k = len(same_pattern), counts[modal]
    p = min(1.0, m * significance.binomial_at_least(k, n, 1 / m))
    share = k / n
    return {"status": _verdict(n, p, share - 1 / m, thresholds.straight_min_effect, thresholds),
            "statistic": _round(share), "p_value": _p(p), "n": n, "order": _order_text(modal), "expected": _round(1 / m),
            "longest_run": _longest_run(orders, modal)}


def _order_text(order: tuple[tuple[int, ...], ...]) -> str:
    """((1,), (0, 2)) → "2 > 1 = 3" (slots counted from 1, as a person reads them)."""
    return " > ".join(" = ".join(str(slot + 1) for slot in group) for group in order)


def _longest_run(orders: Sequence, modal) -> int:
    longest = run = 0
    for order in orders:
        run = run + 1 if order == modal else 0
        longest = max(longest, run)
    return longest


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def _p(p: float | None) -> float | None:
    """p-values keep their magnitude (1e-12 stays 1e-12): four significant digits."""
    return None if p is None else float(f"{p:.4g}")
