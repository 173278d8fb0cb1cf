"""Reads for labeling, scoped to the user asking."""

from __future__ import annotations

import json

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from labelhub.campaigns.models import Campaign, Membership, Role
from labelhub.core.db import prepared_cursor
from labelhub.labeling import gold
from labelhub.labeling.models import (
    Assignment,
    GoldScore,
    Judgment,
    PauseEvent,
    QualificationAttempt,
    Task,
)


def campaign_progress(*, campaign_id: int) -> dict:
    """Where the campaign's labeling stands, in one query.

    A task is *done* when it has as many judgments as its overlap (that many labelers judge
    it), *started* when it has some but not all, *open* when it has none; ``in_progress`` is
    the leases labelers hold now, ``judgments_needed`` the judgments all tasks need in all.
    Gold tasks are not data and are not counted."""
    row = Task.objects.filter(campaign_id=campaign_id, is_gold=False).aggregate(
        tasks_total=Count("id"),
        tasks_done=Count("id", filter=Q(judgment_count__gte=F("overlap"))),
        tasks_started=Count("id", filter=Q(judgment_count__gt=0, judgment_count__lt=F("overlap"))),
        judgments=Coalesce(Sum("judgment_count"), 0),
        judgments_needed=Coalesce(Sum("overlap"), 0),
        in_progress=Coalesce(Sum("lease_count"), 0),
    )
    row["tasks_open"] = row["tasks_total"] - row["tasks_done"] - row["tasks_started"]
    return {"campaign_id": campaign_id, **row}


_LEASE_DISPLAY_SQL = """
SELECT t.kind, p.id, p.text, p.messages,
       c.slug, c.name, c.task_kind, c.rating_axes, c.flag_vocabulary, c.guidelines, c.guidelines_version,
       (SELECT json_object_agg(co.id, co.text)
          FROM labeling_taskcompletion tc JOIN campaigns_completion co ON co.id = tc.completion_id
         WHERE tc.task_id = t.id),
       (SELECT json_agg(json_build_object('completion', cp.completion_id, 'id', ps.id, 'document', ps.document,
                                          'text', ps.text) ORDER BY cp.completion_id, cp.rank)
          FROM labeling_taskcompletion tc JOIN campaigns_completionpassage cp ON cp.completion_id = tc.completion_id
          JOIN campaigns_passage ps ON ps.id = cp.passage_id
         WHERE tc.task_id = t.id)
FROM labeling_task t
JOIN campaigns_prompt p ON p.id = t.prompt_id
JOIN campaigns_campaign c ON c.id = t.campaign_id
WHERE t.id = %s
"""


def lease_for_display(*, assignment: Assignment) -> dict:
    """Everything the labeling page needs for one lease, completions in display order (one query)."""
    return _task_display(assignment.task_id, assignment.display_order, assignment=assignment.pk,
                         expires_at=assignment.expires_at)


def task_for_display(*, task: Task) -> dict:
    """A task as the labeling page shows it (the gold-answer editor uses the same widgets), its
    completions in the task's own order."""
    order = [tc.completion_id for tc in task.task_completions.all()]
    return _task_display(task.pk, order, assignment=None, expires_at=None)


def _task_display(task_id: int, order: list[int], *, assignment, expires_at) -> dict:
    # hand-written: 1.6× the ORM's throughput (docs/benchmarks.md, "Framework internals against the standard paths")
    with prepared_cursor() as cursor:
        cursor.execute(_LEASE_DISPLAY_SQL, [task_id])
        (kind, prompt_id, prompt_text, messages, slug, name, task_kind, rating_axes, flag_vocabulary,
         guidelines, guidelines_version, texts, sources) = cursor.fetchone()
    passages: dict[int, list[dict]] = {}
    for row in (json.loads(sources) if isinstance(sources, str) else sources) or []:
        passages.setdefault(row.pop("completion"), []).append(row)
    return {
        "assignment": assignment,
        "expires_at": expires_at,
        "task": {"id": task_id, "kind": kind},
        "campaign": {
            "slug": slug, "name": name, "task_kind": task_kind, "rating_axes": json.loads(rating_axes),
            "flag_vocabulary": json.loads(flag_vocabulary), "guidelines": guidelines,
            "guidelines_version": guidelines_version,
        },
        "prompt": {"id": prompt_id, "text": prompt_text, "messages": None if messages is None else json.loads(messages)},
        "completions": [{"id": cid, "text": texts[str(cid)], "passages": passages.get(cid, [])} for cid in order],
    }


