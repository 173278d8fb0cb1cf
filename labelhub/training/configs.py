"""Trainer configs for each run kind: defaults for the tiny CPU models, and the input fields
the platform fills in from the run's snapshot, policy and reward model.

The platform talks to ``trainer`` only through a config file and the CLI, so the field
names here are the trainer's (``python -m trainer <kind> --help``). The trainer checks the
values; a bad one fails the run with its one-line cause.
"""

from __future__ import annotations

import copy
from typing import Any

from labelhub.training.models import Run

Kind = Run.Kind

#: Defaults per kind: a few steps on the tiny models, one metrics line per step.
DEFAULT_CONFIGS: dict[str, dict[str, Any]] = {
    Kind.REWARD: {
        "model": "tiny-rm", "max_steps": 30, "batch_size": 8, "learning_rate": 1e-3,
        "eval_fraction": 0.2, "log_every": 1, "seed": 0,
    },
    Kind.SFT: {"max_steps": 30, "batch_size": 8, "learning_rate": 1e-3, "log_every": 1, "seed": 0},
    Kind.DPO: {
        "max_steps": 30, "batch_size": 8, "learning_rate": 5e-4, "beta": 0.1, "log_every": 1, "seed": 0,
    },
    Kind.PPO: {"steps": 20, "batch_size": 8, "minibatch_size": 8, "kl_coef": 0.05, "seed": 0},
    Kind.RLOO: {"steps": 20, "batch_size": 4, "num_generations": 4, "kl_coef": 0.05, "seed": 0},
    Kind.GENERATE: {"num_samples": 1, "max_new_tokens": 48, "seed": 0},
    Kind.EVALUATE: {"max_new_tokens": 48, "seed": 0},
}

#: Fields the platform sets from the run's inputs; a config may not set them itself.
INPUT_FIELDS: dict[str, set[str]] = {
    Kind.REWARD: {"data"},
    Kind.SFT: {"data", "model", "adapter"},
    Kind.DPO: {"data", "model", "adapter"},
    Kind.PPO: {"model", "adapter", "reward_model", "prompts"},
    Kind.RLOO: {"model", "adapter", "reward_model", "prompts"},
    Kind.GENERATE: {"model", "adapter", "prompts"},
    Kind.EVALUATE: {"policy", "adapter", "reward_model", "prompts"},
}
ALWAYS_SET = {"out"}

#: Which inputs each kind needs. ``snapshot_kind`` is the snapshot kind it trains on.
NEEDS: dict[str, dict[str, Any]] = {
    Kind.REWARD: {"snapshot": "preference"},
    Kind.SFT: {"snapshot": "sft", "policy": True},
    Kind.DPO: {"snapshot": "preference", "policy": True},
    Kind.PPO: {"policy": True, "reward_model": True, "prompts": "train"},
    Kind.RLOO: {"policy": True, "reward_model": True, "prompts": "train"},
    Kind.GENERATE: {"policy": True, "prompts": "held_out"},
    Kind.EVALUATE: {"policy": True, "prompts": "held_out"},
}

#: The inputs each kind reads (others are refused rather than silently ignored).
USES: dict[str, set[str]] = {
    Kind.REWARD: {"snapshot"},
    Kind.SFT: {"snapshot", "policy"},
    Kind.DPO: {"snapshot", "policy"},
    Kind.PPO: {"policy", "reward_model"},
    Kind.RLOO: {"policy", "reward_model"},
    Kind.GENERATE: {"policy"},
    Kind.EVALUATE: {"policy", "reward_model"},
}

#: Policy.prompt_template_kind → the trainer's ``template`` (one/few-shot need an examples file).
TEMPLATES = {"zero_shot": "zero-shot", "chain_of_thought": "cot"}
SAMPLING_KEYS = ("max_new_tokens", "do_sample", "temperature", "top_k", "top_p")


def default_config(kind: str) -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_CONFIGS[kind])


def policy_defaults(kind: str, policy) -> dict[str, Any]:
    """Defaults that follow the starting policy: its prompt template and sampling settings."""
    out: dict[str, Any] = {}
    if policy is None:
        return out
    if kind != Kind.REWARD and policy.prompt_template_kind in TEMPLATES:
        out["template"] = TEMPLATES[policy.prompt_template_kind]
    if kind in {Kind.GENERATE, Kind.EVALUATE}:
        settings = policy.generation_settings or {}
        out |= {k: settings[k] for k in SAMPLING_KEYS if k in settings}
    return out


def trainer_inputs(run: Run, *, prompts_file: str | None) -> dict[str, Any]:
    """The input fields of the trainer config, from the run's rows (paths on this machine)."""
    kind, policy, rm = run.kind, run.policy, run.reward_model
    values: dict[str, Any] = {}
    if run.snapshot is not None and kind in {Kind.REWARD, Kind.SFT, Kind.DPO}:
        values["data"] = run.snapshot.jsonl_path
    if policy is not None:
        model_key = "policy" if kind == Kind.EVALUATE else "model"
        values[model_key] = policy.base_model
        values["adapter"] = policy.adapter_path or None
    if rm is not None and kind in {Kind.PPO, Kind.RLOO, Kind.EVALUATE}:
        values["reward_model"] = rm.trainer_spec
    if prompts_file is not None:
        values["prompts"] = prompts_file
    return values
