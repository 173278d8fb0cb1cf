"""The p-values the bias alarms need, in plain Python (the web tier carries no scipy).

* :func:`binomial_two_sided` — the exact binomial test, two-sided by summing the
  probabilities of every outcome no more likely than the one observed (scipy's
  ``binomtest(...).pvalue``, "minlike");
* :func:`binomial_at_least` — the one-sided exact tail P(X ≥ k);
* :func:`one_sample_t_test` — Student's t test of a mean against a given value, two-sided,
  through Student's t distribution (the regularized incomplete beta function, by Lentz's
  continued fraction).

Tests check them against values computed another way (textbook tables, exact sums).
"""

from __future__ import annotations

import math

import numpy as np

_RELATIVE_TOLERANCE = 1 + 1e-7  # outcomes this close to the observed one's probability count as equal


def _log_pmfs(n: int, p: float) -> np.ndarray:
    """log P(X = i) for i = 0…n, X ~ Binomial(n, p), by the ratio of neighbours
    P(i+1)/P(i) = (n − i)/(i + 1) · p/(1 − p), summed from log P(0) = n·log(1 − p): no
    huge factorials cancel, so the error stays near the last bits (n up to millions)."""
    if p == 0.0 or p == 1.0:
        logs = np.full(n + 1, -np.inf)
        logs[0 if p == 0.0 else n] = 0.0
        return logs
    i = np.arange(n, dtype=float)
    steps = np.log(n - i) - np.log(i + 1) + (math.log(p) - math.log1p(-p))
    return n * math.log1p(-p) + np.concatenate(([0.0], np.cumsum(steps)))


def binomial_two_sided(k: int, n: int, p: float = 0.5) -> float:
    """P-value of ``k`` successes in ``n`` trials under success probability ``p``, two-sided."""
    _check_binomial(k, n, p)
    if n == 0:
        return 1.0
    logs = _log_pmfs(n, p)
    return min(1.0, float(np.exp(logs[logs <= logs[k] + math.log(_RELATIVE_TOLERANCE)]).sum()))


def binomial_at_least(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p): the one-sided p-value of ``k`` or more successes."""
    _check_binomial(k, n, p)
    if k <= 0:
        return 1.0
    return min(1.0, float(np.exp(_log_pmfs(n, p)[k:]).sum()))


def _check_binomial(k: int, n: int, p: float) -> None:
    if not (0 <= k <= n and 0.0 <= p <= 1.0):
        raise ValueError(f"need 0 <= k <= n and 0 <= p <= 1, got k={k}, n={n}, p={p}")


def one_sample_t_test(mean: float, var: float, n: int, expected: float) -> tuple[float, float, float]:
    """(t, degrees of freedom, two-sided p) of the test that values with this ``mean`` and
    sample variance ``var`` (n − 1 denominator) come from a population with mean ``expected``.
    With no variance the test is degenerate: p is 1 for a mean equal to ``expected``, else 0."""
    if n < 2:
        raise ValueError("a t test needs at least two values")
    diff, df = mean - expected, n - 1
    if var == 0:
        return (0.0, df, 1.0) if diff == 0 else (math.copysign(math.inf, diff), df, 0.0)
    t = diff / math.sqrt(var / n)
    return t, df, student_t_two_sided(t, df)


def student_t_two_sided(t: float, df: float) -> float:
    """P(|T| ≥ |t|) for Student's t with ``df`` degrees of freedom (normal for df = ∞)."""
    if math.isinf(df):
        return math.erfc(abs(t) / math.sqrt(2))
    if math.isinf(t):
        return 0.0
    return min(1.0, regularized_beta(df / (df + t * t), df / 2, 0.5))


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function (Numerical Recipes, 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float, *, iterations: int = 300, eps: float = 1e-15) -> float:
    """The continued fraction of I_x(a, b), evaluated by the modified Lentz method."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, iterations + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h
