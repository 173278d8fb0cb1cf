"""PPOConfig: every knob of ``trainer ppo``, with its help text (the CLI's ``--help``).

Defaults follow "The N Implementation Details of RLHF with PPO" (Huang et al. 2024) and
TRL's former PPOConfig where they apply; docs/ppo.md explains each knob in context.
Imports only the standard library, so ``python -m trainer ppo --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.config import ConfigError, LoraFields, RunConfig, help_field, require
from trainer.generate import SamplingFields
from trainer.guards import GuardFields, check_guard_fields

SCORE_NORMS = ("none", "batch", "running")
LR_SCHEDULES = ("linear", "constant")
KL_ESTIMATORS = ("k1", "k3")  # trainer.logprobs also has k2 (biased), not offered here


@dataclass
class PPOConfig(GuardFields, SamplingFields, LoraFields, RunConfig):
    """Optimise a LoRA policy against a reward model with PPO and a KL penalty to its base."""

    # -- models and data ------------------------------------------------------------------------
    model: str = help_field(
        "tiny", "Policy base: tiny, a model folder, a hub name, or a run folder (e.g. SFT) whose adapter is "
        "merged into the base first; that merged model is then the reference."
    )
    adapter: str | None = help_field(None, "Adapter to merge into the base before PPO (as a run folder would).")
    reward_model: str | None = help_field(
        None, "Reward model: a `trainer reward` run folder, applied to the decoded prompt + completion text."
    )
    reward_functions: list[str] = help_field(
        [], "Extra rewards as 'package.module:function' (TRL's signature: f(prompts, completions, **kw) -> "
        "list[float]); added to the reward model's score."
    )
    reward_weights: list[float] | None = help_field(
        None, "Weight of each reward source, reward model first (default: 1.0 each)."
    )
    prompts: str | None = help_field(
        None, "Prompts: JSONL with 'prompt' (string or chat messages) per line, or a .txt. Required."
    )

    # -- rollouts -------------------------------------------------------------------------------
    steps: int = help_field(100, "PPO steps: each samples one batch of responses and trains on it.")
    batch_size: int = help_field(16, "Prompts per PPO step (one response each, sampled in one generate() call).")
    missing_eos_penalty: float | None = help_field(
        None, "Subtract this from the score of a response that hit max_new_tokens without EOS (1.0 is common)."
    )
    score_norm: str = help_field(
        "none", "Score normalisation: none, batch (whiten each batch's scores) or running (running mean/std "
        "over all scores so far)."
    )
    score_clip: float | None = help_field(None, "Clip the (normalised) score to [-c, c]; off when unset.")

    # -- KL control -----------------------------------------------------------------------------
    kl_estimator: str = help_field("k1", "Per-token KL estimator in the penalty: k1 (log-ratio) or k3 (never negative).")
    kl_coef: float = help_field(0.05, "KL penalty coefficient (the start value when kl_target is set).")
    kl_target: float | None = help_field(
        None, "Adaptive control (Ziegler et al. 2019): keep the KL per response (nats) near this; off (fixed "
        "coefficient) when unset."
    )
    kl_horizon: int = help_field(
        10000, "Adaptive control horizon in responses: each step multiplies the coefficient by at most 1 ± 0.2 x batch_size / horizon."
    )

    # -- update ---------------------------------------------------------------------------------
    ppo_epochs: int = help_field(4, "Passes over each batch of responses.")
    minibatch_size: int = help_field(8, "Responses per optimizer step (batch_size must be a multiple).")
    learning_rate: float = help_field(3e-4, "AdamW learning rate (policy and value adapters and value head).")
    lr_schedule: str = help_field("linear", "linear (decay to 0 over `steps`) or constant.")
    adam_eps: float = help_field(1e-5, "AdamW epsilon.")
    max_grad_norm: float = help_field(1.0, "Clip the gradient norm of all trainable parameters to this.")
    gamma: float = help_field(1.0, "Discount factor in GAE.")
    lam: float = help_field(0.95, "GAE lambda (bias/variance trade-off of the advantages).")
    whiten_advantages: bool = help_field(True, "Whiten advantages over each batch's response tokens.")
    whiten_rewards: bool = help_field(False, "Scale per-token rewards to unit variance (no shift) before GAE.")
    cliprange: float = help_field(0.2, "Policy ratio clip range (epsilon).")
    cliprange_value: float = help_field(0.2, "Value prediction clip range around the rollout's values.")
    vf_coef: float = help_field(0.1, "Weight of the value loss.")
    ent_coef: float = help_field(0.0, "Weight of the entropy bonus (0: entropy is only logged).")

    # -- checkpoints and logging ----------------------------------------------------------------
    save_every: int = help_field(
        25, "Write a checkpoint every N steps (0: only at the end and on SIGTERM)."
    )
    keep_checkpoints: int = help_field(2, "Checkpoints to keep (the newest).")
    resume: bool = help_field(
        False, "Continue from the newest checkpoint in out/checkpoints; its metrics are kept in metrics.jsonl."
    )
    log_samples: int = help_field(4, "Responses per step written to samples.jsonl (prompt, completion, score).")


def check(cfg: PPOConfig) -> None:
    """Refuse settings that would fail later or silently mean something else."""
    require(cfg, "out", "prompts")
    if not cfg.reward_model and not cfg.reward_functions:
        raise ConfigError("field 'reward_model' is required (or give reward_functions)")
    n_sources = int(bool(cfg.reward_model)) + len(cfg.reward_functions)
    if cfg.reward_weights is not None and len(cfg.reward_weights) != n_sources:
        raise ConfigError(f"field 'reward_weights' needs {n_sources} weights (reward model first, then functions)")
    choices = {"kl_estimator": KL_ESTIMATORS, "score_norm": SCORE_NORMS, "lr_schedule": LR_SCHEDULES}
    for name, allowed in choices.items():
        if getattr(cfg, name) not in allowed:
            raise ConfigError(f"field '{name}': {getattr(cfg, name)!r} is not one of {', '.join(allowed)}")
    if not cfg.do_sample:
        raise ConfigError("field 'do_sample': PPO learns from sampled responses; it cannot be false")
    if cfg.temperature <= 0:
        raise ConfigError("field 'temperature' must be > 0")
    for name in ("steps", "batch_size", "minibatch_size", "ppo_epochs", "max_new_tokens", "kl_horizon"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"field '{name}' must be >= 1")
    if cfg.batch_size % cfg.minibatch_size:
        raise ConfigError(f"field 'minibatch_size': {cfg.minibatch_size} does not divide batch_size {cfg.batch_size}")
    if cfg.kl_target is not None and cfg.kl_target <= 0:
        raise ConfigError("field 'kl_target' must be > 0 (leave it unset for a fixed coefficient)")
    if cfg.kl_coef < 0:
        raise ConfigError("field 'kl_coef' must be >= 0")
    if cfg.save_every < 0 or cfg.keep_checkpoints < 1:
        raise ConfigError("fields 'save_every' >= 0 and 'keep_checkpoints' >= 1")
    check_guard_fields(cfg)
