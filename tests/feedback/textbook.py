"""Agreement statistics computed a second way, from the textbook formulas, to check the
figures LabelHub computes (with the krippendorff package and its own pair counts)."""

import itertools
import math
from collections import Counter


def textbook_alpha(units, level="ordinal"):
    """Krippendorff's α: 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, with o the coincidence matrix."""
    units = [u for u in units if len(u) >= 2]
    values = sorted({v for u in units for v in u})
    o = Counter()
    for u in units:
        for i, j in itertools.permutations(range(len(u)), 2):
            o[(u[i], u[j])] += 1 / (len(u) - 1)
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())

    def delta2(c, k):
        if level == "nominal":
            return float(c != k)
        lo, hi = sorted((values.index(c), values.index(k)))
        return (sum(n_c[values[g]] for g in range(lo, hi + 1)) - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[(c, k)] * delta2(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta2(c, k) for c in values for k in values)
    return 1 - (n - 1) * observed / expected


def textbook_tau_b(x, y):
    """τ-b of two rank vectors: Σ sgn(xi − xj) sgn(yi − yj) / √((n0 − n1)(n0 − n2)), n1 and n2
    from the sizes t of the groups of equal values, Σ t(t − 1)/2."""
    n0 = len(x) * (len(x) - 1) // 2
    s = sum(math.copysign(1, x[i] - x[j]) * math.copysign(1, y[i] - y[j])
            for i, j in itertools.combinations(range(len(x)), 2) if x[i] != x[j] and y[i] != y[j])
    n1 = sum(t * (t - 1) // 2 for t in Counter(x).values())
    n2 = sum(t * (t - 1) // 2 for t in Counter(y).values())
    return s / math.sqrt((n0 - n1) * (n0 - n2))


