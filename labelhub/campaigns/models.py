"""Campaigns and what they are made of: members, prompts, policies, completions, imports.

Tasks, assignments and judgments live in ``labelhub.labeling``; snapshots in
``labelhub.feedback``; runs in ``labelhub.training`` — each pointing here, never back.
"""

import hashlib
import json

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q

from labelhub.core.inputs import JSON_MAX_DEPTH, unstorable  # noqa: F401  (re-exported)


def content_hash(value) -> str:
    """A stable sha256 of a prompt's text or chat messages (or any JSON value)."""
    if isinstance(value, str):
        payload = value
    else:
        payload = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


#: Task priority (and a campaign's ``loop_priority``) lies in this range. It orders tasks within
#: their own campaign only: across campaigns the queue serves the oldest open task first, so no
#: campaign's priority can push another campaign's work aside (``labeling.services.next_task``).
PRIORITY_MIN, PRIORITY_MAX = 0, 100
PRIORITY_HELP = f"{PRIORITY_MIN}–{PRIORITY_MAX}; orders tasks within their campaign only (higher first)."


#: A campaign's own lease time lies in this range (seconds): a minute to a day.
LEASE_SECONDS_MIN, LEASE_SECONDS_MAX = 60, 86400


class Role(models.TextChoices):
    LEAD = "lead", "Project lead"
    LABELER = "labeler", "Labeler"
    REVIEWER = "reviewer", "Reviewer"
    ENGINEER = "engineer", "ML engineer"


class CampaignQuerySet(models.QuerySet):
    def for_user(self, user):
        """Campaigns the user is a member of (any role).

        A subquery rather than a join, so that annotations over ``memberships`` still count
        every member, not only the rows of this user.
        """
        if not user.is_authenticated:
            return self.none()
        return self.filter(Exists(Membership.objects.filter(campaign=OuterRef("pk"), user=user)))


class Campaign(models.Model):
    class TaskKind(models.TextChoices):
        RANK = "rank", "Rank K completions"
        PAIRWISE = "pairwise", "A/B with strength"
        RATING = "rating", "Rate each completion"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        DONE = "done", "Done"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to labelers.")
    guidelines_version = models.PositiveIntegerField(default=1)
    task_kind = models.CharField(max_length=16, choices=TaskKind, default=TaskKind.RANK)
    completions_per_task = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(2), MaxValueValidator(9)],
        help_text="K: completions shown together in one task (2 for pairwise).",
    )
    overlap = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Judgments wanted per task.",
    )
    rating_axes = models.JSONField(
        default=list, blank=True, help_text='[{"name": "helpfulness", "min": 1, "max": 5}, …]'
    )
    flag_vocabulary = models.JSONField(default=list, blank=True, help_text='["unsafe", …]')
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    lease_seconds = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(LEASE_SECONDS_MIN), MaxValueValidator(LEASE_SECONDS_MAX)],
        help_text=f"How long a labeler holds a task, in seconds ({LEASE_SECONDS_MIN}–{LEASE_SECONDS_MAX}); "
                  "empty: the server's LABELHUB_LEASE_SECONDS.",
    )
    loop_auto = models.BooleanField(
        default=True, help_text="Send each new policy version to labeling as soon as its run succeeds."
    )
    loop_priority = models.IntegerField(
        default=10, validators=[MinValueValidator(PRIORITY_MIN), MaxValueValidator(PRIORITY_MAX)],
        help_text="Queue priority of tasks that compare a new version with earlier ones: " + PRIORITY_HELP,
    )
    # gold tasks and qualification (docs/quality.md, "Gold tasks")
    gold_rate = models.FloatField(
        default=0.05, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of a labeler's tasks that are gold tasks (0–1), while real tasks remain.",
    )
    gold_min_answers = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Gold answers a labeler gives before their accuracy can pause them.",
    )
    gold_accuracy_threshold = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="A labeler whose gold accuracy falls below this (0–1) after the minimum is paused.",
    )
    qualification_size = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)],
        help_text="Qualification tasks a labeler answers before real tasks (0: no qualification).",
    )
    qualification_threshold = models.FloatField(
        default=0.8, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of qualification answers that must be right to pass (0–1).",
    )
    qualification_max_attempts = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Attempts a labeler has at the qualification (each on tasks they have not seen).",
    )
    forgetting_threshold = models.FloatField(
        default=1.5, validators=[MinValueValidator(1.0), MaxValueValidator(1000.0)],
        help_text="A new policy version whose perplexity on the general held-out text exceeds its base's by more "
        "than this factor is flagged as forgetting (the forgetting report).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(loop_priority__gte=PRIORITY_MIN) & Q(loop_priority__lte=PRIORITY_MAX),
                name="campaign_loop_priority_range",
            ),
            models.CheckConstraint(
                condition=Q(lease_seconds__isnull=True)
                | (Q(lease_seconds__gte=LEASE_SECONDS_MIN) & Q(lease_seconds__lte=LEASE_SECONDS_MAX)),
                name="campaign_lease_seconds_range",
            ),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1) & Q(gold_accuracy_threshold__gte=0)
                & Q(gold_accuracy_threshold__lte=1) & Q(qualification_threshold__gte=0) & Q(qualification_threshold__lte=1),
                name="campaign_gold_shares_range",
            ),
        ]

    def __str__(self):
        return self.name

    def roles_of(self, user) -> set[str]:
        if not user.is_authenticated:
            return set()
        return set(self.memberships.filter(user=user).values_list("role", flat=True))


