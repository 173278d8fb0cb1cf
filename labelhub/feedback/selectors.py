"""Reads for the quality figures: agreement and bias alarms of a campaign (or of a snapshot's
judgments), loaded in a fixed number of queries whatever the campaign's size.

Which judgments count: each labeler's latest judgment per task (a correction replaces the
judgment it corrects), from labelers (imported pairs have none). Agreement leaves gold
tasks out (they are not data, and every labeler sees them); the alarms keep them (a
labeler cannot tell them apart, so they show the same habits). Rating tasks have no order
and count only for the speed alarm.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.aggregates.mixins import OrderableAggMixin
from django.core.cache import cache
from django.db.models import (
    Aggregate,
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Func,
    JSONField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    TextField,
    When,
)
from django.db.models.functions import Cast, Extract, Length, TruncHour

from labelhub.campaigns.models import Campaign, Completion, Membership, Policy, Role
from labelhub.feedback import agreement as agreement_lib
from labelhub.feedback import alarms as alarms_lib
from labelhub.feedback import disagreement as disagreement_lib
from labelhub.feedback import review_queue as review_sources
from labelhub.feedback.leaderboard import comparison_state
from labelhub.feedback.models import CompletionScore, Review
from labelhub.labeling import selectors as labeling_selectors
from labelhub.labeling.models import Judgment, Task
from labelhub.labeling.selectors import campaign_progress

#: The periods of the series over time: (length, offset) in seconds, in UTC (1970-01-05 was a Monday).
PERIODS = {"hour": (3600, 0), "day": (86400, 0), "week": (7 * 86400, 4 * 86400)}
#: The series over time keeps the latest this many periods.
MAX_PERIODS = 400
CACHE_SECONDS = 24 * 3600


def counted_judgments(judgments: QuerySet[Judgment]) -> QuerySet[Judgment]:
    """The judgments that count: from labelers, not corrected since. (NOT EXISTS rather than
    ``corrections__isnull``: PostgreSQL plans it as an anti-join and estimates it well.)"""
    corrected = Judgment.objects.filter(supersedes=OuterRef("pk"))
    return judgments.filter(~Exists(corrected), labeler__isnull=False)


class _JSONAgg(OrderableAggMixin, Aggregate):
    """PostgreSQL's ``json_agg``: builds its text faster than ``jsonb_agg`` (no binary form)."""

    function = "JSON_AGG"
    output_field = JSONField()


def _rows(judgments: QuerySet[Judgment], *fields) -> list[list]:
    """``fields`` of each judgment, in the order they were made, as one JSON array built by
    PostgreSQL and decoded at once (a Python object per row would cost more than the figures)."""
    row = Func(*fields, function="json_build_array", output_field=JSONField())
    text = judgments.aggregate(rows=Cast(_JSONAgg(row, order_by="id"), TextField()))["rows"]
    return json.loads(text) if text else []


def _ranks(ranking, preferred_id, strength, display_order) -> dict[int, float] | None:
    if ranking:
        return agreement_lib.fractional_ranks(ranking)
    return agreement_lib.pairwise_ranks(display_order, preferred_id, strength)


def _of_completions(campaign: Campaign, value) -> dict[int, int]:
    """Completion id → ``value`` for the campaign's completions, as two arrays in one query."""
    arrays = Completion.objects.filter(prompt__campaign=campaign).aggregate(
        ids=ArrayAgg("id", order_by="id", default=[]), values=ArrayAgg(value, order_by="id", default=[]))
    return dict(zip(arrays["ids"], arrays["values"], strict=True))


def _answers(judgments: QuerySet[Judgment]) -> list[agreement_lib.Answer]:
    """The judgments as agreement answers (the raw rows are freed on return)."""
    rows = _rows(judgments, F("task_id"), F("labeler__username"), F("ranking"), F("preferred_id"), F("strength"),
                 Case(When(ranking__isnull=True, then=F("display_order"))),  # only A/B answers need it
                 Cast(Extract("created_at", "epoch"), BigIntegerField()))
    return [
        agreement_lib.Answer(task=task, labeler=labeler, ranks=ranks, at=float(at))
        for task, labeler, ranking, preferred, strength, shown, at in rows
        if (ranks := _ranks(ranking, preferred, strength, shown)) is not None
    ]


