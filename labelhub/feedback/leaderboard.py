"""The campaign leaderboard: how policy versions fare against each other in human judgments.

Every judged pair whose two completions come from different policies is one comparison
between those policies (ties count half). Bradley–Terry strengths (the reference policy at
0) with bootstrap 95% intervals, the win-rate matrix and the number of comparisons.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from labelhub.campaigns.models import Campaign, Completion, Policy
from labelhub.feedback import bradley_terry
from labelhub.feedback import pairs as pairs_lib
from labelhub.labeling.models import Judgment


@dataclass
class Standing:
    policy: Policy
    strength: float
    low: float
    high: float
    comparisons: int
    wins: float


@dataclass
class Leaderboard:
    reference: Policy | None
    standings: list[Standing]
    win_rates: dict[int, dict[int, float | None]]  # policy id → policy id → share of wins
    games: dict[int, dict[int, int]]
    comparisons: int


class PromotionRefused(Exception):
    pass


def policy_comparisons(*, campaign: Campaign) -> list[tuple[int, int, float]]:
    """(winner policy id, loser policy id, weight) for every cross-policy judged pair."""
    policy_of = dict(Completion.objects.filter(prompt__campaign=campaign).values_list("id", "policy_id"))
    comparisons = []
    judgments = Judgment.objects.filter(campaign=campaign, corrections__isnull=True).values_list(
        "ranking", "preferred_id", "strength", "display_order")
    for ranking, preferred, strength, order in judgments.iterator(chunk_size=2000):
        if ranking:
            raw = pairs_lib.pairs_from_ranking(ranking, keep_ties=True)
        else:
            one = pairs_lib.pair_from_choice(sorted(order), preferred, strength, {})
            raw = [one[:3]] if one else []
        for chosen, rejected, tie in raw:
            a, b = policy_of.get(chosen), policy_of.get(rejected)
            if a is not None and b is not None and a != b:
                comparisons.append((a, b, 0.5 if tie else 1.0))
    return comparisons


def leaderboard(*, campaign: Campaign, reference: Policy | None = None, rounds: int = 200, seed: int = 0) -> Leaderboard:
    comparisons = policy_comparisons(campaign=campaign)
    involved = {p for a, b, _ in comparisons for p in (a, b)}
    policies = {p.id: p for p in Policy.objects.filter(campaign=campaign, id__in=involved)}
    if reference is None or reference.id not in policies:
        reference = _default_reference(campaign, policies)
    ids = sorted(policies)
    if reference is not None:
        ids.remove(reference.id)
        ids.insert(0, reference.id)
    fitted = bradley_terry.bootstrap(ids, comparisons, reference=reference.id if reference else None, rounds=rounds, seed=seed)
    games, wins = defaultdict(lambda: defaultdict(float)), defaultdict(lambda: defaultdict(float))
    for a, b, w in comparisons:
        games[a][b] += 1
        games[b][a] += 1
        wins[a][b] += w
        if w < 1:
            wins[b][a] += w
    standings = sorted(
        (Standing(policies[i], *fitted[i], comparisons=int(sum(games[i].values())), wins=sum(wins[i].values())) for i in ids),
        key=lambda s: -s.strength,
    )
    win_rates = {a: {b: (wins[a][b] / games[a][b] if games[a][b] else None) for b in ids} for a in ids}
    return Leaderboard(reference, standings, win_rates, {a: {b: int(games[a][b]) for b in ids} for a in ids}, len(comparisons))


def _default_reference(campaign, policies):
    best = next((p for p in policies.values() if p.is_best), None)
    if best is not None:
        return best
    roots = [p for p in policies.values() if p.parent_id is None]
    return min(roots or policies.values(), key=lambda p: p.id) if policies else None


@transaction.atomic
def policy_promote(*, campaign: Campaign, policy: Policy, rounds: int = 400) -> Standing:
    """Make ``policy`` the campaign's best version if its lower bound beats the current best.

    Strengths are fitted relative to the current best (or the base when there is none), so
    "beats" means the lower end of the 95% interval is above 0.
    """
    current = Policy.objects.select_for_update().filter(campaign=campaign, is_best=True).first()
    board = leaderboard(campaign=campaign, reference=current or _default_reference(campaign, {p.id: p for p in campaign.policies.all()}), rounds=rounds)
    standing = next((s for s in board.standings if s.policy.id == policy.id), None)
    if standing is None:
        raise PromotionRefused(f"{policy.name} has no human comparisons yet.")
    if board.reference is not None and board.reference.id == policy.id:
        raise PromotionRefused(f"{policy.name} is already the reference.")
    if standing.low <= 0:
        raise PromotionRefused(
            f"{policy.name}'s 95% interval [{standing.low:.2f}, {standing.high:.2f}] does not clear "
            f"{board.reference.name if board.reference else 'the reference'}."
        )
    Policy.objects.filter(campaign=campaign, is_best=True).update(is_best=False)
    Policy.objects.filter(pk=policy.pk).update(is_best=True)
    return standing
