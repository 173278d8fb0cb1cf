"""Bradley–Terry strengths from pairwise outcomes, with bootstrap confidence intervals.

P(i beats j) = σ(s_i − s_j). Fitted by Newton's method on the (slightly L2-regularised, so
that an undefeated item keeps a finite strength) log-likelihood; strengths are centred so
the reference item (the first, unless named) has 0. Ties count half a win each way.
"""

from __future__ import annotations

import numpy as np

L2 = 0.01


def fit(items: list, comparisons: list[tuple], *, reference=None, iterations: int = 50) -> dict:
    """``comparisons``: ``(winner, loser, weight)`` with weight 1 for a win, 0.5 for a tie."""
    index = {item: i for i, item in enumerate(items)}
    n = len(items)
    if n == 0:
        return {}
    wins = np.zeros((n, n))
    for winner, loser, weight in comparisons:
        i, j = index[winner], index[loser]
        wins[i, j] += weight
        if weight < 1.0:  # a tie is half a win for each side
            wins[j, i] += weight
    strengths = dict(zip(items, _newton(wins, iterations).tolist(), strict=True))
    return _recentre(strengths, reference) if reference is not None else strengths


def _newton(wins: np.ndarray, iterations: int) -> np.ndarray:
    n = wins.shape[0]
    games = wins + wins.T
    s = np.zeros(n)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(s[:, None] - s[None, :])))
        grad = (wins - games * p).sum(axis=1) - L2 * s
        w = games * p * (1 - p)
        hessian = -np.diag(w.sum(axis=1)) + w - L2 * np.eye(n)
        step = np.linalg.solve(hessian, grad)
        s = s - step
        if np.abs(step).max() < 1e-10:
            break
    return s - s[0]


def _recentre(strengths: dict, reference) -> dict:
    base = strengths[reference]
    return {k: v - base for k, v in strengths.items()}


def bootstrap(items: list, comparisons: list[tuple], *, reference=None, rounds: int = 200, seed: int = 0,
              level: float = 0.95) -> dict:
    """Per item: strength, and the (lo, hi) percentile interval over resampled comparisons."""
    point = fit(items, comparisons, reference=reference)
    if not comparisons:
        return {item: (point[item], point[item], point[item]) for item in items}
    rng = np.random.default_rng(seed)
    samples = {item: [] for item in items}
    for _ in range(rounds):
        picks = rng.integers(0, len(comparisons), len(comparisons))
        strengths = fit(items, [comparisons[i] for i in picks], reference=reference)
        for item in items:
            samples[item].append(strengths[item])
    tail = (1 - level) / 2 * 100
    return {
        item: (point[item], float(np.percentile(samples[item], tail)), float(np.percentile(samples[item], 100 - tail)))
        for item in items
    }
