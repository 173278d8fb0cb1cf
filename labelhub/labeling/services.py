"""The labeler loop: make tasks, lease the next one, submit or skip. Each is one transaction.

Lock order, everywhere: assignment rows before task rows (no deadlocks between the expiry
sweep, submissions and skips); the next-task query locks its task (at most one candidate per
campaign) with SKIP LOCKED and only then inserts the lease, so labelers never wait on each other.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from labelhub.campaigns.models import Campaign, Completion, Role
from labelhub.core.db import prepared_cursor
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
      AND (%(campaign)s::text IS NULL OR c.slug = %(campaign)s::text)
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


_HELD_SQL = """
SELECT a.id, a.task_id, a.leased_at, a.expires_at, a.display_order
FROM labeling_assignment a
JOIN labeling_task t ON t.id = a.task_id
JOIN campaigns_campaign c ON c.id = t.campaign_id
WHERE a.labeler_id = %(user)s AND a.state = 'leased' AND a.expires_at > %(now)s AND c.status = %(active)s
  AND (%(campaign)s::text IS NULL OR c.slug = %(campaign)s::text)
  AND (%(holding)s::bigint IS NULL OR a.task_id <> %(holding)s::bigint)
ORDER BY a.leased_at, a.id
LIMIT 1
"""

_LEASE_SQL = """
WITH lease AS (
    INSERT INTO labeling_assignment (task_id, labeler_id, state, leased_at, expires_at, display_order, skip_reason)
    VALUES (%(task)s, %(user)s, 'leased', %(now)s, %(expires)s, %(order)s, '')
    RETURNING id
), counted AS (
    UPDATE labeling_task SET lease_count = lease_count + 1 WHERE id = %(task)s
)
SELECT id FROM lease
"""


def leases_expire(*, now=None) -> None:
    """Return expired leases to the pool (their tasks' slots open again)."""
    with prepared_cursor() as cursor:
        cursor.execute(_EXPIRE_SQL, {"now": now or timezone.now()})


@transaction.atomic
def next_task(*, labeler, campaign: Campaign | str | None = None, holding: int | None = None) -> Assignment | None:
    """Lease the next task for a labeler, or return the live lease they already hold.

    ``campaign`` (or its slug) limits the queue to one campaign. ``holding`` is the task on
    the labeler's screen: then another lease is returned (the prefetched next task).
    ``None`` when nothing is left for this labeler.

    The labeler's hot path, in raw prepared SQL (no model machinery): a per-labeler lock, the
    expiry sweep, the live-lease check; the pick; the lease with its count.
    """
    # hand-written: 1.6× the ORM's throughput (docs/benchmarks.md, "Framework internals against the standard paths")
    now = timezone.now()
    params = {
        "user": labeler.pk, "now": now, "active": Campaign.Status.ACTIVE, "role": Role.LABELER,
        "campaign": campaign.slug if isinstance(campaign, Campaign) else campaign, "holding": holding,
        "lock": _NEXT_TASK_LOCK,
    }
    with prepared_cursor() as cursor:
        # one labeler's requests (two tabs, a prefetch racing a submit) go one at a time,
        # so the live-lease check below sees the other request's lease
        cursor.execute("SELECT pg_advisory_xact_lock(%(lock)s, %(user)s)", params)
        leases_expire(now=now)
        cursor.execute(_HELD_SQL, params)
        held = cursor.fetchone()
        if held is not None:
            pk, task_id, leased_at, expires_at, order = held
            return _live_lease(pk, task_id, labeler, leased_at, expires_at, json.loads(order))
        cursor.execute(_NEXT_TASK_SQL, params)
        row = cursor.fetchone()
        if row is None:
            return None
        task_id, order = row
        random.Random(f"{task_id}:{labeler.pk}").shuffle(order)  # per labeler, repeatable
        expires_at = now + lease_duration()
        cursor.execute(_LEASE_SQL, {**params, "task": task_id, "expires": expires_at, "order": json.dumps(order)})
        (pk,) = cursor.fetchone()
    return _live_lease(pk, task_id, labeler, now, expires_at, order)


def _live_lease(pk, task_id, labeler, leased_at, expires_at, order) -> Assignment:
    """The Assignment of a row just read or written, as the ORM would load it (no query)."""
    assignment = Assignment.from_db(connection.alias, _ASSIGNMENT_FIELDS, [
        pk, task_id, labeler.pk, Assignment.State.LEASED, leased_at, expires_at, None, order, "",
    ])
    assignment.labeler = labeler
    return assignment


_ASSIGNMENT_FIELDS = ["id", "task_id", "labeler_id", "state", "leased_at", "expires_at", "closed_at", "display_order", "skip_reason"]


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
    except IntegrityError:  # the key is taken: a concurrent retry committed first, or another task's
        existing = Judgment.objects.filter(labeler=labeler, idempotency_key=key).first()
        if existing is None:
            raise
        if existing.assignment_id != assignment_id:
            raise LabelingConflict(KEY_REUSED) from None
        return existing, False


KEY_REUSED = "This idempotency key was already used for another task."

# The lease and its task, locked in that order (the lock order of this module), with what
# validating the answer needs from the campaign.
_SUBMIT_LOCK_SQL = """
SELECT a.state, a.display_order, t.id, t.kind, t.campaign_id, t.judgment_count, t.lease_count, t.overlap,
       c.rating_axes, c.flag_vocabulary, c.guidelines_version
FROM labeling_assignment a
JOIN labeling_task t ON t.id = a.task_id
JOIN campaigns_campaign c ON c.id = t.campaign_id
WHERE a.id = %(assignment)s AND a.labeler_id = %(user)s
FOR UPDATE OF a, t
"""

_SUBMIT_CLOSE_SQL = """
WITH closed AS (
    UPDATE labeling_assignment SET state = 'submitted', closed_at = %(now)s WHERE id = %(assignment)s
)
UPDATE labeling_task SET judgment_count = judgment_count + 1, lease_count = lease_count - %(was_leased)s
WHERE id = %(task)s
"""


@transaction.atomic
def _submit(*, labeler, assignment_id, key, data):
    # hand-written: 1.6× the ORM's throughput (docs/benchmarks.md, "Framework internals against the standard paths")
    with prepared_cursor() as cursor:
        cursor.execute(_SUBMIT_LOCK_SQL, {"assignment": assignment_id, "user": labeler.pk})
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such assignment for you.")
    (state, order, task_id, kind, campaign_id, judgment_count, lease_count, overlap,
     rating_axes, flag_vocabulary, guidelines_version) = row
    order = json.loads(order)
    supersedes = None
    if state == Assignment.State.SUBMITTED:
        # a retry of an answer already recorded, or a correction of it
        existing = Judgment.objects.filter(labeler=labeler, idempotency_key=key).first()
        if existing is not None:
            if existing.assignment_id != assignment_id:
                raise LabelingConflict(KEY_REUSED)
            return existing, False
        supersedes = _correction_target(assignment_id, data.get("corrects"))
    elif data.get("corrects") is not None:
        raise LabelingConflict("Nothing to correct yet: submit a first judgment.")
    rules = Campaign.from_db(connection.alias, ["id", "rating_axes", "flag_vocabulary"],
                             [campaign_id, json.loads(rating_axes), json.loads(flag_vocabulary)])
    cleaned = validate_judgment(campaign=rules, kind=kind, completion_ids=order, data=data)
    if supersedes is None:
        was_leased = state == Assignment.State.LEASED
        if not was_leased and judgment_count + lease_count >= overlap:
            raise LabelingConflict("Your lease expired and the task went to another labeler.")
        with prepared_cursor() as cursor:
            cursor.execute(_SUBMIT_CLOSE_SQL, {
                "now": timezone.now(), "assignment": assignment_id, "task": task_id, "was_leased": int(was_leased),
            })
    judgment = Judgment.objects.create(
        task_id=task_id, assignment_id=assignment_id, campaign_id=campaign_id, labeler=labeler,
        display_order=order, guideline_version=guidelines_version,
        idempotency_key=key, supersedes=supersedes, **cleaned,
    )
    if supersedes is None:
        events.progress_changed_on_commit(campaign_id=campaign_id)
    return judgment, True


def _correction_target(assignment_id: int, corrects) -> Judgment:
    if corrects is None:
        raise LabelingConflict("This task is already judged; to change the answer send 'corrects': <judgment id>.")
    target = (
        Judgment.objects.filter(assignment_id=assignment_id, pk=corrects).first() if isinstance(corrects, int) else None
    )
    if target is None:
        raise LabelingConflict("'corrects' must be the id of your judgment on this task.")
    return target


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
