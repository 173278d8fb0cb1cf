"""The score of a response: reward model and reward functions on the decoded text.

Sources are a `trainer reward` model (scored through ``trainer.score.RewardScorer``, on
the raw prompt + decoded completion, so its tokenizer may differ from the policy's) and
any number of functions with TRL's reward-function signature,
``f(prompts=..., completions=..., completion_ids=..., **kwargs) -> list[float]``,
named as ``package.module:function``. The score is their weighted sum, then optionally
normalised (per batch, or with running statistics), then the missing-EOS penalty, then
clipping.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

from trainer.config import ConfigError


def load_function(path: str) -> Callable[..., list[float]]:
    """'package.module:function' (or 'package.module.function') -> the function."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ConfigError(f"field 'reward_functions': cannot import {path!r} ({e})") from None
    if not callable(fn):
        raise ConfigError(f"field 'reward_functions': {path!r} is not callable")
    return fn


class RewardSources:
    """Weighted sum of the reward model's score and the reward functions' values."""

    def __init__(self, cfg: Any, device: str):
        from trainer.score import RewardScorer

        self.scorer = RewardScorer(cfg.reward_model, device) if cfg.reward_model else None
        self.functions = [(path.rpartition(":")[2].rpartition(".")[2], load_function(path)) for path in cfg.reward_functions]
        self.names = (["model"] if self.scorer else []) + [name for name, _ in self.functions]
        self.weights = list(cfg.reward_weights) if cfg.reward_weights is not None else [1.0] * len(self.names)

    def __call__(self, prompts: list[Any], completions: list[str], completion_ids: list[list[int]]):
        """(weighted total per response, {source name: values})."""
        from trainer.score import join_for_reward

        parts: dict[str, list[float]] = {}
        if self.scorer:
            parts["model"] = self.scorer.score(*join_for_reward(prompts, completions))
        for name, fn in self.functions:
            values = [float(v) for v in fn(prompts=prompts, completions=completions, completion_ids=completion_ids)]
            if len(values) != len(completions) or not all(math.isfinite(v) for v in values):
                raise ValueError(f"reward function {name!r} must return one finite number per completion")
            parts[name] = values
        totals = [sum(w * parts[n][i] for w, n in zip(self.weights, self.names, strict=True)) for i in range(len(completions))]
        return totals, parts


class ScoreNormalizer:
    """none: as is; batch: whiten within the batch; running: (x − mean) / std with the mean
    and std of every score seen so far, this batch included (Welford's algorithm)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def __call__(self, scores):
        import torch

        if self.mode == "none":
            return scores
        if self.mode == "batch":
            return (scores - scores.mean()) / (scores.std() + 1e-8) if len(scores) > 1 else scores - scores.mean()
        for x in scores.tolist():
            self.count += 1
            delta = x - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (x - self.mean)
        std = math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else 1.0
        return (scores - self.mean) / torch.tensor(std + 1e-8, dtype=scores.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "mean": self.mean, "m2": self.m2}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.mean, self.m2 = state["count"], state["mean"], state["m2"]


def shape_scores(raw, has_eos, normalizer: ScoreNormalizer, cfg: Any):
    """The score PPO optimises: normalised, minus the missing-EOS penalty, clipped."""
    scores = normalizer(raw)
    if cfg.missing_eos_penalty is not None:
        scores = scores - cfg.missing_eos_penalty * (~has_eos).float()
    if cfg.score_clip is not None:
        scores = scores.clamp(-cfg.score_clip, cfg.score_clip)
    return scores
