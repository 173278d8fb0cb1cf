"""The labeler loop: make tasks, lease the next one, submit or skip. Each is one transaction.

Lock order, everywhere: assignment rows before task rows (no deadlocks between the expiry
sweep, submissions and skips); the next-task query locks its task (at most one candidate per
campaign) with SKIP LOCKED and only then inserts the lease, so labelers never wait on each other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from labelhub.campaigns import import_jobs
from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import (
    PRIORITY_MAX,
    PRIORITY_MIN,
    Campaign,
    Completion,
    Membership,
    Role,
)
from labelhub.core import webhooks
from labelhub.core.db import prepared_cursor
from labelhub.labeling import events, gold
from labelhub.labeling.models import (
    Assignment,
    GoldScore,
    Judgment,
    PauseEvent,
    QualificationAttempt,
    Task,
    TaskCompletion,
)
from labelhub.labeling.validation import JudgmentInvalid, validate_judgment

#: The task on screen plus one prefetched.
MAX_LIVE_LEASES = 2
MAX_PAIRS_PER_PROMPT = 6


class LabelingConflict(Exception):
    """The request cannot be applied to the current state (HTTP 409)."""


class NotFound(Exception):
    """No such assignment for this labeler (HTTP 404)."""


class NotALabeler(Exception):
    """The user is not (or no longer) a labeler in the task's campaign (HTTP 403)."""


def lease_duration(lease_seconds: int | None = None) -> timedelta:
    """A campaign's own lease time (``Campaign.lease_seconds``), else the server's default."""
    return timedelta(seconds=lease_seconds or settings.LABELHUB_LEASE_SECONDS)


# --- making tasks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TasksMade:
    """What "Make tasks" did, per reason, so a lead can see why a prompt got no task."""

    made: int = 0
    #: completion sets that already were a task (made earlier; not made twice)
    already_queued: int = 0
    #: prompts with some completions but fewer than a task shows (K; 2 for pairwise)
    too_few_completions: int = 0
    #: prompts (in the chosen split) with no completion from the chosen policies at all
    without_completions: int = 0
    #: how many completions a task shows
    needed: int = 0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def message(self) -> str:
        """One line for the lead: what was made, and each reason nothing was made, with its fix."""
        parts = [f"{self.made} new task{'s' if self.made != 1 else ''}."]
        if self.already_queued:
            parts.append(f"{self.already_queued} completion set{' was' if self.already_queued == 1 else 's were'} "
                         "already in the queue (not made twice).")
        if self.too_few_completions:
            parts.append(f"{self.too_few_completions} prompt{' has' if self.too_few_completions == 1 else 's have'} "
                         f"fewer than the {self.needed} completions a task shows: import or generate more "
                         "completions for them, or choose more policies.")
        if self.without_completions:
            parts.append(f"{self.without_completions} prompt{' has' if self.without_completions == 1 else 's have'} "
                         "no completions yet: import completions or run a generate run for a policy.")
        return " ".join(parts)


@transaction.atomic
def tasks_create(
    *, campaign: Campaign, policy_ids: list[int] | None = None, split: str | None = None,
    priority: int = 0, seed: int = 0,
) -> TasksMade:
    """Make tasks from a campaign's prompts and completions; say how many are new and why the
    others were not made.

    Rank and rating tasks take K completions per prompt (drawn with ``seed`` when there are
    more); pairwise tasks take pairs of completions, preferring pairs from different policies.
    A completion set that already is a task is not made again.
    """
    completions = Completion.objects.filter(prompt__campaign=campaign).order_by("prompt_id", "id")
    prompts = campaign.prompts.all()
    if policy_ids:
        completions = completions.filter(policy_id__in=policy_ids)
    if split:
        completions = completions.filter(prompt__split=split)
        prompts = prompts.filter(split=split)
    sets, too_few, with_completions = [], 0, 0
    for prompt_id, group in itertools.groupby(completions.values_list("prompt_id", "id", "policy_id"), key=lambda r: r[0]):
        rows = [(cid, pid) for _, cid, pid in group]
        rng = random.Random(f"{seed}:{prompt_id}")
        made = _completion_sets(campaign, rows, rng)
        with_completions += 1
        too_few += not made
        sets += [(prompt_id, ids) for ids in made]
    made = _write_tasks(campaign, sets, priority)
    return TasksMade(
        made=made, already_queued=len({_completion_key(ids) for _, ids in sets}) - made,
        too_few_completions=too_few, without_completions=prompts.count() - with_completions,
        needed=2 if campaign.task_kind == Campaign.TaskKind.PAIRWISE else campaign.completions_per_task,
    )


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