def _responses(judgments: QuerySet[Judgment]) -> list[alarms_lib.Response]:
    """The judgments as alarm responses (the raw rows are freed on return)."""
    rows = _rows(judgments, F("labeler__username"), F("ranking"), F("preferred_id"), F("strength"),
                 F("display_order"), F("time_spent_ms"))
    return [
        alarms_lib.Response(labeler=labeler, ranks=_ranks(ranking, preferred, strength, shown), shown=tuple(shown),
                            seconds=None if ms is None else ms / 1000)
        for labeler, ranking, preferred, strength, shown, ms in rows
    ]


def agreement_figures(*, campaign: Campaign, judgments: QuerySet[Judgment] | None = None, period: str = "day") -> dict:
    """Agreement of the campaign's judgments (or of ``judgments``, a queryset of them), with
    policy names and the series per ``period`` (hour, day or week, in UTC). Three queries."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    judgments = judgments if judgments is not None else Judgment.objects.filter(campaign=campaign)
    answers = _answers(counted_judgments(judgments).filter(task__is_gold=False))
    figures = agreement_lib.agreement(answers, policy_of=_of_completions(campaign, "policy_id"),
                                      period=PERIODS[period], max_periods=MAX_PERIODS)
    names = dict(Policy.objects.filter(campaign=campaign).values_list("id", "name"))
    for entry in figures["policy_pairs"]:
        entry["names"] = [names.get(p) for p in entry["policies"]]
    for entry in figures["periods"]:
        entry["start"] = entry["start"].isoformat()
    return {"judgments": len(answers), "period": period, **figures}


def alarm_figures(*, campaign: Campaign, thresholds: alarms_lib.Thresholds = alarms_lib.DEFAULTS) -> dict:
    """Bias alarms of each labeler of the campaign. Two queries."""
    responses = _responses(counted_judgments(Judgment.objects.filter(campaign=campaign)))
    lengths = _of_completions(campaign, Length("text"))
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


# --- the live dashboard (labelhub/feedback/dashboard.py sends these; docs/quality.md) ----------

#: The judgments-per-hour chart covers the latest this many hours (UTC), the current one included.
RATE_HOURS = 48


def dashboard_counts(*, campaign: Campaign, now: datetime | None = None) -> dict:
    """The dashboard's quick figures: the campaign's progress, judgments per hour and, per
    labeler, judgments and gold answers. Five queries, each one aggregate over an index."""
    now = now or datetime.now(UTC)
    progress = campaign_progress(campaign_id=campaign.pk)
    progress.pop("campaign_id")
    return {"progress": progress, "per_hour": judgments_per_hour(campaign=campaign, now=now),
            "labelers": labeler_activity(campaign=campaign, now=now), "gold": gold_by_labeler(campaign=campaign)}


def judgments_per_hour(*, campaign: Campaign, now: datetime) -> list[dict]:
    """Judgments submitted by labelers (corrections too: each is work done) per hour of the
    latest :data:`RATE_HOURS` hours, oldest first, hours without any included. One query."""
    first = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=RATE_HOURS - 1)
    counts = dict(Judgment.objects.filter(campaign=campaign, labeler__isnull=False, created_at__gte=first)
                  .annotate(hour=TruncHour("created_at", tzinfo=UTC)).values("hour")
                  .annotate(n=Count("id")).values_list("hour", "n"))
    hours = [first + timedelta(hours=i) for i in range(RATE_HOURS)]
    return [{"start": hour.isoformat(), "judgments": counts.get(hour, 0)} for hour in hours]


def labeler_activity(*, campaign: Campaign, now: datetime) -> list[dict]:
    """Each labeler of the campaign (members with the labeler role, and anyone else who judged in
    it) by name: judgments submitted, in the last hour, and when the latest was. Two queries."""
    members = set(Membership.objects.filter(campaign=campaign, role=Role.LABELER).values_list("user__username", flat=True))
    rows = {row["labeler__username"]: row for row in Judgment.objects.filter(campaign=campaign, labeler__isnull=False)
            .values("labeler__username").annotate(judgments=Count("id"), last_at=Max("created_at"),
                                                 last_hour=Count("id", filter=Q(created_at__gte=now - timedelta(hours=1))))}
    out = []
    for name in sorted(members | set(rows)):
        row = rows.get(name, {})
        last = row.get("last_at")
        out.append({"labeler": name, "member": name in members, "judgments": row.get("judgments", 0),
                    "last_hour": row.get("last_hour", 0), "last_at": last.isoformat() if last else None})
    return out


def gold_by_labeler(*, campaign: Campaign) -> dict:
    """The dashboard's gold column: each labeler's gold accuracy with its 95% Wilson interval
    (``labeling.selectors.gold_accuracy``: every scored gold answer outside qualification),
    and whether they are paused. Four queries."""
    rows = labeling_selectors.gold_accuracy(campaign=campaign)
    return {"scored": True, "labelers": {
        row["labeler"]: {"answers": row["answered"], "correct": row["correct"], "accuracy": row["accuracy"],
                         "low": row["low"], "high": row["high"], "paused": row["paused"]}
        for row in rows}}


def dashboard_quality(*, campaign: Campaign, period: str = "day") -> dict:
    """The dashboard's slow figures, from the same cache as the Quality page and the API
    (:func:`campaign_agreement`, :func:`campaign_alarms`): the campaign's agreement and its
    series per ``period``, each labeler's agreement and alarms. Cold: 9 queries (the judgment
    state twice per figure, 3 + 2 for the figures); warm: the 2 state queries."""
    agreement = campaign_agreement(campaign=campaign, period=period)
    alarms = campaign_alarms(campaign=campaign)
    return {
        "period": period,
        "agreement": {"judgments": agreement["judgments"], "campaign": agreement["campaign"],
                      "periods": agreement["periods"],
                      "labelers": {e["labeler"]: {"tasks": e["tasks"], "vs_others": e["vs_others"],
                                                  "vs_majority": e["vs_majority"]} for e in agreement["labelers"]}},
        "alarms": {"thresholds": alarms["thresholds"], "labelers": {
            e["labeler"]: {"judgments": e["judgments"], "raised": e["raised"],
                           "alarms": {k: {"status": a["status"], "statistic": a["statistic"], "p_adjusted": a["p_adjusted"]}
                                      for k, a in e["alarms"].items()}}
            for e in alarms["labelers"]}},
    }


# --- reviews ---------------------------------------------------------------------------------


def review_queue(*, campaign: Campaign, source: str, include_reviewed: bool = False, limit: int = 50) -> dict:
    """The first ``limit`` judgments of a review source (``review_queue.SOURCES``), not yet
    reviewed unless ``include_reviewed``, each with its task, its completions in the order the
    labeler saw them and its current review; ``remaining``: how many the source has unreviewed.
    Four queries whatever the limit."""
    judgments = review_sources.SOURCES[source].judgments(campaign)
    unreviewed = judgments.filter(~Exists(Review.objects.filter(judgment=OuterRef("pk"))))
    listed = list((judgments if include_reviewed else unreviewed)
                  .select_related("labeler", "task__prompt")
                  .prefetch_related(Prefetch("reviews", to_attr="current_reviews",
                                             queryset=Review.objects.filter(superseded_by__isnull=True)
                                             .select_related("reviewer")))[:limit])
    ids = {c for j in listed for c in j.display_order}
    texts = dict(Completion.objects.filter(pk__in=ids).values_list("pk", "text"))
    return {"source": source, "remaining": unreviewed.count(), "judgments": [_review_item(j, texts) for j in listed]}


def _review_item(j: Judgment, texts: dict[int, str]) -> dict:
    place = {c: (rank, len(group) > 1) for rank, group in enumerate(j.ranking or [], start=1) for c in group}
    current = j.current_reviews[0] if j.current_reviews else None
    return {
        "judgment": j.pk, "task": j.task_id, "kind": j.task.kind, "labeler": j.labeler.username if j.labeler else None,
        "created_at": j.created_at.isoformat(), "prompt": j.task.prompt.display_text,
        "completions": [{"id": c, "text": texts.get(c, ""), "rank": place.get(c, (None,))[0],
                         "tied": place.get(c, (None, False))[1], "flags": (j.flags or {}).get(str(c)) or [],
                         "ratings": (j.ratings or {}).get(str(c))} for c in j.display_order],
        "ranking": j.ranking, "preferred": j.preferred_id, "strength": j.strength, "rationale": j.rationale,
        "better_answer": j.better_answer, "time_spent_ms": j.time_spent_ms,
        "review": review_payload(current) if current else None,
    }


def review_payload(review: Review) -> dict:
    return {"id": review.pk, "judgment": review.judgment_id, "verdict": review.verdict, "note": review.note,
            "source": review.source, "reviewer": review.reviewer.username, "supersedes": review.supersedes_id,
            "created_at": review.created_at.isoformat()}


def review_list(*, campaign: Campaign, judgment_id: int | None = None):
    """The campaign's reviews (or one judgment's: its history), newest first; ``current`` marks
    the ones nothing supersedes."""
    reviews = Review.objects.filter(campaign=campaign).select_related("reviewer").annotate(
        current=~Exists(Review.objects.filter(supersedes=OuterRef("pk"))))
    if judgment_id is not None:
        reviews = reviews.filter(judgment_id=judgment_id)
    return reviews.order_by("-id")


# --- disagreement ------------------------------------------------------------------------------


def _data_answers(campaign: Campaign) -> list[agreement_lib.Answer]:
    return _answers(counted_judgments(Judgment.objects.filter(campaign=campaign)).filter(task__is_gold=False))


def _task_rows(task_ids) -> dict[int, dict]:
    tasks = Task.objects.filter(pk__in=task_ids).select_related("prompt")
    return {t.pk: {"prompt": t.prompt.display_text, "overlap": t.overlap, "judgment_count": t.judgment_count,
                   "lease_count": t.lease_count, "priority": t.priority} for t in tasks}


def disagreement_tasks(*, campaign: Campaign, threshold: float = disagreement_lib.DEFAULT_THRESHOLD,
                       min_labelers: int = disagreement_lib.DEFAULT_MIN_LABELERS, limit: int = 100) -> dict:
    """Data tasks whose labelers agree on less than ``threshold`` of their comparisons, least
    agreement first (the first ``limit``), with their prompt and overlap (read fresh). The list
    is cached under the campaign's judgment state, as the quality figures are."""
    listed = _cached(campaign, ("disagreement", threshold, min_labelers), lambda: disagreement_lib.disagreeing_tasks(
        _data_answers(campaign), threshold=threshold, min_labelers=min_labelers))
    shown = listed[:limit]
    rows = _task_rows([t["task"] for t in shown])
    return {"threshold": threshold, "min_labelers": min_labelers, "count": len(listed),
            "tasks": [t | rows.get(t["task"], {}) for t in shown]}


