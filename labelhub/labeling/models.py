"""The labeling queue: tasks, leases on them (assignments) and the judgments labelers make.

Counters on ``Task`` (``judgment_count``, ``lease_count``) are kept by the services in
``services.py`` in the same transaction as the rows they count — no signals. The next-task
query relies on them: a task is open while ``judgment_count + lease_count < overlap``.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from labelhub.campaigns.models import (
    PRIORITY_HELP,
    PRIORITY_MAX,
    PRIORITY_MIN,
    Campaign,
    Completion,
    Prompt,
)


class Task(models.Model):
    """A prompt plus a fixed set of completions to judge together."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=16, choices=Campaign.TaskKind)
    completions = models.ManyToManyField(Completion, through="TaskCompletion", related_name="tasks")
    completion_key = models.CharField(
        max_length=64, help_text="Sorted completion ids, so one set becomes one task only."
    )
    priority = models.IntegerField(
        default=0, validators=[MinValueValidator(PRIORITY_MIN), MaxValueValidator(PRIORITY_MAX)], help_text=PRIORITY_HELP,
    )
    overlap = models.PositiveSmallIntegerField(help_text="Judgments wanted (the campaign's overlap).")
    judgment_count = models.PositiveIntegerField(default=0)
    lease_count = models.PositiveIntegerField(default=0, help_text="Live leases on this task.")
    is_gold = models.BooleanField(default=False)
    gold_answer = models.JSONField(null=True, blank=True, help_text="The expected judgment (same shape).")
    is_qualification = models.BooleanField(
        default=False, help_text="A gold task of the qualification set (given only to labelers qualifying).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "completion_key"], name="task_unique_completion_set"),
            models.CheckConstraint(condition=Q(judgment_count__gte=0) & Q(lease_count__gte=0), name="task_counts_non_negative"),
            models.CheckConstraint(
                condition=Q(priority__gte=PRIORITY_MIN) & Q(priority__lte=PRIORITY_MAX), name="task_priority_range",
            ),
        ]
        indexes = [
            # the next-task scan: open real (not gold) tasks of a campaign by priority
            models.Index(
                F("campaign"), F("priority").desc(), F("id"),
                name="task_open_by_priority",
                condition=Q(judgment_count__lt=F("overlap") - F("lease_count")) & Q(is_gold=False),
            ),
            # gold tasks are handed to every labeler (no overlap): the scan for a gold pick
            models.Index(
                F("campaign"), F("is_qualification"), F("priority").desc(), F("id"),
                name="task_gold_by_priority", condition=Q(is_gold=True),
            ),
        ]

    def __str__(self):
        return f"task {self.pk} ({self.campaign_id})"

    @property
    def is_done(self) -> bool:
        return self.judgment_count >= self.overlap


class TaskCompletion(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_completions")
    completion = models.ForeignKey(Completion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["task", "position"]
        constraints = [
            models.UniqueConstraint(fields=["task", "completion"], name="task_completion_unique"),
        ]

    def __str__(self):
        return f"task {self.task_id} #{self.position}: completion {self.completion_id}"


class Assignment(models.Model):
    """A labeler's lease on a task. One per (task, labeler), ever: nobody sees a task twice."""

    class State(models.TextChoices):
        LEASED = "leased", "Leased"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"  # the labeler left the campaign (or lost the labeler role) while holding it

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    labeler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    state = models.CharField(max_length=16, choices=State, default=State.LEASED)
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    display_order = models.JSONField(help_text="Completion ids in the order shown to this labeler.")
    skip_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "labeler"], name="assignment_once_per_labeler"),
        ]
        indexes = [
            models.Index(fields=["labeler", "state"], name="assignment_labeler_state"),
            models.Index(fields=["expires_at"], name="assignment_live_expiry", condition=Q(state="leased")),
        ]

    def __str__(self):
        return f"{self.labeler_id} → task {self.task_id} ({self.state})"


class Strength(models.TextChoices):
    MUCH_BETTER = "much_better", "Much better"
    BETTER = "better", "Better"
    SLIGHTLY_BETTER = "slightly_better", "Slightly better"
    TIE = "tie", "Tie"
    BOTH_BAD = "both_bad", "Both bad"