#: Draws whether a request's pick may be a gold task (under the campaign's gold rate). Tests
#: seed it (``GOLD_DRAW.seed(…)``) to check the rate with a fixed seed.
GOLD_DRAW = random.Random()

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
# each stopping at its first open task this labeler has not had; of those candidates the
# oldest task wins. Priority orders tasks within their own campaign only: across campaigns the
# queue is first come, first served, so no campaign's priority can push another campaign's work
# aside. A plain ``campaign_id IN (…) ORDER BY priority`` cannot use that index's order when
# the campaign is not given, and sorted every open task of the labeler's campaigns per request.
# With several campaigns each one's candidate stays locked until the lease commits (others
# skip it meanwhile); the CTE keeps the scans to the labeler's active campaigns.
#
# Gold (docs/quality.md, "Gold tasks"), in the same one query: a campaign where the labeler is
# paused (their latest ``PauseEvent``) is left out. A labeler who has yet to pass the campaign's
# qualification gets only qualification tasks (``qualify``), while an attempt is open to them.
# Otherwise, when the campaign has a real task for them and ``draw`` (uniform in [0, 1), drawn
# per request) is under the campaign's gold rate, a gold task they have not had replaces it
# (``task_gold_by_priority``; gold tasks take no overlap: every labeler may get each). Gold
# is never handed out once the real tasks are gone, so it is never the last task in a queue.
_NEXT_TASK_SQL = """
WITH mine AS MATERIALIZED (
    SELECT m.campaign_id, c.lease_seconds, c.gold_rate,
           (c.qualification_size > 0 AND NOT EXISTS (
               SELECT 1 FROM labeling_qualificationattempt q
               WHERE q.campaign_id = c.id AND q.labeler_id = %(user)s AND q.passed)) AS qualifying,
           c.qualification_size, c.qualification_max_attempts
    FROM campaigns_membership m
    JOIN campaigns_campaign c ON c.id = m.campaign_id
    WHERE m.user_id = %(user)s AND m.role = %(role)s AND c.status = %(active)s
      AND (%(campaign)s::text IS NULL OR c.slug = %(campaign)s::text)
      AND COALESCE((SELECT e.action FROM labeling_pauseevent e
                    WHERE e.campaign_id = c.id AND e.labeler_id = %(user)s
                    ORDER BY e.id DESC LIMIT 1), '') <> 'paused'
), open AS MATERIALIZED (
    SELECT mine.*,
           mine.qualifying AND failed.n < mine.qualification_max_attempts
           AND taken.n < (failed.n + 1) * mine.qualification_size AS qualify
    FROM mine
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM labeling_qualificationattempt q
        WHERE mine.qualifying AND q.campaign_id = mine.campaign_id AND q.labeler_id = %(user)s AND q.passed = false
    ) failed ON true
    LEFT JOIN LATERAL (
        SELECT count(*) AS n FROM labeling_assignment a JOIN labeling_task t ON t.id = a.task_id
        WHERE mine.qualifying AND a.labeler_id = %(user)s AND a.state IN ('leased', 'submitted')
          AND t.campaign_id = mine.campaign_id AND t.is_gold AND t.is_qualification
    ) taken ON true
), picks AS (
    SELECT q.id IS NOT NULL AS qualification, COALESCE(q.id, g.id, r.id) AS id, open.lease_seconds
    FROM open
    LEFT JOIN LATERAL (
        SELECT t.id FROM labeling_task t
        WHERE open.qualify AND t.campaign_id = open.campaign_id AND t.is_gold AND t.is_qualification
          AND NOT EXISTS (SELECT 1 FROM labeling_assignment a WHERE a.task_id = t.id AND a.labeler_id = %(user)s)
        ORDER BY t.priority DESC, t.id
        LIMIT 1
        FOR UPDATE OF t SKIP LOCKED
    ) q ON true
    LEFT JOIN LATERAL (
        SELECT t.id FROM labeling_task t
        WHERE NOT open.qualifying AND t.campaign_id = open.campaign_id
          AND t.judgment_count < (t.overlap - t.lease_count) AND NOT t.is_gold
          AND NOT EXISTS (SELECT 1 FROM labeling_assignment a WHERE a.task_id = t.id AND a.labeler_id = %(user)s)
        ORDER BY t.priority DESC, t.id
        LIMIT 1
        FOR UPDATE OF t SKIP LOCKED
    ) r ON true
    LEFT JOIN LATERAL (
        SELECT t.id FROM labeling_task t
        WHERE r.id IS NOT NULL AND %(draw)s::float8 < open.gold_rate
          AND t.campaign_id = open.campaign_id AND t.is_gold AND NOT t.is_qualification
          AND NOT EXISTS (SELECT 1 FROM labeling_assignment a WHERE a.task_id = t.id AND a.labeler_id = %(user)s)
        ORDER BY t.priority DESC, t.id
        LIMIT 1
        FOR UPDATE OF t SKIP LOCKED
    ) g ON true
    WHERE COALESCE(q.id, r.id) IS NOT NULL
    ORDER BY COALESCE(q.id, r.id)
    LIMIT 1
)
SELECT picks.id,
       (SELECT array_agg(tc.completion_id ORDER BY tc.position)
          FROM labeling_taskcompletion tc WHERE tc.task_id = picks.id),
       picks.qualification, picks.lease_seconds
FROM picks
"""