def scorers(*, campaign: Campaign) -> list[dict]:
    """The scorers (reward models) that scored completions of the campaign, latest first."""
    rows = (CompletionScore.objects.filter(completion__prompt__campaign=campaign).values("scorer")
            .annotate(completions=Count("id"), latest=Max("created_at")).order_by("-latest", "scorer"))
    return [{"scorer": r["scorer"], "completions": r["completions"], "latest": r["latest"].isoformat()} for r in rows]


def reward_candidates(*, campaign: Campaign, scorer: str | None = None,
                      min_votes: int = disagreement_lib.DEFAULT_MIN_VOTES, margin: float = 0.0, limit: int = 100) -> dict:
    """Completion pairs the scorer (by default the latest) ranks one way and the human majority
    the other (``disagreement.reward_disagreements``): reward-hacking candidates, largest score
    gap first (the first ``limit``), with texts and policies. The list is cached under the
    campaign's judgment state and the state of the scorer's scores (count, largest id, sum and
    newest time: a score added or replaced changes it)."""
    known = scorers(campaign=campaign)
    if scorer is None and known:
        scorer = known[0]["scorer"]
    out = {"scorer": scorer, "scorers": known, "min_votes": min_votes, "margin": margin, "count": 0, "pairs": []}
    if scorer is None or scorer not in {s["scorer"] for s in known}:
        return out
    scored = CompletionScore.objects.filter(scorer=scorer, completion__prompt__campaign=campaign)
    scores_state = tuple(scored.aggregate(n=Count("id"), top=Max("id"), total=Sum("score"), latest=Max("created_at")).values())
    listed = _cached(campaign, ("reward", scorer, scores_state, min_votes, margin), lambda: disagreement_lib.reward_disagreements(
        _data_answers(campaign), dict(scored.values_list("completion_id", "score")), min_votes=min_votes, margin=margin))
    shown = listed[:limit]
    ids = {p[k] for p in shown for k in ("favourite", "preferred_by_humans")}
    completions = {c.pk: {"id": c.pk, "text": c.text, "policy": c.policy.name}
                   for c in Completion.objects.filter(pk__in=ids).select_related("policy")}
    rows = _task_rows({p["task"] for p in shown})
    out["count"] = len(listed)
    out["pairs"] = [p | {"favourite": completions[p["favourite"]], "preferred_by_humans": completions[p["preferred_by_humans"]],
                         "prompt": rows[p["task"]]["prompt"], "overlap": rows[p["task"]]["overlap"]} for p in shown]
    return out
