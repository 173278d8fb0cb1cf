"""The campaign leaderboard: how policy versions fare against each other in human judgments.

Every judged pair whose two completions come from different policies is one comparison
between those policies (ties count half). Bradley–Terry strengths (the reference policy at
0) with bootstrap 95% intervals, the win-rate matrix and the number of comparisons; beside
them, each version's guards (from the run that produced it), any promotion that overrode
them, its forgetting report (flagged past the campaign's threshold), and each
retrieval-augmented version against the same policy without retrieval.

The promotion gate: a version becomes the best only when the lower end of its interval
clears the current best, and a version whose run broke a guard only with an explicit
override and a note (recorded as a :class:`Promotion`).
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction

from labelhub.campaigns.models import UNSUPPORTED_FLAG, Campaign, Completion, Policy
from labelhub.feedback import bradley_terry
from labelhub.feedback import pairs as pairs_lib
from labelhub.feedback.models import Promotion
from labelhub.labeling.models import Judgment

# Cached figures are keyed by the data they come from, so they never go stale; the timeout
# only lets the keys of past states leave the cache.
CACHE_SECONDS = 24 * 3600
#: Bootstrap rounds of the intervals: the page, the API and the promotion gate use the same fit,
#: so a promotion quotes the interval the table shows.
ROUNDS = 200


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
    overrides: dict[int, Promotion]  # policy id → its latest promotion over failed guards
    retrieval: list[RetrievalComparison] = field(default_factory=list)
    forgetting_threshold: float = 1.5  # the campaign's: a version whose perplexity ratio exceeds it forgets

    def forgets(self, policy: Policy) -> bool:
        return policy.forgets(self.forgetting_threshold)


@dataclass
class RetrievalComparison:
    """A retrieval-augmented version beside the same policy without retrieval (same base,
    adapter and prompt template, ``retrieval_k`` 0): both strengths, their head-to-head win
    rate, and how many of its judged answers labelers flagged "not supported by the sources"."""

    policy: Policy
    strength: float
    without: Policy | None
    without_strength: float | None
    win_rate: float | None  # the retrieval version against the one without, head to head
    games: int
    unsupported: int  # its judged answers flagged UNSUPPORTED_FLAG
    judged: int  # its answers in judgments

    @property
    def gain(self) -> float | None:
        return None if self.without_strength is None else self.strength - self.without_strength


class PromotionRefused(Exception):
    pass


class PromotionFlagged(PromotionRefused):
    """The version's run broke a guard; promoting it needs ``override`` and a note."""

    def __init__(self, policy: Policy):
        self.reasons = policy.flag_reasons
        super().__init__(
            f"{policy.name} is flagged by its guards: {'; '.join(self.reasons)}. "
            "Promote it only with an override and a note saying why."
        )


class PromotionInvalid(ValueError):
    """The request itself is wrong (an override without a note); nothing was changed."""


