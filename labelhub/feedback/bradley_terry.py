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
    if not items:
        return {}
    return _fit_outcomes(items, Outcomes.of(items, comparisons), reference, iterations)


class Outcomes:
    """Comparisons as arrays: winner index, loser index, weight (one entry per comparison)."""

    def __init__(self, winners: np.ndarray, losers: np.ndarray, weights: np.ndarray):
        self.winners, self.losers, self.weights = winners, losers, weights

    @classmethod
    def of(cls, items: list, comparisons: list[tuple]) -> Outcomes:
        index = {item: i for i, item in enumerate(items)}
        winners = np.array([index[winner] for winner, _, _ in comparisons], dtype=np.intp)
        losers = np.array([index[loser] for _, loser, _ in comparisons], dtype=np.intp)
        return cls(winners, losers, np.array([weight for _, _, weight in comparisons], dtype=float))

    def __len__(self) -> int:
        return len(self.weights)

    def __getitem__(self, picks: np.ndarray) -> Outcomes:
        return Outcomes(self.winners[picks], self.losers[picks], self.weights[picks])

    def wins(self, n: int) -> np.ndarray:
        """wins[i, j]: i's wins over j, a tie counting half a win for each side. np.add.at adds
        in the order of the comparisons, as a loop over them would."""
        wins = np.zeros((n, n))
        np.add.at(wins, (self.winners, self.losers), self.weights)
        tie = self.weights < 1.0
        np.add.at(wins, (self.losers[tie], self.winners[tie]), self.weights[tie])
        return wins


def _fit_outcomes(items: list, outcomes: Outcomes, reference, iterations: int = 50) -> dict:
    strengths = dict(zip(items, _newton(outcomes.wins(len(items)), iterations).tolist(), strict=True))
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
    outcomes = Outcomes.of(items, comparisons)
    rng = np.random.default_rng(seed)
    samples = {item: [] for item in items}
    for _ in range(rounds):
        picks = rng.integers(0, len(comparisons), len(comparisons))
        strengths = _fit_outcomes(items, outcomes[picks], reference)
        for item in items:
            samples[item].append(strengths[item])
    tail = (1 - level) / 2 * 100
    return {
        item: (point[item], float(np.percentile(samples[item], tail)), float(np.percentile(samples[item], 100 - tail)))
        for item in items
    }
