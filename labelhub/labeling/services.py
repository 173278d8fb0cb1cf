"""The labeler loop: make tasks, lease the next one, submit or skip. Each is one transaction.

Lock order, everywhere: assignment rows before task rows (no deadlocks between the expiry
sweep, submissions and skips); the next-task query locks its task (at most one candidate per
campaign) with SKIP LOCKED and only then inserts the lease, so labelers never wait on each other.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from labelhub.campaigns.models import Campaign, Completion, Role
from labelhub.labeling import events
from labelhub.labeling.models import Assignment, Judgment, Task, TaskCompletion
from labelhub.labeling.validation import JudgmentInvalid, validate_judgment

#: The task on screen plus one prefetched.
MAX_LIVE_LEASES = 2
MAX_PAIRS_PER_PROMPT = 6


class LabelingConflict(Exception):
    """The request cannot be applied to the current state (HTTP 409)."""


class NotFound(Exception):
    """No such assignment for this labeler (HTTP 404)."""


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.LABELHUB_LEASE_SECONDS)


# --- making tasks ---------------------------------------------------------------------------


@transaction.atomic
def tasks_create(
    *, campaign: Campaign, policy_ids: list[int] | None = None, split: str | None = None,
    priority: int = 0, seed: int = 0,
) -> int:
    """Make tasks from a campaign's prompts and completions; return how many are new.

    Rank and rating tasks take K completions per prompt (drawn with ``seed`` when there are
    more); pairwise tasks take pairs of completions, preferring pairs from different policies.
    A completion set that already is a task is not made again.
    """
    completions = Completion.objects.filter(prompt__campaign=campaign).order_by("prompt_id", "id")
    if policy_ids:
        completions = completions.filter(policy_id__in=policy_ids)
    if split:
        completions = completions.filter(prompt__split=split)
    sets = []
    for prompt_id, group in itertools.groupby(completions.values_list("prompt_id", "id", "policy_id"), key=lambda r: r[0]):
        rows = [(cid, pid) for _, cid, pid in group]
        rng = random.Random(f"{seed}:{prompt_id}")
        sets += [(prompt_id, ids) for ids in _completion_sets(campaign, rows, rng)]
    return _write_tasks(campaign, sets, priority)


def _completion_sets(campaign: Campaign, rows: list[tuple[int, int]], rng: random.Random):
    k = campaign.completions_per_task
    if campaign.task_kind == Campaign.TaskKind.PAIRWISE:
        pairs = [(a, b) for (a, pa), (b, pb) in itertools.combinations(rows, 2) if pa != pb]
        pairs = pairs or [(a, b) for (a, _), (b, _) in itertools.combinations(rows, 2)]
        rng.shuffle(pairs)
        return [list(pair) for pair in pairs[:MAX_PAIRS_PER_PROMPT]]
    if len(rows) < k:
        return []
    return [sorted(cid for cid, _ in rng.sample(rows, k))]


@transaction.atomic
def version_tasks_create(
    *, campaign: Campaign, policy, against: list, split: str = "held_out", priority: int = 10, seed: int = 0,
) -> int:
    """Tasks that pit a new policy version against earlier ones on the campaign's prompts.

    Rank tasks show the new version's completion with up to K−1 from the others (one per
    policy); pairwise tasks pair it with each of them. Labelers see no policy names, and the
    order is shuffled per labeler. Mixed into the queue at ``priority``.
    """
    k = campaign.completions_per_task
    rows = Completion.objects.filter(
        prompt__campaign=campaign, prompt__split=split, policy__in=[policy, *against]
    ).order_by("prompt_id", "id").values_list("prompt_id", "id", "policy_id")
    sets = []
    for prompt_id, group in itertools.groupby(rows, key=lambda r: r[0]):
        first_by_policy: dict[int, int] = {}
        for _, cid, pid in group:
            first_by_policy.setdefault(pid, cid)
        mine = first_by_policy.pop(policy.pk, None)
        if mine is None or not first_by_policy:
            continue
        others = list(first_by_policy.values())
        random.Random(f"{seed}:{prompt_id}").shuffle(others)
        if campaign.task_kind == Campaign.TaskKind.PAIRWISE:
            sets += [(prompt_id, sorted([mine, other])) for other in others]
        else:
            sets.append((prompt_id, sorted([mine, *others[: k - 1]])))
    return _write_tasks(campaign, sets, priority)


def _write_tasks(campaign: Campaign, sets, priority: int) -> int:
    keyed = {_completion_key(ids): (prompt_id, ids) for prompt_id, ids in sets}
    existing = set(Task.objects.filter(campaign=campaign, completion_key__in=keyed).values_list("completion_key", flat=True))
    new = {key: value for key, value in keyed.items() if key not in existing}
    tasks = Task.objects.bulk_create(
        Task(campaign=campaign, prompt_id=prompt_id, kind=campaign.task_kind, completion_key=key,
             priority=priority, overlap=campaign.overlap)
        for key, (prompt_id, _) in new.items()
    )
    TaskCompletion.objects.bulk_create(
        TaskCompletion(task=task, completion_id=cid, position=position)
        for task, (_, ids) in zip(tasks, new.values(), strict=True)
        for position, cid in enumerate(ids)
    )
    return len(tasks)


def _completion_key(ids) -> str:
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()


# --- the queue ------------------------------------------------------------------------------

_NEXT_TASK_LOCK = 7301  # advisory-lock namespace for per-labeler next-task calls

_EXPIRE_SQL = """
WITH expired AS (
    UPDATE labeling_assignment SET state = 'expired', closed_at = %(now)s
    WHERE state = 'leased' AND expires_at <= %(now)s
    RETURNING task_id
)
UPDATE labeling_task t SET lease_count = t.lease_count - e.n
FROM (SELECT task_id, count(*) AS n FROM expired GROUP BY task_id) e
WHERE t.id = e.task_id
"""

# One index scan per campaign of the labeler's (``task_open_by_priority``, in queue order),
# each stopping at its first open task this labeler has not had; the best of those wins. A
# plain ``campaign_id IN (…) ORDER BY priority`` cannot use that index's order when the
# campaign is not given, and sorted every open task of the labeler's campaigns per request.
# With several campaigns each one's candidate stays locked until the lease commits (others
# skip it meanwhile); the CTE keeps the scans to the labeler's active campaigns.
_NEXT_TASK_SQL = """
WITH mine AS MATERIALIZED (
    SELECT m.campaign_id FROM campaigns_membership m
    JOIN campaigns_campaign c ON c.id = m.campaign_id
    WHERE m.user_id = %(user)s AND m.role = %(role)s AND c.status = %(active)s
      AND (%(campaign)s::bigint IS NULL OR c.id = %(campaign)s::bigint)
)
SELECT pick.id,
       (SELECT array_agg(tc.completion_id ORDER BY tc.position)
          FROM labeling_taskcompletion tc WHERE tc.task_id = pick.id)