def policy_comparisons(*, campaign: Campaign) -> list[tuple[int, int, float]]:
    """(winner policy id, loser policy id, weight) for every cross-policy judged pair."""
    policy_of = dict(Completion.objects.filter(prompt__campaign=campaign).values_list("id", "policy_id"))
    comparisons = []
    judgments = Judgment.objects.filter(campaign=campaign, corrections__isnull=True, task__is_gold=False).values_list(
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


def leaderboard(*, campaign: Campaign, reference: Policy | None = None, rounds: int = ROUNDS, seed: int = 0) -> Leaderboard:
    """The standings, read from the cache while the campaign's comparisons are unchanged.

    The figures (tallies and the bootstrap fit) are cached under the campaign's
    :func:`comparison_state` and the fit's parameters, so a new or deleted judgment makes new
    keys; the policies (names, guards, which is best, hence the default reference) and the
    promotions are read fresh on every call. Figures are stored only when the state read
    before computing them is still the state afterwards, so a judgment that arrives in
    between never ends up under the key of the state without it.
    """
    state = comparison_state(campaign=campaign)

    @functools.cache
    def comparisons() -> list[tuple[int, int, float]]:
        return policy_comparisons(campaign=campaign)

    def unchanged() -> bool:  # nothing was judged or deleted while the figures were computed
        return comparison_state(campaign=campaign) == state

    tally = _cached(("tally", state), lambda: Tally.of(comparisons()), store_if=unchanged)
    policies = {p.id: p for p in Policy.objects.filter(campaign=campaign, id__in=tally.involved).select_related("parent")}
    if reference is None or reference.id not in policies:
        reference = _default_reference(campaign, policies)
    ids = sorted(policies)
    if reference is not None:
        ids.remove(reference.id)
        ids.insert(0, reference.id)
    fitted = _cached(("fit", state, tuple(ids), rounds, seed), lambda: bradley_terry.bootstrap(
        ids, comparisons(), reference=reference.id if reference else None, rounds=rounds, seed=seed), store_if=unchanged)
    standings = sorted(
        (Standing(policies[i], *fitted[i], comparisons=tally.games_of(i), wins=tally.wins_of(i)) for i in ids),
        key=lambda s: -s.strength,
    )
    board = Leaderboard(reference, standings, {a: {b: tally.win_rate(a, b) for b in ids} for a in ids},
                        {a: {b: tally.games_between(a, b) for b in ids} for a in ids},
                        tally.comparisons, promotion_overrides(campaign=campaign))
    board.retrieval = retrieval_comparisons(campaign=campaign, board=board)
    board.forgetting_threshold = campaign.forgetting_threshold
    return board


def _same_model(a: Policy, b: Policy) -> bool:
    return (a.base_model, a.adapter_path, a.prompt_template_kind, a.prompt_template) == (
        b.base_model, b.adapter_path, b.prompt_template_kind, b.prompt_template)


def retrieval_comparisons(*, campaign: Campaign, board: Leaderboard) -> list[RetrievalComparison]:
    """Each ranked retrieval-augmented version beside its counterpart without retrieval (its
    parent when that is the same model without retrieval, else the oldest such version in the
    standings). No query unless the standings hold a retrieval version."""
    ranked = {s.policy.id: s for s in board.standings}
    retrieving = [s for s in board.standings if s.policy.retrieves]
    if not retrieving:
        return []
    flagged, judged = source_flags(campaign=campaign)
    out = []
    for s in retrieving:
        plain = sorted((o.policy for o in board.standings if not o.policy.retrieves and _same_model(o.policy, s.policy)),
                       key=lambda p: (p.id != s.policy.parent_id, p.id))
        without = plain[0] if plain else None
        out.append(RetrievalComparison(
            policy=s.policy, strength=s.strength, without=without,
            without_strength=ranked[without.id].strength if without else None,
            win_rate=board.win_rates[s.policy.id].get(without.id) if without else None,
            games=board.games[s.policy.id].get(without.id, 0) if without else 0,
            unsupported=flagged.get(s.policy.id, 0), judged=judged.get(s.policy.id, 0),
        ))
    return out


def source_flags(*, campaign: Campaign) -> tuple[dict[int, int], dict[int, int]]:
    """Per policy: its answers flagged "not supported by the sources", and its answers judged
    (each counting once per judgment that showed it; corrected judgments left out)."""
    policy_of = dict(Completion.objects.filter(prompt__campaign=campaign).values_list("id", "policy_id"))
    flagged: dict[int, int] = defaultdict(int)
    judged: dict[int, int] = defaultdict(int)
    rows = Judgment.objects.filter(campaign=campaign, corrections__isnull=True).values_list("display_order", "flags")
    for order, flags in rows.iterator(chunk_size=2000):
        for cid in order or []:
            if (pid := policy_of.get(cid)) is not None:
                judged[pid] += 1
        for cid, names in (flags or {}).items():
            if UNSUPPORTED_FLAG in (names or []) and (pid := policy_of.get(int(cid))) is not None:
                flagged[pid] += 1
    return dict(flagged), dict(judged)


@dataclass(frozen=True)
class Tally:
    """Games and wins between each pair of policies (ties count half a win each way)."""

    comparisons: int
    involved: tuple[int, ...]
    games: dict[int, dict[int, float]]
    wins: dict[int, dict[int, float]]

    @classmethod
    def of(cls, comparisons: list[tuple[int, int, float]]) -> Tally:
        games, wins = defaultdict(lambda: defaultdict(float)), defaultdict(lambda: defaultdict(float))
        for a, b, w in comparisons:
            games[a][b] += 1
            games[b][a] += 1
            wins[a][b] += w
            if w < 1:
                wins[b][a] += w
        involved = tuple(sorted({p for a, b, _ in comparisons for p in (a, b)}))
        return cls(len(comparisons), involved, _plain(games), _plain(wins))

    def games_of(self, policy: int) -> int:
        return int(sum(self.games.get(policy, {}).values()))

    def wins_of(self, policy: int) -> float:
        return sum(self.wins.get(policy, {}).values())

    def games_between(self, a: int, b: int) -> int:
        return int(self.games.get(a, {}).get(b, 0.0))

    def win_rate(self, a: int, b: int) -> float | None:
        games = self.games.get(a, {}).get(b, 0.0)
        return self.wins.get(a, {}).get(b, 0.0) / games if games else None


def _plain(table: defaultdict) -> dict[int, dict[int, float]]:
    """A nested defaultdict as plain dicts in the same order (picklable, and sums add in the same order)."""
    return {a: dict(row) for a, row in table.items()}


_STATE_SQL = """
SELECT count(*), sum(j.id), max(j.id), max(j.created_at),
       (SELECT md5(string_agg(t.id::text || ':' || t.is_qualification::text || ':' || COALESCE(t.gold_answer::text, ''),
                              ',' ORDER BY t.id))
          FROM labeling_task t WHERE t.campaign_id = %(campaign)s AND t.is_gold)
FROM labeling_judgment j WHERE j.campaign_id = %(campaign)s
"""


def comparison_state(*, campaign: Campaign) -> tuple:
    """A few numbers that change whenever the campaign's comparisons may have changed (one query).

    Judgments are append-only (a correction is a new row) and ids are never reused, so the
    count, the sum and the largest id of the campaign's judgments change with every
    judgment added or deleted (the sum also tells apart two deletions from one state, as a
    rolled-back one and a later one); the newest ``created_at`` and the campaign's own tell
    a database restored or rebuilt under the same ids apart. Completions need no numbers of
    their own: a judged completion is in its task (which protects it from deletion) and
    keeps its policy, and a new one changes nothing until it is judged. Gold tasks are not
    data (left out of the comparisons and the agreement): a digest of the gold tasks and
    their answers is part of the state, so marking or unmarking one makes new keys.
    """
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, {"campaign": campaign.pk})
        n, total, last, at, gold = cursor.fetchone()
    return (campaign.pk, campaign.created_at.isoformat(), n, total, last, at.isoformat() if at else None, gold)


