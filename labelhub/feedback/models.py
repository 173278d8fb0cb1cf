"""Snapshots: frozen, versioned exports of a campaign's judgments for the trainer; promotions of policy versions."""

from django.conf import settings
from django.db import models

from labelhub.campaigns.models import Campaign, Policy


class Snapshot(models.Model):
    class Kind(models.TextChoices):
        PREFERENCE = "preference", "Preference pairs (reward model, DPO)"
        SFT = "sft", "Demonstrations (SFT) from written answers"
        RATINGS = "ratings", "Ratings per completion (scores, flags, rationales)"

    class Aggregation(models.TextChoices):
        ALL = "all", "Every labeler's pairs"
        MAJORITY = "majority", "Majority vote per pair"
        BRADLEY_TERRY = "bradley_terry", "Bradley–Terry per task"

    class State(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="snapshots")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.PREFERENCE)
    aggregation = models.CharField(max_length=16, choices=Aggregation, default=Aggregation.ALL)
    keep_ties = models.BooleanField(default=False)
    filters = models.JSONField(default=dict, blank=True, help_text='{"since", "until", "labelers", "exclude_flagged", "split", "exclude_rejected"}')
    strength_margins = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.BUILDING)
    path = models.CharField(max_length=500, blank=True, help_text="Folder with data.jsonl.")
    judgment_count = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    metadata = models.JSONField(
        default=dict, blank=True,
        help_text="Figures about its judgments, written when it is built: \"agreement\" (docs/quality.md). "
        "The folder stays data.jsonl alone.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "-version"]
        constraints = [models.UniqueConstraint(fields=["campaign", "version"], name="snapshot_unique_version")]

    def __str__(self):
        return f"{self.campaign.slug} snapshot v{self.version}"

    @property
    def jsonl_path(self) -> str:
        return f"{self.path}/data.jsonl"


class Promotion(models.Model):
    """A policy version made the campaign's best: who, when, its standing then, and — for a
    version whose run broke a guard — the override and the note that justified it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="promotions")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="promotions")
    promoted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    strength = models.FloatField(help_text="Bradley–Terry strength against the reference at promotion.")
    low = models.FloatField(help_text="Lower end of the 95% interval at promotion.")
    high = models.FloatField(help_text="Upper end of the 95% interval at promotion.")
    override = models.BooleanField(
        default=False, help_text="Promoted although the run that produced it broke a guard (flag_reasons)."
    )
    flag_reasons = models.JSONField(default=list, blank=True, help_text="The guard reasons overridden.")
    note = models.TextField(blank=True, help_text="Why (required with an override).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "-id"]
        indexes = [models.Index(fields=["campaign", "-id"])]

    def __str__(self):
        return f"{self.policy} promoted" + (" over its guards" if self.override else "")


class Review(models.Model):
    """A reviewer's verdict on a judgment: accepted or rejected, with a note. Append-only, as
    judgments are: a later review of the same judgment is a new row that ``supersedes`` the one
    it replaces (the judgment is never edited, and the history stays). The current review of a
    judgment is the one nothing supersedes."""

    class Verdict(models.TextChoices):
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reviews")
    judgment = models.ForeignKey("labeling.Judgment", on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    verdict = models.CharField(max_length=8, choices=Verdict)
    note = models.TextField(blank=True, help_text="Why (required for a rejection).")
    source = models.CharField(
        max_length=32, blank=True, help_text="The review queue it was made from (sample, flagged, …), if any."
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by",
        help_text="The earlier review of the same judgment this one replaces.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["campaign", "judgment"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(verdict="reject") | ~models.Q(note=""), name="review_rejection_has_note",
            ),
        ]

    def __str__(self):
        return f"{self.verdict} of judgment {self.judgment_id}"


class CompletionScore(models.Model):
    """A machine score of a completion, e.g. a reward model's (``scorer``: the reward model's
    name). The disagreement queue compares these with the human majority."""

    completion = models.ForeignKey("campaigns.Completion", on_delete=models.CASCADE, related_name="scores")
    scorer = models.CharField(max_length=120, help_text="What gave the score: a reward model's name.")
    score = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scorer", "completion"]
        constraints = [
            models.UniqueConstraint(fields=["scorer", "completion"], name="completion_score_once_per_scorer"),
        ]

    def __str__(self):
        return f"{self.scorer}: completion {self.completion_id} = {self.score:g}"