class GuidelineVersion(models.Model):
    """One saved version of a campaign's guidelines, with the lead's note on what changed.
    ``campaign.guidelines`` / ``guidelines_version`` are the current one; judgments record the
    version they were made under, and labelers compare the version they last read with this."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="guideline_versions")
    version = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="What changed, in a line.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "version"], name="guideline_version_unique"),
        ]

    def __str__(self):
        return f"{self.campaign} · guidelines v{self.version}"


class Membership(models.Model):
    """A user's role in a campaign. A user may hold several roles in one campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user", "role"], name="membership_unique_role")
        ]
        indexes = [models.Index(fields=["user", "campaign"])]

    def __str__(self):
        return f"{self.user} · {self.role} · {self.campaign}"


class InvitationQuerySet(models.QuerySet):
    def addressed_to(self, user):
        """Invitations for this user: pending ones naming their username or e-mail address, and
        the ones they answered. An invitation to a name no account has yet reaches the account
        that later has it."""
        if not user.is_authenticated:
            return self.none()
        named = Q(by_email=False, invitee_name=user.username)
        if user.email:
            named |= Q(by_email=True, invitee_name=user.email.strip().lower())
        return self.filter((Q(state=Invitation.State.PENDING) & named) | Q(invitee=user))


class Invitation(models.Model):
    """A role in a campaign offered to a person named by username or e-mail address. It makes a
    membership only when that person accepts it: no one is enrolled without consent.

    The row is written whether or not an account has that name, so inviting tells the lead
    nothing about who exists; the lead sees the name as they wrote it.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    invitee_name = models.CharField(
        max_length=254, help_text="The username, or the e-mail address (lower-cased), the lead invited."
    )
    by_email = models.BooleanField(default=False, help_text="invitee_name is an e-mail address.")
    role = models.CharField(max_length=16, choices=Role)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations",
        help_text="Who answered it (set on accept or decline).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="Accepted, declined or revoked at.")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "invitee_name", "by_email", "role"], condition=Q(state="pending"),
                name="invitation_one_pending",
            ),
        ]
        indexes = [
            models.Index(fields=["invitee_name"], condition=Q(state="pending"), name="invitation_pending_by_name"),
        ]

    def __str__(self):
        return f"{self.invitee_name} · {self.role} · {self.campaign} ({self.state})"


class ImportBatch(models.Model):
    """One upload of prompts (and completions) or of pre-judged pairs: who, what, how far its
    import got, and what it changed. A small upload is imported in its request and recorded
    once it has succeeded; a large one is recorded at once, saved under the data directory and
    imported by a job (``services.import_queue``), which reports its progress here and ends
    it succeeded, rejected (``errors`` name each line; nothing was written) or failed."""

    class Kind(models.TextChoices):
        PROMPTS = "prompts", "Prompts and completions"
        PAIRS = "pairs", "Pre-judged pairs"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        CHECKING = "checking", "Checking lines"
        WRITING = "writing", "Writing"
        SUCCEEDED = "succeeded", "Imported"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    FINAL_STATES = frozenset({State.SUCCEEDED, State.REJECTED, State.FAILED})

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.PROMPTS)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes uploaded.")
    state = models.CharField(max_length=16, choices=State, default=State.SUCCEEDED)
    lines_total = models.PositiveIntegerField(default=0, help_text="Lines in the file (once its job has read it).")
    lines_checked = models.PositiveIntegerField(default=0, help_text="Lines checked so far.")
    errors = models.JSONField(default=list, blank=True, help_text='A rejected import\'s [{"line", "field", "message"}, …].')
    upload_path = models.CharField(max_length=500, blank=True, help_text="The saved upload while its job has not ended.")
    job_id = models.BigIntegerField(null=True, blank=True)
    prompts_created = models.PositiveIntegerField(default=0)
    prompts_skipped = models.PositiveIntegerField(default=0)
    completions_created = models.PositiveIntegerField(default=0)
    completions_skipped = models.PositiveIntegerField(default=0)
    policies_created = models.PositiveIntegerField(default=0)
    judgments_created = models.PositiveIntegerField(default=0)
    judgments_skipped = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} → {self.campaign_id}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def progress(self) -> float:
        """Share of the lines checked (1.0 once the import has ended)."""
        if self.is_final:
            return 1.0
        return self.lines_checked / self.lines_total if self.lines_total else 0.0


class Prompt(models.Model):
    class Split(models.TextChoices):
        TRAIN = "train", "Train"
        HELD_OUT = "held_out", "Held-out"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="prompts")
    text = models.TextField(blank=True, help_text="Plain prompt text (empty when messages are set).")
    messages = models.JSONField(
        null=True, blank=True, help_text='Chat turns: [{"role": "user", "content": "…"}, …]'
    )
    metadata = models.JSONField(default=dict, blank=True)
    split = models.CharField(max_length=16, choices=Split, default=Split.TRAIN)
    content_hash = models.CharField(max_length=64)
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="prompts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "content_hash"], name="prompt_unique_hash"),
            models.CheckConstraint(
                condition=~models.Q(text="") | models.Q(messages__isnull=False),
                name="prompt_has_text_or_messages",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "split"])]

    def __str__(self):
        return self.display_text[:80]

    @property
    def is_chat(self) -> bool:
        return self.messages is not None

    @property
    def display_text(self) -> str:
        if self.messages is None:
            return self.text
        return "\n\n".join(f"{turn['role']}: {turn['content']}" for turn in self.messages)


#: The most passages a retrieval-augmented policy puts into one prompt.
RETRIEVAL_K_MAX = 10
#: The text-search configuration of the document collection (stemming, stop words); the GIN
#: index and every query use the same one, so the index serves the queries.
SEARCH_CONFIG = "english"
#: The flag labelers give an answer whose sources do not back it; a campaign gets it in its
#: flag vocabulary when it gets a retrieval-augmented policy.
UNSUPPORTED_FLAG = "not supported by the sources"


def passage_vector():
    """The full-text vector of a passage: its document's title and its text (the GIN index's expression)."""
    return SearchVector("document", "text", config=SEARCH_CONFIG)


class Passage(models.Model):
    """One passage of a campaign's document collection, which retrieval-augmented policies
    search (``selectors.passages_retrieve``). A text or Markdown file is split into passages at
    blank lines (Markdown: at headings); a JSONL line is one passage."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="passages")
    document = models.CharField(max_length=300, blank=True, help_text="The document it comes from (title or file name).")
    position = models.PositiveIntegerField(default=0, help_text="Its place in the document (0 = first).")
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "content_hash"], name="passage_unique_hash"),
        ]
        indexes = [GinIndex(passage_vector(), name="passage_search")]

    def __str__(self):
        return f"{self.document} · {self.text[:60]}"