_HELD_SQL = """
SELECT a.id, a.task_id, a.leased_at, a.expires_at, a.display_order, t.is_qualification
FROM labeling_assignment a
JOIN labeling_task t ON t.id = a.task_id
JOIN campaigns_campaign c ON c.id = t.campaign_id
WHERE a.labeler_id = %(user)s AND a.state = 'leased' AND a.expires_at > %(now)s AND c.status = %(active)s
  AND (%(campaign)s::text IS NULL OR c.slug = %(campaign)s::text)
  AND EXISTS (SELECT 1 FROM campaigns_membership m
              WHERE m.campaign_id = c.id AND m.user_id = %(user)s AND m.role = %(role)s)
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
            pk, task_id, leased_at, expires_at, order, qualification = held
            return _live_lease(pk, task_id, labeler, leased_at, expires_at, json.loads(order), qualification)
        cursor.execute(_NEXT_TASK_SQL, {**params, "draw": GOLD_DRAW.random()})
        row = cursor.fetchone()
        if row is None:
            return None
        task_id, order, qualification, lease_seconds = row
        random.Random(f"{task_id}:{labeler.pk}").shuffle(order)  # per labeler, repeatable
        expires_at = now + lease_duration(lease_seconds)
        cursor.execute(_LEASE_SQL, {**params, "task": task_id, "expires": expires_at, "order": json.dumps(order)})
        (pk,) = cursor.fetchone()
    return _live_lease(pk, task_id, labeler, now, expires_at, order, qualification)


def _live_lease(pk, task_id, labeler, leased_at, expires_at, order, qualification=False) -> Assignment:
    """The Assignment of a row just read or written, as the ORM would load it (no query);
    ``in_qualification``: the task is one of the campaign's qualification tasks."""
    assignment = Assignment.from_db(connection.alias, _ASSIGNMENT_FIELDS, [
        pk, task_id, labeler.pk, Assignment.State.LEASED, leased_at, expires_at, None, order, "",
    ])
    assignment.labeler = labeler
    assignment.in_qualification = qualification
    return assignment


