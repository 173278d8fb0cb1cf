"""PPOConfig: every knob of ``trainer ppo``, with its help text (the CLI's ``--help``).

Defaults follow "The N Implementation Details of RLHF with PPO" (Huang et al. 2024) and
TRL's former PPOConfig where they apply; docs/ppo.md explains each knob in context.
Imports only the standard library, so ``python -m trainer ppo --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.config import (
    MAX_BATCH,
    MAX_STEPS,
    LoraFields,
    RunConfig,
    bf16_field,
    field_error,
    help_field,
    path_field,
)
from trainer.generate import SamplingFields
from trainer.guards import GuardFields

SCORE_NORMS = ("none", "batch", "running")
LR_SCHEDULES = ("linear", "constant")
KL_ESTIMATORS = ("k1", "k3")  # trainer.logprobs also has k2 (biased), not offered here


#: Reward functions: how many, and how long each 'package.module:function' may be.
MAX_REWARD_FUNCTIONS = 32


@dataclass
class RewardSourceFields:
    """Where the reward comes from (PPO and RLOO): a reward model, functions, their weights."""

    reward_model: str | None = path_field(
        None, "Reward model: a `trainer reward` run folder, applied to the decoded prompt + completion text."
    )
    reward_functions: list[str] = help_field(
        [], "Extra rewards as 'package.module:function' (TRL's signature: f(prompts, completions, **kw) -> "
        "list[float]); added to the reward model's score.",
        max_items=MAX_REWARD_FUNCTIONS, max_length=200,
    )
    reward_weights: list[float] | None = help_field(
        None, "Weight of each reward source, reward model first (default: 1.0 each).",
        ge=-1000, le=1000, max_items=MAX_REWARD_FUNCTIONS + 1,
    )
    missing_eos_penalty: float | None = help_field(
        None, "Subtract this from the score of a response that hit max_new_tokens without EOS (1.0 is common).",
        ge=0, le=1000,
    )

    def check(self) -> None:
        if not self.reward_model and not self.reward_functions:
            raise field_error("reward_model", "is required (or give reward_functions)")
        n_sources = int(bool(self.reward_model)) + len(self.reward_functions)
        if self.reward_weights is not None and len(self.reward_weights) != n_sources:
            raise field_error("reward_weights", f"needs {n_sources} weights (reward model first, then functions)")


@dataclass
class PPOConfig(GuardFields, RewardSourceFields, SamplingFields, LoraFields, RunConfig):
    """Optimise a LoRA policy against a reward model with PPO and a KL penalty to its base."""

    # -- models and data ------------------------------------------------------------------------
    model: str = path_field(
        "tiny", "Policy base: tiny, a model folder, a hub name, or a run folder (e.g. SFT) whose adapter is "
        "merged into the base first; that merged model is then the reference."
    )
    adapter: str | None = path_field(None, "Adapter to merge into the base before PPO (as a run folder would).")
    prompts: str | None = path_field(
        None, "Prompts: JSONL with 'prompt' (string or chat messages) per line, or a .txt. Required.", required=True
    )

    # -- rollouts -------------------------------------------------------------------------------
    steps: int = help_field(100, "PPO steps: each samples one batch of responses and trains on it.", ge=1, le=MAX_STEPS)
    batch_size: int = help_field(
        16, "Prompts per PPO step (one response each, sampled in one generate() call).", ge=1, le=MAX_BATCH
    )
    score_norm: str = help_field(
        "none", "Score normalisation: none, batch (whiten each batch's scores) or running (running mean/std "
        "over all scores so far).", choices=SCORE_NORMS,
    )
    score_clip: float | None = help_field(
        None, "Clip the (normalised) score to [-c, c]; off when unset.", gt=0, le=1e6
    )

    # -- KL control -----------------------------------------------------------------------------
    kl_estimator: str = help_field(
        "k1", "Per-token KL estimator in the penalty: k1 (log-ratio) or k3 (never negative).", choices=KL_ESTIMATORS
    )
    kl_coef: float = help_field(0.05, "KL penalty coefficient (the start value when kl_target is set).", ge=0, le=100)
    kl_target: float | None = help_field(
        None, "Adaptive control (Ziegler et al. 2019): keep the KL per response (nats) near this; off (fixed "
        "coefficient) when unset.", gt=0, le=1e6,
    )
    kl_horizon: int = help_field(
        10000, "Adaptive control horizon in responses: each step multiplies the coefficient by at most 1 ± 0.2 x "
        "batch_size / horizon.", ge=1, le=10**9,
    )

    # -- update ---------------------------------------------------------------------------------
    ppo_epochs: int = help_field(4, "Passes over each batch of responses.", ge=1, le=100)
    minibatch_size: int = help_field(
        8, "Responses per optimizer step (batch_size must be a multiple).", ge=1, le=MAX_BATCH
    )
    learning_rate: float = help_field(
        3e-4, "AdamW learning rate (policy and value adapters and value head).", gt=0, le=1
    )
    lr_schedule: str = help_field("linear", "linear (decay to 0 over `steps`) or constant.", choices=LR_SCHEDULES)
    adam_eps: float = help_field(1e-5, "AdamW epsilon.", gt=0, le=1)
    max_grad_norm: float = help_field(
        1.0, "Clip the gradient norm of all trainable parameters to this.", gt=0, le=1e6
    )
    bf16: str = bf16_field()  # autocast for sampling and the policy, reference and value passes
    gamma: float = help_field(1.0, "Discount factor in GAE.", ge=0, le=1)
    lam: float = help_field(0.95, "GAE lambda (bias/variance trade-off of the advantages).", ge=0, le=1)
    whiten_advantages: bool = help_field(True, "Whiten advantages over each batch's response tokens.")
    whiten_rewards: bool = help_field(False, "Scale per-token rewards to unit variance (no shift) before GAE.")
    cliprange: float = help_field(0.2, "Policy ratio clip range (epsilon).", gt=0, le=10)
    cliprange_value: float = help_field(
        0.2, "Value prediction clip range around the rollout's values.", gt=0, le=1e6
    )
    vf_coef: float = help_field(0.1, "Weight of the value loss.", ge=0, le=100)
    ent_coef: float = help_field(0.0, "Weight of the entropy bonus (0: entropy is only logged).", ge=0, le=10)

    # -- checkpoints and logging ----------------------------------------------------------------
    save_every: int = help_field(
        25, "Write a checkpoint every N steps (0: only at the end and on SIGTERM).", ge=0, le=MAX_STEPS
    )
    keep_checkpoints: int = help_field(2, "Checkpoints to keep (the newest).", ge=1, le=1000)
    resume: bool = help_field(
        False, "Continue from the newest checkpoint in out/checkpoints; its metrics are kept in metrics.jsonl."
    )
    log_samples: int = help_field(
        4, "Responses per step written to samples.jsonl (prompt, completion, score).", ge=0, le=MAX_BATCH
    )

    def check(self) -> None:
        """Refuse settings that would fail later or silently mean something else (bounds and
        choices are on the fields)."""
        if not self.do_sample:
            raise field_error("do_sample", "PPO learns from sampled responses; it cannot be false")
        if self.load_in_4bit:
            raise field_error("load_in_4bit", "is not supported by ppo (its policy, reference and value head share "
                                              "one model whose adapters it merges); use rloo, or LoRA in bf16")
        if self.batch_size % self.minibatch_size:
            raise field_error(
                "minibatch_size", f"{self.minibatch_size} does not divide batch_size {self.batch_size}"
            )