class Policy(models.Model):
    """A model version that produces completions: a base model plus an optional LoRA adapter."""

    class TemplateKind(models.TextChoices):
        ZERO_SHOT = "zero_shot", "Zero-shot"
        ONE_SHOT = "one_shot", "One-shot"
        FEW_SHOT = "few_shot", "Few-shot"
        CHAIN_OF_THOUGHT = "chain_of_thought", "Chain of thought"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=120)
    base_model = models.CharField(
        max_length=500, blank=True, help_text="Local model directory or hub name; empty for external sources."
    )
    adapter_path = models.CharField(max_length=500, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    generation_settings = models.JSONField(
        default=dict, blank=True, help_text='{"temperature": 0.8, "top_p": 0.95, "max_new_tokens": 128}'
    )
    prompt_template_kind = models.CharField(
        max_length=24, choices=TemplateKind, default=TemplateKind.ZERO_SHOT
    )
    prompt_template = models.TextField(
        blank=True, help_text="Instruction or examples used by the template; {prompt} marks the prompt."
    )
    is_best = models.BooleanField(
        default=False, help_text="The campaign's current best version (set by the promotion gate)."
    )
    forgetting = models.JSONField(
        default=dict, blank=True,
        help_text="The forgetting report of this version against its base on the general set no campaign trains on: "
        "perplexity, base_perplexity, perplexity_ratio, rouge1/rouge2/rougeL (its answers against the base's), "
        "prompts, run. Empty until its forgetting run succeeded.",
    )
    retrieval_k = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(RETRIEVAL_K_MAX)],
        help_text=f"Retrieval-augmented: each prompt gets the top k passages of the campaign's document "
        f"collection (PostgreSQL full-text search) in its prompt; 0 = no retrieval (at most {RETRIEVAL_K_MAX}).",
    )
    guards = models.JSONField(
        default=dict, blank=True,
        help_text="The guards of the run that produced this version (its summary's \"guards\"): policy and "
        "base figures, checks, flagged and reasons. Empty when that run had none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="policy_unique_name")
        ]

    def __str__(self):
        return self.name

    @property
    def flagged(self) -> bool:
        """The run that produced this version broke a guard: promoting it needs an override."""
        return bool(self.guards.get("flagged")) if isinstance(self.guards, dict) else False

    def forgets(self, threshold: float) -> bool:
        """Its perplexity on the general text grew past ``threshold`` × its base's."""
        ratio = self.forgetting.get("perplexity_ratio") if isinstance(self.forgetting, dict) else None
        return isinstance(ratio, (int, float)) and ratio > threshold

    @property
    def retrieves(self) -> bool:
        return self.retrieval_k > 0

    @property
    def flag_reasons(self) -> list[str]:
        return [str(r) for r in self.guards.get("reasons") or []] if self.flagged else []


class Completion(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="completions")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="completions")
    text = models.TextField()
    generation_settings = models.JSONField(default=dict, blank=True)
    token_count = models.PositiveIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    passages = models.ManyToManyField(
        Passage, through="CompletionPassage", related_name="completions", blank=True,
        help_text="The passages a retrieval-augmented policy put into the prompt of this answer.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "policy", "content_hash"], name="completion_unique_hash"
            )
        ]

    def __str__(self):
        return self.text[:80]


class CompletionPassage(models.Model):
    """A passage a completion's prompt held, with its rank in the retrieval (1 = best)."""

    completion = models.ForeignKey(Completion, on_delete=models.CASCADE, related_name="completion_passages")
    passage = models.ForeignKey(Passage, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["completion", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["completion", "passage"], name="completion_passage_unique"),
        ]

    def __str__(self):
        return f"completion {self.completion_id} · passage {self.passage_id} (#{self.rank})"