def assignment_with_judgment(*, user, assignment_id: int) -> tuple[Assignment, Judgment | None] | None:
    """One of the user's own leases and the judgment on it that counts (the latest correction),
    or None when the lease is not theirs or they are no longer a labeler in its campaign."""
    still_labeler = Membership.objects.filter(campaign_id=OuterRef("task__campaign_id"), user=user, role=Role.LABELER)
    assignment = Assignment.objects.filter(Exists(still_labeler), pk=assignment_id, labeler=user).first()
    if assignment is None:
        return None
    latest = Judgment.objects.filter(assignment=assignment, corrections__isnull=True).order_by("-id").first()
    return assignment, latest


def labeler_home(*, user) -> list[dict]:
    """The labeler's campaigns with tasks left for them and their own counts (today, overall)."""
    campaigns = list(
        Campaign.objects.filter(memberships__user=user, memberships__role=Role.LABELER).order_by("name").distinct()
    )
    if not campaigns:
        return []
    ids = [c.id for c in campaigns]
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    mine = dict(
        (row["campaign_id"], row)
        for row in Judgment.objects.filter(labeler=user, campaign_id__in=ids, supersedes__isnull=True)
        .values("campaign_id")
        .annotate(total=Count("id"), today=Count("id", filter=Q(created_at__gte=start_of_day)))
    )
    seen = Assignment.objects.filter(task=OuterRef("pk"), labeler=user)
    held = seen.filter(state=Assignment.State.LEASED, expires_at__gt=timezone.now())
    # Gold tasks left for the labeler count as tasks left while real ones remain (the queue
    # hands out gold only then): the count drops by one after every task, gold or not, so it
    # tells no gold task apart.
    left = {
        row["campaign_id"]: row
        for row in Task.objects.filter(campaign_id__in=ids)
        .filter(Q(is_gold=False, judgment_count__lt=F("overlap")) | Q(is_gold=True, is_qualification=False))
        .filter(~Exists(seen) | Exists(held))  # not seen yet, or on the labeler's screen now
        .values("campaign_id")
        .annotate(real=Count("id", filter=Q(is_gold=False)), gold=Count("id", filter=Q(is_gold=True)))
    }

    def tasks_left(c) -> int:
        row = left.get(c.id, {"real": 0, "gold": 0})
        return row["real"] + (row["gold"] if row["real"] and c.gold_rate > 0 else 0)

    return [
        {
            "campaign": c,
            "tasks_left": tasks_left(c) if c.status == Campaign.Status.ACTIVE else 0,
            "judged_today": mine.get(c.id, {}).get("today", 0),
            "judged_total": mine.get(c.id, {}).get("total", 0),
        }
        for c in campaigns
    ]


def judgment_list(*, campaign: Campaign, user, roles: set[str]):
    """Leads, reviewers and engineers see every judgment; a labeler only their own."""
    judgments = Judgment.objects.filter(campaign=campaign).select_related("labeler")
    if not roles & {Role.LEAD, Role.REVIEWER, Role.ENGINEER}:
        judgments = judgments.filter(labeler=user)
    return judgments.order_by("id")


def skip_list(*, campaign: Campaign):
    """Tasks labelers skipped, with their reasons, newest first (for leads, reviewers, engineers)."""
    return (
        Assignment.objects.filter(task__campaign=campaign, state=Assignment.State.SKIPPED)
        .select_related("labeler", "task__prompt")
        .order_by("-closed_at", "-id")
    )