_ASSIGNMENT_FIELDS = ["id", "task_id", "labeler_id", "state", "leased_at", "expires_at", "closed_at", "display_order", "skip_reason"]


# --- answers --------------------------------------------------------------------------------


def judgment_submit(*, labeler, assignment_id: int, data: dict) -> tuple[Judgment, bool]:
    """Record a judgment; return ``(judgment, created)``.

    Idempotent by ``data["idempotency_key"]``: a retry (even a concurrent one) returns the
    first judgment. A second answer to the same task must name the judgment it corrects
    (``corrects``: the latest one, so corrections form one chain whose end is the answer that
    counts); corrections are new rows, do not count twice, and are taken only while the task's
    lease lasts (the page's "undo the last submit").
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
# validating the answer needs from the campaign, and whether the labeler still is one there.
_SUBMIT_LOCK_SQL = """
SELECT a.state, a.display_order, a.expires_at, t.id, t.kind, t.campaign_id, t.judgment_count, t.lease_count, t.overlap,
       c.rating_axes, c.flag_vocabulary, c.guidelines_version, t.is_gold, t.is_qualification, t.gold_answer,
       EXISTS (SELECT 1 FROM campaigns_membership m
               WHERE m.campaign_id = c.id AND m.user_id = %(user)s AND m.role = %(role)s)
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
        cursor.execute(_SUBMIT_LOCK_SQL, {"assignment": assignment_id, "user": labeler.pk, "role": Role.LABELER})
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such assignment for you.")
    (state, order, expires_at, task_id, kind, campaign_id, judgment_count, lease_count, overlap,
     rating_axes, flag_vocabulary, guidelines_version, is_gold, is_qualification, gold_answer, is_labeler) = row
    order = json.loads(order)
    if state == Assignment.State.SUBMITTED:
        # a retry of an answer already recorded (even if the labeler has left since): the first one
        existing = Judgment.objects.filter(labeler=labeler, idempotency_key=key).first()
        if existing is not None:
            if existing.assignment_id != assignment_id:
                raise LabelingConflict(KEY_REUSED)
            return existing, False
    _may_still_label(is_labeler, state)
    supersedes = None
    if state == Assignment.State.SUBMITTED:  # a correction
        supersedes = _correction_target(assignment_id, data.get("corrects"), expires_at)
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
    judgment.qualification = None  # the labeler's qualification result, when this answer ended an attempt
    judgment.paused = None  # the PauseEvent, when this answer paused the labeler
    if is_gold and gold_answer is not None:
        _gold_scored(judgment=judgment, kind=kind, expected=json.loads(gold_answer),
                     qualification=is_qualification, correction=supersedes is not None)
    if supersedes is None and not is_gold:
        events.progress_changed_on_commit(campaign_id=campaign_id)
        if judgment_count + 1 >= overlap:
            _complete_if_last(campaign_id)
    return judgment, True


_OPEN_TASK_SQL = "SELECT EXISTS (SELECT 1 FROM labeling_task WHERE campaign_id = %s AND judgment_count < overlap)"
_COMPLETE_LOCK = 7302  # advisory-lock namespace: one campaign's task-closing submits check in turn