class Judgment(models.Model):
    """A labeler's answer to a task. Append-only: a correction is a new row pointing back."""

    class Source(models.TextChoices):
        HUMAN = "human", "Human"
        IMPORTED = "imported", "Imported"
        SIMULATED = "simulated", "Simulated"

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="judgments")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="judgments")
    labeler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="judgments")
    source = models.CharField(max_length=16, choices=Source, default=Source.HUMAN)
    ranking = models.JSONField(
        null=True, blank=True,
        help_text="Best first, ties explicit: a list of groups of completion ids, e.g. [[3], [1, 4], [2]].",
    )
    preferred = models.ForeignKey(
        Completion, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Pairwise: the better completion (empty for tie / both bad).",
    )
    strength = models.CharField(max_length=16, choices=Strength, blank=True)
    ratings = models.JSONField(default=dict, blank=True, help_text='{"<completion id>": {"<axis>": value}}')
    flags = models.JSONField(default=dict, blank=True, help_text='{"<completion id>": ["unsafe", …]}')
    rationale = models.TextField(blank=True)
    better_answer = models.TextField(blank=True, help_text="A better answer written or edited by the labeler.")
    display_order = models.JSONField(default=list)
    time_spent_ms = models.PositiveIntegerField(null=True, blank=True)
    guideline_version = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=64)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["labeler", "idempotency_key"], name="judgment_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["campaign", "created_at"]),
            models.Index(fields=["labeler", "created_at"]),
        ]

    def __str__(self):
        return f"judgment {self.pk} on task {self.task_id}"


class QualificationAttempt(models.Model):
    """One try of a labeler at a campaign's qualification: ``size`` qualification tasks they had
    not seen, scored when the last is answered (``passed``: null while it is open)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="qualification_attempts")
    labeler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qualification_attempts")
    number = models.PositiveSmallIntegerField(help_text="1 for the first attempt.")
    size = models.PositiveSmallIntegerField(help_text="Answers it takes (the campaign's setting when it began).")
    threshold = models.FloatField(help_text="Share right needed to pass (the campaign's setting when it began).")
    answered = models.PositiveSmallIntegerField(default=0)
    correct = models.PositiveSmallIntegerField(default=0)
    passed = models.BooleanField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "labeler", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "labeler", "number"], name="qualification_attempt_number"),
        ]

    def __str__(self):
        return f"qualification attempt {self.number} of {self.labeler_id} in {self.campaign_id}"


class GoldScore(models.Model):
    """A labeler's answer to a gold task checked against the expected one. One per (task,
    labeler): a correction of the answer (within its lease) scores the correction instead."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="gold_scores")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="gold_scores")
    labeler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gold_scores")
    judgment = models.OneToOneField(Judgment, on_delete=models.CASCADE, related_name="gold_score")
    correct = models.BooleanField()
    detail = models.JSONField(default=dict, blank=True, help_text="What the check found (e.g. opposite pairs).")
    attempt = models.ForeignKey(
        QualificationAttempt, null=True, blank=True, on_delete=models.CASCADE, related_name="scores",
        help_text="The qualification attempt this answer belongs to (qualification tasks only).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "labeler"], name="gold_score_once_per_labeler"),
        ]
        indexes = [models.Index(fields=["campaign", "labeler", "created_at"], name="gold_score_by_labeler")]

    def __str__(self):
        return f"gold {self.task_id} by {self.labeler_id}: {'right' if self.correct else 'wrong'}"


class PauseEvent(models.Model):
    """Append-only history of a labeler's pauses in a campaign: who, when, why. The latest
    event says whether they are paused now; a reinstatement is a new row, never an edit."""

    class Action(models.TextChoices):
        PAUSED = "paused", "Paused"
        REINSTATED = "reinstated", "Reinstated"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pause_events")
    labeler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pause_events")
    action = models.CharField(max_length=16, choices=Action)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who did it; empty when LabelHub paused the labeler automatically.",
    )
    reason = models.CharField(max_length=500)
    figures = models.JSONField(default=dict, blank=True, help_text="The gold accuracy when it happened.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(F("campaign"), F("labeler"), F("id").desc(), name="pause_event_latest")]

    def __str__(self):
        return f"{self.labeler_id} {self.action} in {self.campaign_id}"