def member_activity(*, campaign: Campaign) -> dict[int, dict]:
    """Per member (user id): their judgments in the campaign (corrections not counted) and
    their last activity there — their latest judgment or lease. Two grouped queries."""
    activity: dict[int, dict] = {}
    judged = (
        Judgment.objects.filter(campaign=campaign, labeler__isnull=False).values("labeler_id")
        .annotate(n=Count("id", filter=Q(supersedes__isnull=True)), last=Max("created_at"))
    )
    for row in judged:
        activity[row["labeler_id"]] = {"judgments": row["n"], "last_activity": row["last"]}
    leased = Assignment.objects.filter(task__campaign=campaign).values("labeler_id").annotate(last=Max("leased_at"))
    for row in leased:
        figures = activity.setdefault(row["labeler_id"], {"judgments": 0, "last_activity": None})
        if figures["last_activity"] is None or row["last"] > figures["last_activity"]:
            figures["last_activity"] = row["last"]
    return activity


def task_get(*, campaign: Campaign, pk: int) -> Task:
    task = Task.objects.filter(campaign=campaign, pk=pk).prefetch_related("task_completions").first()
    if task is None:
        raise Http404("No such task in this campaign.")
    return task


def task_list(*, campaign: Campaign):
    return Task.objects.filter(campaign=campaign).prefetch_related("task_completions").order_by("-priority", "id")


def labelers_left(*, task: Task) -> int:
    """How many labelers of the task's campaign have never been handed it (who could still judge it)."""
    handed = Assignment.objects.filter(task=task, labeler=OuterRef("user"))
    return (Membership.objects.filter(campaign_id=task.campaign_id, role=Role.LABELER)
            .filter(~Exists(handed)).values("user").distinct().count())


# --- gold accuracy, pauses and qualification (docs/quality.md, "Gold tasks") ------------------

#: Who sees each labeler's gold accuracy, the pause history and the live pause events: leads
#: (who act on them) and reviewers (who check labelers' work); not engineers or labelers.
ACCURACY_READERS = {Role.LEAD, Role.REVIEWER}


def latest_pause_events(*, campaign: Campaign, labeler_ids=None) -> dict[int, PauseEvent]:
    """Per labeler, their latest pause event in the campaign (one query)."""
    events = PauseEvent.objects.filter(campaign=campaign).select_related("by")
    if labeler_ids is not None:
        events = events.filter(labeler_id__in=labeler_ids)
    return {e.labeler_id: e for e in events.order_by("labeler_id", "-id").distinct("labeler_id")}


def paused_labeler_ids(*, campaign: Campaign) -> set[int]:
    return {uid for uid, e in latest_pause_events(campaign=campaign).items() if e.action == PauseEvent.Action.PAUSED}


def gold_accuracy(*, campaign: Campaign) -> list[dict]:
    """Each labeler of the campaign (and anyone who answered gold there) with their gold
    accuracy and its 95% Wilson interval, overall and since their last reinstatement (what
    the pause rule looks at), whether they are paused, and their qualification. Four queries."""
    labelers = {m.user_id: m.user.username for m in Membership.objects.filter(campaign=campaign, role=Role.LABELER)
                .select_related("user")}
    scores = (GoldScore.objects.filter(campaign=campaign, attempt__isnull=True)
              .values_list("labeler_id", "labeler__username", "correct", "created_at"))
    latest = latest_pause_events(campaign=campaign)
    attempts: dict[int, list[QualificationAttempt]] = {}
    for attempt in QualificationAttempt.objects.filter(campaign=campaign).order_by("labeler_id", "number"):
        attempts.setdefault(attempt.labeler_id, []).append(attempt)
    tallies: dict[int, list[int]] = {}
    for labeler_id, username, correct, created_at in scores:
        labelers.setdefault(labeler_id, username)
        tally = tallies.setdefault(labeler_id, [0, 0, 0, 0])
        tally[0] += 1
        tally[1] += correct
        event = latest.get(labeler_id)
        if event is None or created_at > event.created_at:
            tally[2] += 1
            tally[3] += correct
    rows = []
    for labeler_id, username in sorted(labelers.items(), key=lambda item: item[1]):
        n, right, n_since, right_since = tallies.get(labeler_id, [0, 0, 0, 0])
        event = latest.get(labeler_id)
        rows.append({
            "labeler": username, "labeler_id": labeler_id, **gold.accuracy_figures(right, n),
            "since_reinstated": gold.accuracy_figures(right_since, n_since),
            "paused": event is not None and event.action == PauseEvent.Action.PAUSED,
            "paused_at": event.created_at if event is not None and event.action == PauseEvent.Action.PAUSED else None,
            "pause_reason": event.reason if event is not None and event.action == PauseEvent.Action.PAUSED else "",
            "qualification": [_attempt_row(a) for a in attempts.get(labeler_id, [])],
        })
    return rows


