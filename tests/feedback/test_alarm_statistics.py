"""Bias alarms on simulated labelers: each planted habit raises its alarm (with the statistic
and p-value worked out by hand), and a labeler who judges the content raises none."""

import math
import random
from fractions import Fraction

import pytest

from labelhub.feedback import significance
from labelhub.feedback.agreement import fractional_ranks, pairwise_ranks
from labelhub.feedback.alarms import Response, Thresholds, alarms, slot_order, slot_orders_possible

N = 30  # judgments per labeler
K = 3


def upper_tail(k, n, p):
    return float(sum(Fraction(math.comb(n, i)) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def tasks(seed=0):
    """N tasks of K completions; ids 3t+1..3t+3; lengths independent of quality (lower id = better)."""
    rng = random.Random(seed)
    out, lengths = [], {}
    for t in range(N):
        ids = [3 * t + 1, 3 * t + 2, 3 * t + 3]
        for c in ids:
            lengths[c] = rng.randrange(20, 400)
        out.append(ids)
    return out, lengths


def judge(name, how, lengths, *, seconds=30.0, seed=1):
    rng = random.Random(f"{name}{seed}")
    responses = []
    for ids in tasks()[0]:
        shown = rng.sample(ids, K)  # shuffled per labeler and task, as the queue does
        if how == "content":
            best_first = sorted(ids)
        elif how == "first_shown":
            best_first = shown
        elif how == "longest":
            best_first = sorted(ids, key=lambda c: -lengths[c])
        responses.append(Response(labeler=name, ranks=fractional_ranks([[c] for c in best_first]), shown=tuple(shown),
                                  seconds=seconds))
    return responses


@pytest.fixture
def lengths():
    return tasks()[1]


def entry(result, name):
    return next(e for e in result if e["labeler"] == name)


def test_a_labeler_who_judges_the_content_raises_nothing(lengths):
    fair = [r for name in ("ann", "bob", "cat") for r in judge(name, "content", lengths)]
    for e in alarms(fair, lengths=lengths):
        assert e["raised"] == [], e
        assert {a["status"] for a in e["alarms"].values()} == {"ok"}


def test_always_ranking_the_first_shown_first_raises_position_and_straight_lining(lengths):
    responses = judge("ann", "content", lengths) + judge("bob", "content", lengths) + judge("lazy", "first_shown", lengths)
    lazy = entry(alarms(responses, lengths=lengths), "lazy")
    assert lazy["raised"] == ["position", "straight_lining"]
    position = lazy["alarms"]["position"]
    assert (position["statistic"], position["n"], position["first_wins"]) == (1.0, N, N)
    assert position["p_value"] == pytest.approx(2 * 0.5**N, rel=1e-3)  # all 30 of 30, two-sided
    assert position["p_adjusted"] == pytest.approx(3 * 2 * 0.5**N, rel=1e-3)  # three labelers tested
    straight = lazy["alarms"]["straight_lining"]
    assert (straight["order"], straight["statistic"], straight["longest_run"]) == ("1 > 2 > 3", 1.0, N)
    assert straight["expected"] == round(1 / 6, 4)
    assert straight["p_value"] == pytest.approx(6 * (1 / 6) ** N, rel=1e-3)  # Bonferroni over the 6 orders


def length_tau(ids, lengths):
    """τ-b between ranking by id (lower first) and length, by hand: three pairs, no ties."""
    return sum((1 if lengths[a] > lengths[b] else -1) for i, a in enumerate(ids) for b in ids[i + 1:]) / 3


def test_preferring_the_longer_answer_raises_length_against_the_campaign(lengths):
    names = ("ann", "bob", "cat")
    responses = [r for name in names for r in judge(name, "content", lengths)] + judge("long", "longest", lengths)
    result = alarms(responses, lengths=lengths)
    long = entry(result, "long")
    assert long["raised"] == ["length"]
    length = long["alarms"]["length"]
    assert length["labeler_tau_b"] == 1.0  # every ranking is exactly the order of length
    campaign = sum(length_tau(ids, lengths) for ids in tasks()[0]) / N  # ann, bob and cat all rank by id
    assert length["campaign_tau_b"] == pytest.approx(campaign, abs=1e-4)
    assert length["statistic"] == pytest.approx(1.0 - campaign, abs=1e-4)
    assert length["p_value"] == 0.0  # all thirty at +1: no variance, and not the campaign's mean
    # the campaign's figure is the median labeler's: the biased one does not move it
    for name in names:
        assert entry(result, name)["raised"] == []
        assert entry(result, name)["alarms"]["length"]["statistic"] == 0.0


def test_its_length_p_value_is_a_t_test_against_the_campaign(lengths):
    # "half" ranks by length on even tasks and by id on odd ones
    taus = [1.0 if t % 2 == 0 else length_tau(ids, lengths) for t, ids in enumerate(tasks()[0])]
    half = [Response("half", fractional_ranks([[c] for c in (sorted(ids, key=lambda c: -lengths[c]) if t % 2 == 0 else ids)]),
                     tuple(ids), 20.0) for t, ids in enumerate(tasks()[0])]
    ann = sum(length_tau(ids, lengths) for ids in tasks()[0]) / N
    length = entry(alarms(half + judge("ann", "content", lengths), lengths=lengths), "half")["alarms"]["length"]
    mean = sum(taus) / N
    campaign = (mean + ann) / 2  # the median of two labelers' means
    var = sum((x - mean) ** 2 for x in taus) / (N - 1)
    t = (mean - campaign) / math.sqrt(var / N)
    assert length["statistic"] == pytest.approx(mean - campaign, abs=1e-4)
    assert length["p_value"] == pytest.approx(significance.student_t_two_sided(t, N - 1), rel=1e-3)


def test_a_median_under_the_floor_raises_speed(lengths):
    fast = judge("fast", "content", lengths, seconds=2.0)
    fast = [Response(r.labeler, r.ranks, r.shown, seconds=(2.0 if i < 25 else 40.0)) for i, r in enumerate(fast)]
    result = alarms(fast + judge("ann", "content", lengths), lengths=lengths)
    speed = entry(result, "fast")["alarms"]["speed"]
    assert (speed["status"], speed["statistic"], speed["faster"], speed["floor"]) == ("alarm", 2.0, 25, 5.0)
    assert speed["p_value"] == pytest.approx(upper_tail(25, N, Fraction(1, 2)), rel=1e-3)
    assert entry(result, "ann")["alarms"]["speed"]["status"] == "ok"
    lenient = alarms(fast, lengths=lengths, thresholds=Thresholds(speed_floor_seconds=1.0))
    assert entry(lenient, "fast")["alarms"]["speed"]["status"] == "ok"


def test_always_picking_the_right_side_in_ab_raises_position_and_straight_lining():
    rng = random.Random(3)
    responses = []
    for t in range(N):
        a, b = 2 * t + 1, 2 * t + 2
        shown = (a, b) if rng.random() < 0.5 else (b, a)
        responses.append(Response("righty", pairwise_ranks(shown, shown[1], "better"), shown, 10.0))
    righty = alarms(responses, lengths={})[0]
    assert righty["raised"] == ["position", "straight_lining"]
    assert righty["alarms"]["position"]["statistic"] == 0.0
    assert righty["alarms"]["straight_lining"]["order"] == "2 > 1"
    assert righty["alarms"]["length"]["status"] == "too_few"  # no lengths known, nobody to compare with


def ab_judgments(name, first_wins, n=N):
    """A/B judgments where the answer shown first wins ``first_wins`` times of ``n``."""
    return [Response(name, pairwise_ranks((2 * t + 1, 2 * t + 2), 2 * t + 1 if t < first_wins else 2 * t + 2, "better"),
                     (2 * t + 1, 2 * t + 2), 10.0) for t in range(n)]


def test_the_p_value_is_adjusted_for_the_number_of_labelers_tested():
    # 23 of 30: P(X ≥ 23) = 0.0026, two-sided 0.0052 — under 0.01 alone, not among four labelers
    tail = upper_tail(23, N, Fraction(1, 2))
    alone = alarms(ab_judgments("odd", 23), lengths={})[0]["alarms"]["position"]
    assert (alone["status"], alone["p_value"], alone["p_adjusted"]) == ("alarm", round(2 * tail, 6), round(2 * tail, 6))
    fair = [r for name in ("ann", "bob", "cat") for r in ab_judgments(name, 15)]
    among = entry(alarms(ab_judgments("odd", 23) + fair, lengths={}), "odd")["alarms"]["position"]
    assert among["p_value"] == alone["p_value"]
    assert among["p_adjusted"] == pytest.approx(4 * 2 * tail, rel=1e-3)
    assert among["status"] == "ok"


def test_too_few_judgments_decide_nothing(lengths):
    few = judge("lazy", "first_shown", lengths)[:5]
    lazy = alarms(few, lengths=lengths)[0]
    assert lazy["raised"] == []
    assert lazy["alarms"]["position"]["status"] == "too_few"
    assert lazy["alarms"]["position"]["statistic"] == 1.0  # shown, though not judged
    # five of five first-shown wins: p = 2 / 32 = 0.0625, an alarm only at a looser p
    assert alarms(few, lengths=lengths, thresholds=Thresholds(min_judgments=5))[0]["raised"] == ["straight_lining"]
    loose = Thresholds(min_judgments=5, p_value=0.1)
    assert alarms(few, lengths=lengths, thresholds=loose)[0]["raised"] == ["position", "straight_lining"]


def test_ties_leave_position_out_and_all_tied_judgments_say_nothing_about_slot_orders():
    tied = [Response("tie", {1: 1.5, 2: 1.5}, (1, 2), 10.0) for _ in range(N)]
    result = alarms(tied, lengths={1: 5, 2: 9})[0]
    assert result["alarms"]["position"]["n"] == 0
    assert result["alarms"]["straight_lining"]["n"] == 0
    assert result["raised"] == []


def test_it_reads_slot_orders_with_ties():
    # shown 7, 5, 9; ranked 9 first, then 7 and 5 tied → slot 3 first, then slots 1 and 2
    order = slot_order(fractional_ranks([[9], [7, 5]]), (7, 5, 9))
    assert order == ((2,), (0, 1))
    assert slot_orders_possible(order) == 3
    assert slot_orders_possible(((0,), (1,), (2,), (3,))) == 24