def _complete_if_last(campaign_id: int) -> None:
    """The submit that gave a task its last judgment: if no task of the campaign still wants
    one, the campaign is complete (the ``campaign.complete`` webhook event).

    Two submits closing the campaign's last two tasks at once would each see the other's task
    still open (neither has committed). So the check waits for a per-campaign lock, held to the
    commit, and runs as a statement of its own (under READ COMMITTED it then sees what the
    other committed): exactly one of them finds nothing open. Only task-closing submits take it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_COMPLETE_LOCK, campaign_id])
        cursor.execute(_OPEN_TASK_SQL, [campaign_id])
        (open_left,) = cursor.fetchone()
    if not open_left:
        webhooks.emit(campaign_id, webhooks.CAMPAIGN_COMPLETE, {"reason": "all_tasks_judged"})


NOT_A_LABELER = "You are no longer a labeler in this campaign: your leases there were revoked."
REVOKED = "This lease was revoked (your role in the campaign changed, or you were paused there); take the next task."


def _may_still_label(is_labeler: bool, state: str) -> None:
    """A member who left the campaign (or lost the labeler role) answers nothing there any
    more (403); a lease revoked then stays revoked even if they come back (409)."""
    if not is_labeler:
        raise NotALabeler(NOT_A_LABELER)
    if state == Assignment.State.REVOKED:
        raise LabelingConflict(REVOKED)


def _correction_target(assignment_id: int, corrects, expires_at) -> Judgment:
    """The judgment a correction supersedes: the latest one on this lease, while the lease lasts."""
    if corrects is None:
        raise LabelingConflict("This task is already judged; to change the answer send 'corrects': <judgment id>.")
    if expires_at <= timezone.now():
        raise LabelingConflict(
            f"Too late to change this answer: the lease on this task ended at {expires_at.isoformat(timespec='seconds')}."
        )
    target = (
        Judgment.objects.filter(assignment_id=assignment_id, pk=corrects).first() if isinstance(corrects, int) else None
    )
    if target is None:
        raise LabelingConflict("'corrects' must be the id of your judgment on this task.")
    latest = _latest_judgment(assignment_id)
    if latest.pk != target.pk:
        raise LabelingConflict(f"Judgment {target.pk} was already corrected: correct the latest one, {latest.pk}.")
    return target


def _latest_judgment(assignment_id: int) -> Judgment | None:
    """The end of the lease's correction chain: the answer that counts."""
    return Judgment.objects.filter(assignment_id=assignment_id, corrections__isnull=True).order_by("-id").first()


@transaction.atomic
def assignment_skip(*, labeler, assignment_id: int, reason: str) -> Assignment:
    """Give a task back with a reason; this labeler will not be offered it again."""
    reason = (reason or "").strip()
    if not reason:
        raise JudgmentInvalid({"reason": "required: say why you skip (e.g. 'needs expertise')"})
    assignment = (
        Assignment.objects.select_for_update(of=("self",)).select_related("task").filter(pk=assignment_id, labeler=labeler).first()
    )
    if assignment is None:
        raise NotFound("No such assignment for you.")
    if assignment.state == Assignment.State.SUBMITTED:
        raise LabelingConflict("This task is already judged.")
    is_labeler = Membership.objects.filter(campaign_id=assignment.task.campaign_id, user=labeler, role=Role.LABELER).exists()
    _may_still_label(is_labeler, assignment.state)
    if assignment.state == Assignment.State.LEASED:
        Task.objects.filter(pk=assignment.task_id).update(lease_count=F("lease_count") - 1)
    assignment.state, assignment.closed_at = Assignment.State.SKIPPED, timezone.now()
    assignment.skip_reason = reason[:500]
    assignment.save(update_fields=["state", "closed_at", "skip_reason"])
    return assignment


# --- members leaving --------------------------------------------------------------------------


@transaction.atomic
def leases_revoke(*, campaign_id: int, user_id: int) -> int:
    """Revoke a person's live leases in a campaign: their tasks go back to the queue at once,
    and answering such a lease is refused. Returns how many were revoked."""
    with connection.cursor() as cursor:
        # the per-labeler lock of next_task: a lease being taken right now is revoked too
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NEXT_TASK_LOCK, user_id])
    task_ids = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(labeler_id=user_id, task__campaign_id=campaign_id, state=Assignment.State.LEASED)
        .values_list("task_id", flat=True)
    )
    if not task_ids:
        return 0
    Assignment.objects.filter(labeler_id=user_id, task_id__in=task_ids, state=Assignment.State.LEASED).update(
        state=Assignment.State.REVOKED, closed_at=timezone.now()
    )
    # one lease per (task, labeler): each task loses one
    Task.objects.filter(pk__in=task_ids).update(lease_count=F("lease_count") - 1)
    return len(task_ids)


