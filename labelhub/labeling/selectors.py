"""Reads for labeling, scoped to the user asking."""

from __future__ import annotations

import json

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from labelhub.campaigns.models import Campaign, Membership, Role
from labelhub.core.db import prepared_cursor
from labelhub.labeling.models import Assignment, Judgment, Task


def campaign_progress(*, campaign_id: int) -> dict:
    """Where the campaign's labeling stands, in one query.

    A task is *done* when it has as many judgments as its overlap (that many labelers judge
    it), *started* when it has some but not all, *open* when it has none; ``in_progress`` is
    the leases labelers hold now, ``judgments_needed`` the judgments all tasks need in all."""
    row = Task.objects.filter(campaign_id=campaign_id).aggregate(
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
    left = dict(
        Task.objects.filter(campaign_id__in=ids, judgment_count__lt=F("overlap"))
        .filter(~Exists(seen) | Exists(held))  # not seen yet, or on the labeler's screen now
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    return [
        {
            "campaign": c,
            "tasks_left": left.get(c.id, 0) if c.status == Campaign.Status.ACTIVE else 0,
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