def _cached(key: tuple, compute, *, store_if):
    """``compute()``, kept in Django's cache under ``key`` (a tuple of plain values) when
    ``store_if()`` still holds after computing it."""
    name = "leaderboard:" + hashlib.sha256(repr(key).encode()).hexdigest()
    value = cache.get(name)
    if value is None:
        value = compute()
        if store_if():
            cache.set(name, value, CACHE_SECONDS)
    return value


def promotable(board: Leaderboard, standing: Standing) -> bool:
    """The gate, without the guards: not the reference (nor already best), and the lower end of
    its interval above the reference's 0."""
    is_reference = board.reference is not None and board.reference.id == standing.policy.id
    return not is_reference and not standing.policy.is_best and standing.low > 0


def promotion_overrides(*, campaign: Campaign) -> dict[int, Promotion]:
    """The latest promotion over failed guards of each version that has one."""
    latest: dict[int, Promotion] = {}
    for promotion in Promotion.objects.filter(campaign=campaign, override=True).select_related("promoted_by").order_by("id"):
        latest[promotion.policy_id] = promotion
    return latest


def _default_reference(campaign, policies):
    best = next((p for p in policies.values() if p.is_best), None)
    if best is not None:
        return best
    roots = [p for p in policies.values() if p.parent_id is None]
    return min(roots or policies.values(), key=lambda p: p.id) if policies else None


@transaction.atomic
def policy_promote(
    *, campaign: Campaign, policy: Policy, user=None, override: bool = False, note: str = "", rounds: int = ROUNDS,
) -> Standing:
    """Make ``policy`` the campaign's best version if its lower bound beats the current best.

    Strengths are fitted relative to the leaderboard's reference — the current best, or the
    base when there is none — with the leaderboard's own fit (same reference, rounds and seed,
    so the same cached figures): the interval it quotes is the one the table shows. "Beats"
    means the lower end of the 95% interval is above 0. A version whose run broke a guard is
    refused (:class:`PromotionFlagged`) unless ``override`` is set with a ``note``; every
    promotion is recorded, an override with the reasons it overrode.
    """
    note = (note or "").strip()
    if override and not note:
        raise PromotionInvalid("An override needs a note saying why the version is promoted despite its guards.")
    if policy.flagged and not override:
        raise PromotionFlagged(policy)
    current = Policy.objects.select_for_update().filter(campaign=campaign, is_best=True).first()
    board = leaderboard(campaign=campaign, reference=current, rounds=rounds)
    standing = next((s for s in board.standings if s.policy.id == policy.id), None)
    if standing is None:
        raise PromotionRefused(f"{policy.name} has no human comparisons yet.")
    if board.reference is not None and board.reference.id == policy.id:
        raise PromotionRefused(f"{policy.name} is already the reference.")
    if not promotable(board, standing):
        raise PromotionRefused(
            f"{policy.name}'s 95% interval [{standing.low:.2f}, {standing.high:.2f}] does not clear "
            f"{board.reference.name if board.reference else 'the reference'}."
        )
    Policy.objects.filter(campaign=campaign, is_best=True).update(is_best=False)
    Policy.objects.filter(pk=policy.pk).update(is_best=True)
    Promotion.objects.create(
        campaign=campaign, policy=policy, promoted_by=user if getattr(user, "is_authenticated", False) else None,
        strength=standing.strength, low=standing.low, high=standing.high, override=policy.flagged,
        flag_reasons=policy.flag_reasons, note=note,
    )
    return standing