def _revoke_unless_labeler(membership: Membership) -> None:
    still = Membership.objects.filter(campaign_id=membership.campaign_id, user_id=membership.user_id, role=Role.LABELER)
    if not still.exists():
        leases_revoke(campaign_id=membership.campaign_id, user_id=membership.user_id)


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    """Take a role from a member (``campaigns.services.membership_remove``); if that leaves them
    no labeler role in the campaign, their live leases are revoked in the same transaction.
    Their open WebSockets for the campaign check their roles again after the commit."""
    campaign_services.membership_remove(membership=membership)
    _revoke_unless_labeler(membership)


@transaction.atomic
def member_role_change(*, membership: Membership, role: str) -> Membership:
    """Change a member's role (``campaigns.services.membership_role_change``); a labeler who
    becomes something else loses their live leases in the same transaction."""
    holder = campaign_services.membership_role_change(membership=membership, role=role)
    _revoke_unless_labeler(holder)
    return holder


@transaction.atomic
def task_update(*, task: Task, **fields) -> Task:
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=list(fields))
    return task


@transaction.atomic
def task_gold_set(*, task: Task, answer, qualification: bool | None = None) -> Task:
    """Make ``task`` a gold task with this expected answer (checked as a labeler's answer is),
    or, with ``answer=None``, an ordinary task again. ``qualification``: whether it belongs to
    the qualification set (None: as it was; an ordinary task never does). Raises
    ``gold.GoldInvalid``."""
    if answer is None:
        return task_update(task=task, is_gold=False, gold_answer=None, is_qualification=False)
    cleaned = gold.clean_gold_answer(task=task, campaign=task.campaign, answer=answer)
    qualification = task.is_qualification if qualification is None else qualification
    return task_update(task=task, is_gold=True, gold_answer=cleaned, is_qualification=qualification)


@transaction.atomic
def gold_import(*, campaign: Campaign, upload) -> int:
    """Set (or clear) the gold answers a JSONL file lists: every line is checked first and one
    bad line refuses the file (``ImportRejected``: nothing is written), as does a file over
    ``LABELHUB_IMPORT_MAX_BYTES`` (before it is read). Returns the tasks set."""
    import_jobs.size_check(upload.size)
    rows = gold.parse_gold_file(campaign=campaign, data=upload.read())
    for task, answer, qualification in rows:
        task.is_gold, task.gold_answer = answer is not None, answer
        task.is_qualification = answer is not None and qualification
    Task.objects.bulk_update([task for task, _, _ in rows], ["is_gold", "gold_answer", "is_qualification"])
    return len(rows)


# --- sending a task back to labeling ----------------------------------------------------------

#: The most judgments one send-back may add, and the most a task may want in all (the campaign's bound).
SEND_BACK_MAX_EXTRA = 10
OVERLAP_MAX = 50