FROM mine CROSS JOIN LATERAL (
    SELECT t.id, t.priority FROM labeling_task t
    WHERE t.campaign_id = mine.campaign_id
      AND t.judgment_count < (t.overlap - t.lease_count)
      AND NOT EXISTS (SELECT 1 FROM labeling_assignment a WHERE a.task_id = t.id AND a.labeler_id = %(user)s)
    ORDER BY t.priority DESC, t.id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
) pick
ORDER BY pick.priority DESC, pick.id
LIMIT 1
"""


def leases_expire(*, now=None) -> None:
    """Return expired leases to the pool (their tasks' slots open again)."""
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRE_SQL, {"now": now or timezone.now()})


@transaction.atomic
def next_task(*, labeler, campaign: Campaign | None = None, holding: int | None = None) -> Assignment | None:
    """Lease the next task for a labeler, or return the live lease they already hold.

    ``holding`` is the task on the labeler's screen: then another lease is returned (the
    prefetched next task). ``None`` when nothing is left for this labeler.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        # one labeler's requests (two tabs, a prefetch racing a submit) go one at a time,
        # so the live-lease check below sees the other request's lease
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NEXT_TASK_LOCK, labeler.pk])
    leases_expire(now=now)
    live = Assignment.objects.filter(
        labeler=labeler, state=Assignment.State.LEASED, expires_at__gt=now,
        task__campaign__status=Campaign.Status.ACTIVE,
    )
    if campaign is not None:
        live = live.filter(task__campaign=campaign)
    held = live.exclude(task_id=holding).order_by("leased_at", "id").first()
    if held is not None:
        return held
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_TASK_SQL, {
            "user": labeler.pk, "role": Role.LABELER, "active": Campaign.Status.ACTIVE,
            "campaign": campaign.pk if campaign else None,
        })
        row = cursor.fetchone()
    if row is None:
        return None
    task_id, order = row
    random.Random(f"{task_id}:{labeler.pk}").shuffle(order)  # per labeler, repeatable
    assignment = Assignment.objects.create(
        task_id=task_id, labeler=labeler, leased_at=now, expires_at=now + lease_duration(), display_order=order,
    )
    Task.objects.filter(pk=task_id).update(lease_count=F("lease_count") + 1)
    return assignment


# --- answers --------------------------------------------------------------------------------


def judgment_submit(*, labeler, assignment_id: int, data: dict) -> tuple[Judgment, bool]:
    """Record a judgment; return ``(judgment, created)``.

    Idempotent by ``data["idempotency_key"]``: a retry (even a concurrent one) returns the
    first judgment. A second answer to the same task must name the judgment it corrects
    (``corrects``); corrections are new rows and do not count twice.
    """
    key = data.get("idempotency_key")
    if not isinstance(key, str) or not 8 <= len(key) <= 64:
        raise JudgmentInvalid({"idempotency_key": "required: a client-generated string of 8–64 characters"})
    try:
        return _submit(labeler=labeler, assignment_id=assignment_id, key=key, data=data)
    except IntegrityError:  # a concurrent retry with the same key committed first
        existing = Judgment.objects.filter(labeler=labeler, idempotency_key=key).first()
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def _submit(*, labeler, assignment_id, key, data):
    assignment = Assignment.objects.select_for_update().filter(pk=assignment_id, labeler=labeler).first()
    if assignment is None:
        raise NotFound("No such assignment for you.")
    existing = Judgment.objects.filter(labeler=labeler, idempotency_key=key).first()
    if existing is not None:
        if existing.assignment_id != assignment.pk:
            raise LabelingConflict("This idempotency key was already used for another task.")
        return existing, False
    task = Task.objects.select_for_update().select_related("campaign").get(pk=assignment.task_id)
    supersedes = _correction_target(assignment, data.get("corrects"))
    cleaned = validate_judgment(
        campaign=task.campaign, kind=task.kind, completion_ids=assignment.display_order, data=data
    )
    if supersedes is None:
        _close_lease_for_judgment(assignment, task)
    judgment = Judgment.objects.create(
        task=task, assignment=assignment, campaign_id=task.campaign_id, labeler=labeler,
        display_order=assignment.display_order, guideline_version=task.campaign.guidelines_version,
        idempotency_key=key, supersedes=supersedes, **cleaned,
    )
    if supersedes is None:
        events.progress_changed_on_commit(campaign_id=task.campaign_id)
    return judgment, True


def _correction_target(assignment: Assignment, corrects) -> Judgment | None:
    if assignment.state != Assignment.State.SUBMITTED:
        if corrects is not None:
            raise LabelingConflict("Nothing to correct yet: submit a first judgment.")
        return None
    if corrects is None:
        raise LabelingConflict("This task is already judged; to change the answer send 'corrects': <judgment id>.")
    target = assignment.judgments.filter(pk=corrects).first() if isinstance(corrects, int) else None
    if target is None:
        raise LabelingConflict("'corrects' must be the id of your judgment on this task.")
    return target


def _close_lease_for_judgment(assignment: Assignment, task: Task) -> None:
    now = timezone.now()
    if assignment.state == Assignment.State.LEASED:
        task.lease_count -= 1
    elif task.judgment_count + task.lease_count >= task.overlap:
        raise LabelingConflict("Your lease expired and the task went to another labeler.")
    task.judgment_count += 1
    task.save(update_fields=["lease_count", "judgment_count"])
    assignment.state, assignment.closed_at = Assignment.State.SUBMITTED, now
    assignment.save(update_fields=["state", "closed_at"])


@transaction.atomic
def assignment_skip(*, labeler, assignment_id: int, reason: str) -> Assignment:
    """Give a task back with a reason; this labeler will not be offered it again."""
    reason = (reason or "").strip()
    if not reason:
        raise JudgmentInvalid({"reason": "required: say why you skip (e.g. 'needs expertise')"})
    assignment = Assignment.objects.select_for_update().filter(pk=assignment_id, labeler=labeler).first()
    if assignment is None:
        raise NotFound("No such assignment for you.")
    if assignment.state == Assignment.State.SUBMITTED:
        raise LabelingConflict("This task is already judged.")
    if assignment.state == Assignment.State.LEASED:
        Task.objects.filter(pk=assignment.task_id).update(lease_count=F("lease_count") - 1)
    assignment.state, assignment.closed_at = Assignment.State.SKIPPED, timezone.now()
    assignment.skip_reason = reason[:500]
    assignment.save(update_fields=["state", "closed_at", "skip_reason"])
    return assignment


@transaction.atomic
def task_update(*, task: Task, **fields) -> Task:
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=list(fields))
    return task
