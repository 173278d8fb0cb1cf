"""Reads for the quality figures: agreement and bias alarms of a campaign (or of a snapshot's
judgments), loaded in a fixed number of queries whatever the campaign's size.

Which judgments count: each labeler's latest judgment per task (a correction replaces the
judgment it corrects), from labelers (imported pairs have none). Agreement leaves gold
tasks out (they are not data, and every labeler sees them); the alarms keep them (a
labeler cannot tell them apart, so they show the same habits). Rating tasks have no order
and count only for the speed alarm.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.functions import Length

from labelhub.campaigns.models import Campaign, Completion, Policy
from labelhub.feedback import agreement as agreement_lib
from labelhub.feedback import alarms as alarms_lib
from labelhub.feedback.leaderboard import comparison_state
from labelhub.labeling.models import Judgment

PERIODS = ("hour", "day", "week")
#: The series over time keeps the latest this many periods.
MAX_PERIODS = 400
CACHE_SECONDS = 24 * 3600

_FIELDS = ("task_id", "labeler__username", "ranking", "preferred_id", "strength", "display_order",
           "time_spent_ms", "created_at", "task__is_gold")


def counted_judgments(judgments: QuerySet[Judgment]) -> QuerySet[Judgment]:
    """The judgments that count, in the order they were made: from labelers, not corrected since."""
    return judgments.filter(labeler__isnull=False, corrections__isnull=True).order_by("id")


def _ranks(ranking, preferred_id, strength, display_order) -> dict[int, float] | None:
    if ranking:
        return agreement_lib.fractional_ranks(ranking)
    return agreement_lib.pairwise_ranks(display_order, preferred_id, strength)


@functools.cache
def _period_of(period: str):
    def start(at: datetime) -> datetime:
        at = at.replace(minute=0, second=0, microsecond=0)
        if period == "hour":
            return at
        at = at.replace(hour=0)
        return at if period == "day" else at - timedelta(days=at.weekday())

    return start


def agreement_figures(*, campaign: Campaign, judgments: QuerySet[Judgment] | None = None, period: str = "day") -> dict:
    """Agreement of the campaign's judgments (or of ``judgments``, a queryset of them), with
    policy names and the series per ``period`` (hour, day or week, in UTC). Three queries."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    rows = counted_judgments(judgments if judgments is not None else Judgment.objects.filter(campaign=campaign))
    answers = [
        agreement_lib.Answer(task=task, labeler=labeler, ranks=ranks, at=at)
        for task, labeler, ranking, preferred, strength, shown, _, at, gold in rows.values_list(*_FIELDS).iterator(chunk_size=5000)
        if not gold and (ranks := _ranks(ranking, preferred, strength, shown)) is not None
    ]
    policy_of = dict(Completion.objects.filter(prompt__campaign=campaign).values_list("id", "policy_id"))
    figures = agreement_lib.agreement(answers, policy_of=policy_of, period_of=_period_of(period), max_periods=MAX_PERIODS)
    names = dict(Policy.objects.filter(campaign=campaign).values_list("id", "name"))
    for entry in figures["policy_pairs"]:
        entry["names"] = [names.get(p) for p in entry["policies"]]
    for entry in figures["periods"]:
        entry["start"] = entry["start"].isoformat()
    return {"judgments": len(answers), "period": period, **figures}


def alarm_figures(*, campaign: Campaign, thresholds: alarms_lib.Thresholds = alarms_lib.DEFAULTS) -> dict:
    """Bias alarms of each labeler of the campaign. Two queries."""
    rows = counted_judgments(Judgment.objects.filter(campaign=campaign))
    responses = [
        alarms_lib.Response(labeler=labeler, ranks=_ranks(ranking, preferred, strength, shown), shown=tuple(shown),
                            seconds=None if ms is None else ms / 1000)
        for _, labeler, ranking, preferred, strength, shown, ms, _, _ in rows.values_list(*_FIELDS).iterator(chunk_size=5000)
    ]
    lengths = dict(Completion.objects.filter(prompt__campaign=campaign).annotate(n=Length("text")).values_list("id", "n"))
    return {"judgments": len(responses), "thresholds": thresholds.as_dict(),
            "labelers": alarms_lib.alarms(responses, lengths=lengths, thresholds=thresholds)}


def campaign_agreement(*, campaign: Campaign, period: str = "day") -> dict:
    """:func:`agreement_figures` of the whole campaign, from the cache while its judgments are unchanged."""
    return _cached(campaign, ("agreement", period), lambda: agreement_figures(campaign=campaign, period=period))


def campaign_alarms(*, campaign: Campaign, thresholds: alarms_lib.Thresholds = alarms_lib.DEFAULTS) -> dict:
    """:func:`alarm_figures`, from the cache while the campaign's judgments are unchanged."""
    key = ("alarms", tuple(sorted(thresholds.as_dict().items())))
    return _cached(campaign, key, lambda: alarm_figures(campaign=campaign, thresholds=thresholds))


def _cached(campaign: Campaign, key: tuple, compute):
    """Figures kept under the campaign's judgment state (:func:`comparison_state`: it changes with
    every judgment added or removed), stored only if that state held while they were computed."""
    state = comparison_state(campaign=campaign)
    name = "quality:" + hashlib.sha256(repr((key, state)).encode()).hexdigest()
    value = cache.get(name)
    if value is None:
        value = compute()
        if comparison_state(campaign=campaign) == state:
            cache.set(name, value, CACHE_SECONDS)
    return value