def _attempt_row(attempt: QualificationAttempt) -> dict:
    return {"attempt": attempt.number, "size": attempt.size, "threshold": attempt.threshold,
            "answered": attempt.answered, "correct": attempt.correct, "passed": attempt.passed,
            "started_at": attempt.started_at, "finished_at": attempt.finished_at}


def pause_history(*, campaign: Campaign):
    """Every pause and reinstatement in the campaign, newest first."""
    return PauseEvent.objects.filter(campaign=campaign).select_related("labeler", "by").order_by("-id")


def queue_standing(*, user, campaign: Campaign | None = None) -> dict | None:
    """Why a labeler's queue gives them nothing although they are a labeler somewhere: paused,
    out of qualification attempts, or waiting for qualification tasks — ``{"code", "detail",
    "campaign"}`` for the first campaign (of ``campaign`` alone, when given) that stops them;
    None when nothing stops them (their queue is just empty). Off the hot path: asked only
    when the next-task query found nothing."""
    campaigns = Campaign.objects.filter(memberships__user=user, memberships__role=Role.LABELER,
                                        status=Campaign.Status.ACTIVE).order_by("name").distinct()
    if campaign is not None:
        campaigns = campaigns.filter(pk=campaign.pk)
    campaigns = list(campaigns)
    latest = {e.campaign_id: e for e in PauseEvent.objects.filter(labeler=user, campaign__in=campaigns)
              .order_by("campaign_id", "-id").distinct("campaign_id")}
    for c in campaigns:
        event = latest.get(c.pk)
        if event is not None and event.action == PauseEvent.Action.PAUSED:
            return {"code": "labeler_paused", "campaign": c.slug, "detail": (
                f"You are paused in {c.name} since {event.created_at:%Y-%m-%d %H:%M} UTC: {event.reason} "
                "A lead of the campaign can reinstate you; until then it gives you no tasks.")}
    for c in campaigns:
        if c.qualification_size and (stop := _qualification_stop(c, user)):
            return {"campaign": c.slug, **stop}
    return None


def _qualification_stop(campaign: Campaign, user) -> dict | None:
    attempts = list(QualificationAttempt.objects.filter(campaign=campaign, labeler=user).order_by("number"))
    if any(a.passed for a in attempts):
        return None
    failed = [a for a in attempts if a.passed is False]
    if len(failed) >= campaign.qualification_max_attempts:
        last = failed[-1]
        return {"code": "qualification_failed", "detail": (
            f"You did not pass the qualification of {campaign.name}: {last.correct} of {last.size} right, "
            f"{last.threshold:.0%} needed ({len(failed)} of {campaign.qualification_max_attempts} attempts used). "
            "It gives you no tasks; ask a lead of the campaign.")}
    return {"code": "qualification_waiting", "detail": (
        f"{campaign.name} asks you to pass a qualification first, and it has no qualification task left for you. "
        "Ask a lead of the campaign to add qualification tasks.")}


def qualification_progress(*, user, task_id: int) -> dict:
    """For the labeling page, while a labeler is qualifying: which attempt, how many answered."""
    campaign = Campaign.objects.get(tasks__id=task_id)
    open_attempt = QualificationAttempt.objects.filter(campaign=campaign, labeler=user, passed__isnull=True).first()
    failed = QualificationAttempt.objects.filter(campaign=campaign, labeler=user, passed=False).count()
    return {"attempt": open_attempt.number if open_attempt else failed + 1, "answered": open_attempt.answered if open_attempt else 0,
            "size": campaign.qualification_size, "threshold": campaign.qualification_threshold,
            "max_attempts": campaign.qualification_max_attempts}


def labeler_get(*, campaign: Campaign, user_id: int | None):
    """A labeler of the campaign, or someone with a pause history there (404 otherwise)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id or 0).filter(
        Q(memberships__campaign=campaign, memberships__role=Role.LABELER) | Q(pause_events__campaign=campaign)
    ).distinct().first()
    if user is None:
        raise Http404("No such labeler in this campaign.")
    return user