class SendBackInvalid(Exception):
    """``errors``: field → message; nothing was changed."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@transaction.atomic
def task_send_back(*, campaign: Campaign, task_id: int, extra: int = 1, priority: int | None = None) -> Task:
    """Ask for ``extra`` more judgments of a task (its overlap grows by that much), so that the
    queue hands it out again — to labelers who have not judged it (nobody gets a task twice) —
    optionally at a new ``priority``. Gold tasks are not data and cannot be sent back.
    Raises :class:`SendBackInvalid` naming the field (``task``, ``extra``, ``priority``)."""
    task = Task.objects.select_for_update().filter(campaign=campaign, pk=task_id).first()
    errors = {}
    if task is None:
        errors["task"] = f"no task {task_id} in this campaign"
    elif task.is_gold:
        errors["task"] = f"task {task_id} is a gold task: gold tasks are not data and are not sent back"
    if isinstance(extra, bool) or not isinstance(extra, int) or not 1 <= extra <= SEND_BACK_MAX_EXTRA:
        errors["extra"] = f"must be a whole number from 1 to {SEND_BACK_MAX_EXTRA}"
    elif task is not None and task.overlap + extra > OVERLAP_MAX:
        errors["extra"] = f"task {task_id} already wants {task.overlap} judgments; at most {OVERLAP_MAX} in all"
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)
                                 or not PRIORITY_MIN <= priority <= PRIORITY_MAX):
        errors["priority"] = f"must be a whole number from {PRIORITY_MIN} to {PRIORITY_MAX}"
    if errors:
        raise SendBackInvalid(errors)
    task.overlap += extra
    fields = ["overlap"]
    if priority is not None:
        task.priority = priority
        fields.append("priority")
    task.save(update_fields=fields)
    events.progress_changed_on_commit(campaign_id=campaign.pk)
    return task


# --- gold scoring, pauses and qualification (docs/quality.md, "Gold tasks") -------------------

_QUALIFICATION_LOCK = 7302  # advisory-lock namespace: one labeler's qualification answers, one at a time


class NotPaused(Exception):
    """Reinstating a labeler who is not paused (HTTP 409)."""


def _gold_scored(*, judgment: Judgment, kind: str, expected: dict, qualification: bool, correction: bool) -> None:
    """Score a gold answer (a correction re-scores the answer it replaces); count it in the
    labeler's qualification attempt, or check their gold accuracy against the campaign's
    threshold. Sets ``judgment.qualification`` (the attempt's result, when this answer ended
    one) and ``judgment.paused`` (the pause, when this answer paused the labeler)."""
    result = gold.score_answer(kind=kind, expected=expected, ranking=judgment.ranking, preferred_id=judgment.preferred_id,
                               strength=judgment.strength, ratings=judgment.ratings)
    correct = result.pop("correct")
    campaign = Campaign.objects.get(pk=judgment.campaign_id)
    if correction:
        score = GoldScore.objects.select_for_update().filter(task_id=judgment.task_id, labeler=judgment.labeler).first()
        if score is not None:
            if score.attempt_id is not None and score.correct != correct:
                QualificationAttempt.objects.filter(pk=score.attempt_id, passed__isnull=True).update(
                    correct=F("correct") + (1 if correct else -1))
            score.judgment, score.correct, score.detail = judgment, correct, result
            score.save(update_fields=["judgment", "correct", "detail"])
    else:
        attempt = _qualification_attempt(campaign, judgment.labeler) if qualification else None
        GoldScore.objects.create(campaign=campaign, task_id=judgment.task_id, labeler=judgment.labeler, judgment=judgment,
                                 correct=correct, detail=result, attempt=attempt)
        if attempt is not None:
            judgment.qualification = _attempt_counted(attempt, correct)
    if not qualification:
        judgment.paused = _pause_if_below(campaign, judgment.labeler)


def _qualification_attempt(campaign: Campaign, labeler) -> QualificationAttempt:
    """The labeler's open attempt, or a new one (numbered after the earlier ones)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_QUALIFICATION_LOCK, labeler.pk])
    attempts = QualificationAttempt.objects.filter(campaign=campaign, labeler=labeler)
    attempt = attempts.filter(passed__isnull=True).select_for_update().first()
    if attempt is None:
        attempt = QualificationAttempt.objects.create(
            campaign=campaign, labeler=labeler, number=attempts.count() + 1,
            size=max(campaign.qualification_size, 1), threshold=campaign.qualification_threshold,
        )
    return attempt


def _attempt_counted(attempt: QualificationAttempt, correct: bool) -> dict | None:
    attempt.answered += 1
    attempt.correct += int(correct)
    fields = ["answered", "correct"]
    if attempt.answered >= attempt.size:
        attempt.passed = attempt.correct >= attempt.threshold * attempt.size - 1e-9
        attempt.finished_at = timezone.now()
        fields += ["passed", "finished_at"]
    attempt.save(update_fields=fields)
    if attempt.passed is None:
        return None
    return {"attempt": attempt.number, "passed": attempt.passed, "correct": attempt.correct, "size": attempt.size,
            "threshold": attempt.threshold}


