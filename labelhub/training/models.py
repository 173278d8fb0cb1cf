"""Training runs, their metric time series, and the reward models they produce.

A ``Run`` is one ``python -m trainer <kind>`` subprocess started by a job
(``labelhub.training.tasks``); its folder under ``LABELHUB_DATA_DIR/runs/<id>/`` follows the
trainer's run-folder contract. Policies a run produces are ``campaigns.Policy`` rows.
"""

from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from labelhub.campaigns.models import Campaign, Policy
from labelhub.core.accelerators import MAX_GPUS
from labelhub.feedback.models import Snapshot


def duration_text(seconds: float) -> str:
    """12 s, 3 min 05 s, 1 h 02 min."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class RewardModel(models.Model):
    """A reward model trained by a ``reward`` run: a base plus a LoRA adapter (and score head)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reward_models")
    name = models.CharField(max_length=120)
    base_model = models.CharField(max_length=500, help_text="Base model: tiny-rm, a local folder or a hub name.")
    adapter_path = models.CharField(max_length=500, help_text="The adapter folder (inside the run folder).")
    snapshot = models.ForeignKey(
        Snapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="reward_models"
    )
    run = models.ForeignKey(
        "training.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    held_out_accuracy = models.FloatField(null=True, blank=True, help_text="Pairwise accuracy on held-out pairs.")
    held_out_pairs = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many held-out pairs the accuracy was measured on (null: not known)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    #: Chance for a pairwise preference: a model below it prefers the rejected answer more often.
    CHANCE = 0.5
    #: Fewer held-out pairs than this and the accuracy cannot be told from chance: at 50 pairs a
    #: 95% interval around an accuracy of 0.7 is still about ±0.13 wide.
    MIN_HELD_OUT_PAIRS = 50

    class Meta:
        ordering = ["campaign", "-id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="reward_model_unique_name")]

    def __str__(self):
        return self.name

    @property
    def flag_reasons(self) -> list[str]:
        """Why its held-out accuracy does not show that it learned the preference (empty: it does)."""
        reasons = []
        if self.held_out_accuracy is None:
            reasons.append("no held-out accuracy (its run held out no pairs)")
        elif self.held_out_accuracy < self.CHANCE:
            reasons.append(f"held-out accuracy {self.held_out_accuracy:.2f} is below chance ({self.CHANCE:.2f}): "
                           "it prefers the rejected answer more often than the chosen one")
        if self.held_out_pairs is not None and self.held_out_pairs < self.MIN_HELD_OUT_PAIRS:
            reasons.append(f"only {self.held_out_pairs} held-out pairs (fewer than {self.MIN_HELD_OUT_PAIRS}): "
                           "its accuracy cannot be told from chance")
        return reasons

    @property
    def flagged(self) -> bool:
        return bool(self.flag_reasons)

    @property
    def choice_label(self) -> str:
        """How a form offers it: name, held-out accuracy and pairs, and "flagged" when it is."""
        label = self.name
        if self.held_out_accuracy is not None:
            label += f" · held-out accuracy {self.held_out_accuracy:.3f}"
            if self.held_out_pairs is not None:
                label += f" on {self.held_out_pairs} pairs"
        return label + (" · flagged" if self.flagged else "")

    @property
    def trainer_spec(self) -> str:
        """What to pass the trainer: the run folder (it has model.json) when there is one."""
        folder = Path(self.adapter_path).parent
        return str(folder) if (folder / "model.json").is_file() else self.adapter_path


class RunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state__in=[Run.State.QUEUED, Run.State.RUNNING])


class Run(models.Model):
    class Kind(models.TextChoices):
        SFT = "sft", "Supervised fine-tuning (SFT)"
        REWARD = "reward", "Reward model"
        DPO = "dpo", "DPO"
        PPO = "ppo", "PPO"
        RLOO = "rloo", "RLOO"
        GENERATE = "generate", "Generate completions"
        EVALUATE = "evaluate", "Evaluate a policy"
        PROMPT_LAB = "prompt_lab", "Prompt lab"
        FORGETTING = "forgetting", "Forgetting report"
        PRETRAIN = "pretrain", "Continued pre-training"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATES = {State.SUCCEEDED, State.FAILED, State.CANCELLED}

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind)
    config = models.JSONField(default=dict, blank=True, help_text="Trainer config fields (defaults of the kind, "
                              "the campaign and the policy + the request's).")
    # inputs
    snapshot = models.ForeignKey(Snapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    prompt_split = models.CharField(
        max_length=16, blank=True,
        help_text="Prompts a generate/evaluate/PPO/RLOO run samples: train or held_out (the kind's default when "
                  "none was asked for; empty: the kind takes no prompts).",
    )
    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs",
        help_text="The policy the run starts from (or generates with / evaluates).",
    )
    reward_model = models.ForeignKey(
        RewardModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    gpus = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_GPUS)],
        help_text="GPUs the run needs (0: any worker). Its job waits for a worker with at least this many; more "
                  "than one starts that many trainer processes (accelerate launch).",
    )
    resumed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resumed_by",
        help_text="The cancelled or failed run whose newest checkpoint this run continues.",
    )
    # progress and outcome
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    run_dir = models.CharField(max_length=500, blank=True, help_text="The run folder (config.json, metrics.jsonl, …).")
    produced_policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="produced_by_runs"
    )
    produced_reward_model = models.ForeignKey(
        RewardModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="produced_by_runs"
    )
    summary = models.JSONField(default=dict, blank=True, help_text="The trainer's summary.json.")
    progress = models.JSONField(
        default=dict, blank=True,
        help_text="The trainer's progress.json while it runs: phase, unit, done, total, elapsed_s, eta_s.",
    )
    error = models.TextField(blank=True, help_text="Why the run failed or was cancelled, in one line.")
    error_tail = models.TextField(blank=True, help_text="The last few KB of the trainer's output (stdout and stderr).")
    exit_code = models.IntegerField(null=True, blank=True, help_text="Negative: killed by that signal.")
    job_id = models.BigIntegerField(null=True, blank=True, help_text="The procrastinate job running it.")
    # the trainer process while its job follows it (cleared once the job has seen it end):
    # a worker that starts finds trainers its dead predecessors left and kills them
    trainer_pid = models.IntegerField(null=True, blank=True, help_text="The trainer process, while its job follows it.")
    trainer_host = models.CharField(max_length=255, blank=True, help_text="The machine the trainer runs on.")
    trainer_started = models.FloatField(
        null=True, blank=True, help_text="The trainer process's start time (seconds since the epoch), so a reused pid is not taken for it."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life from the job.")
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["campaign", "-id"]), models.Index(fields=["state"])]

    def __str__(self):
        return f"run {self.pk} ({self.kind}, {self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    #: Kinds that log curves (metrics lines step by step); the others log one line at the end.
    CURVE_KINDS = {Kind.SFT, Kind.REWARD, Kind.DPO, Kind.PPO, Kind.RLOO}

    @property
    def draws_curves(self) -> bool:
        return self.kind in self.CURVE_KINDS

    @property
    def progress_text(self) -> str:
        """How far the run is, in words: "step 12 of 30 · about 18 s left" (empty once it ended)."""
        if self.state == self.State.QUEUED:
            return "waiting for a worker"
        if self.state != self.State.RUNNING:
            return ""
        p = self.progress if isinstance(self.progress, dict) else {}
        done, total = p.get("done"), p.get("total")
        if not isinstance(done, int) or not isinstance(total, int) or total <= 0:
            return "starting (loading models and data)"
        unit = str(p.get("unit") or "step")
        text = f"{unit} {done} of {total}" if unit == "step" else f"{done} of {total} {unit}s"
        eta = p.get("eta_s")
        if isinstance(eta, (int, float)) and done < total:
            text += f" · about {duration_text(eta)} left"
        return text

    @property
    def progress_share(self) -> float | None:
        """done / total of the current phase while it runs (None: not known)."""
        p = self.progress if isinstance(self.progress, dict) else {}
        done, total = p.get("done"), p.get("total")
        if self.state != self.State.RUNNING or not isinstance(done, int) or not isinstance(total, int) or total <= 0:
            return None
        return min(max(done / total, 0.0), 1.0)

    @property
    def guards(self) -> dict | None:
        """The trainer's guards of a finished PPO/DPO/RLOO run (summary.json "guards"), or None."""
        guards = self.summary.get("guards") if isinstance(self.summary, dict) else None
        return guards if isinstance(guards, dict) else None

    @property
    def flagged(self) -> bool:
        """The run broke a guard (length, vocabulary, diversity or KL): see ``flag_reasons``."""
        return bool(self.guards and self.guards.get("flagged"))

    @property
    def flag_reasons(self) -> list[str]:
        return [str(r) for r in self.guards.get("reasons") or []] if self.flagged else []

    @property
    def output_flagged(self) -> bool:
        """What it made needs a second look: its guards broke, or its reward model is flagged."""
        return self.flagged or bool(self.produced_reward_model_id and self.produced_reward_model.flagged)


class RunMetric(models.Model):
    """One line of the run's metrics.jsonl: the values logged at a step."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    step = models.IntegerField()
    values = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["run", "id"])]

    def __str__(self):
        return f"run {self.run_id} step {self.step}"


class LoopRound(models.Model):
    """A new policy version sent to labeling: completions on the held-out prompts for it and
    the versions it is compared with, then tasks that pit it against them."""

    class State(models.TextChoices):
        GENERATING = "generating", "Generating completions"
        LABELING = "labeling", "In the labeling queue"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="loop_rounds")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="loop_rounds")
    against = models.ManyToManyField(Policy, related_name="+")
    state = models.CharField(max_length=16, choices=State, default=State.GENERATING)
    generation_runs = models.ManyToManyField(Run, related_name="loop_rounds", blank=True)
    tasks_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.policy} → labeling ({self.state})"