def gold_accuracy_since(*, campaign: Campaign, labeler_id: int, since=None) -> dict:
    """The labeler's gold answers (qualification answers not counted), given after ``since``."""
    scores = GoldScore.objects.filter(campaign=campaign, labeler_id=labeler_id, attempt__isnull=True)
    if since is not None:
        scores = scores.filter(created_at__gt=since)
    row = scores.aggregate(n=Count("id"), right=Count("id", filter=Q(correct=True)))
    return gold.accuracy_figures(row["right"], row["n"])


def _pause_if_below(campaign: Campaign, labeler) -> PauseEvent | None:
    """Pause the labeler when, counting their gold answers since they were last reinstated,
    they have given the campaign's minimum and their accuracy is under its threshold."""
    latest = PauseEvent.objects.filter(campaign=campaign, labeler=labeler).order_by("-id").first()
    if latest is not None and latest.action == PauseEvent.Action.PAUSED:
        return None
    figures = gold_accuracy_since(campaign=campaign, labeler_id=labeler.pk, since=latest and latest.created_at)
    if figures["answered"] < campaign.gold_min_answers or figures["accuracy"] >= campaign.gold_accuracy_threshold:
        return None
    figures |= {"threshold": campaign.gold_accuracy_threshold, "min_answers": campaign.gold_min_answers}
    reason = (f"Gold accuracy {figures['correct']}/{figures['answered']} ({figures['accuracy']:.0%}) is below the "
              f"campaign's threshold of {campaign.gold_accuracy_threshold:.0%}.")
    return labeler_pause(campaign=campaign, labeler=labeler, by=None, reason=reason, figures=figures)


@transaction.atomic
def labeler_pause(*, campaign: Campaign, labeler, by, reason: str, figures: dict) -> PauseEvent:
    """Pause a labeler in a campaign (``by`` None: automatically): a new ``PauseEvent``, their
    live leases revoked (the tasks go back to the queue), the campaign's watchers told after
    the commit, and :func:`on_labeler_paused` called."""
    event = PauseEvent.objects.create(campaign=campaign, labeler=labeler, action=PauseEvent.Action.PAUSED, by=by,
                                      reason=reason[:500], figures=figures)
    leases_revoke(campaign_id=campaign.pk, user_id=labeler.pk)
    events.labeler_standing_on_commit(campaign_id=campaign.pk, event=event, username=labeler.username)
    on_labeler_paused(event=event)
    return event


def on_labeler_paused(*, event: PauseEvent) -> None:
    """What else follows a pause, inside the pausing transaction: the ``labeler.paused``
    webhook (delivered only if the pause commits)."""
    webhooks.emit(event.campaign_id, webhooks.LABELER_PAUSED, {
        "labeler": event.labeler.username, "reason": event.reason, "figures": event.figures,
        "by": event.by.username if event.by else None, "at": event.created_at.isoformat(),
    })


@transaction.atomic
def labeler_reinstate(*, campaign: Campaign, labeler, by, note: str = "") -> PauseEvent:
    """A lead lets a paused labeler label again: a new ``PauseEvent`` (the pause stays in the
    history). Their gold accuracy starts afresh: only answers given after this count towards
    the next pause. Raises :class:`NotPaused`."""
    PauseEvent.objects.select_for_update().filter(campaign=campaign, labeler=labeler).exists()
    latest = PauseEvent.objects.filter(campaign=campaign, labeler=labeler).order_by("-id").first()
    if latest is None or latest.action != PauseEvent.Action.PAUSED:
        raise NotPaused(f"{labeler.username} is not paused in this campaign.")
    figures = gold_accuracy_since(campaign=campaign, labeler_id=labeler.pk)
    event = PauseEvent.objects.create(campaign=campaign, labeler=labeler, action=PauseEvent.Action.REINSTATED, by=by,
                                      reason=(note.strip() or f"Reinstated by {by.username}.")[:500], figures=figures)
    events.labeler_standing_on_commit(campaign_id=campaign.pk, event=event, username=labeler.username)
    return event
