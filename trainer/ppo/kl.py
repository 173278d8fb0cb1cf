"""The KL penalty and the controllers that set its coefficient.

Per response token t, with r_t = log π(x_t) − log π_ref(x_t) for the token the policy
sampled, the penalty is β·k(r_t), where k is

* k1: r_t (unbiased for KL(π‖π_ref), can be negative per token), or
* k3: (e^(−r_t) − 1) + r_t (unbiased, never negative, lower variance) — Schulman (2020).

Summed over a response, either estimates the KL of the whole response (the chain rule
makes sequence KL the sum of per-token KLs); that sum, averaged over the batch, is the
"measured KL" that is logged as ``objective/kl`` and that the adaptive controller reads.

Controllers (Ziegler et al. 2019, "Fine-Tuning Language Models from Human Preferences"):

* fixed: β stays at ``kl_coef``;
* adaptive: with target KL_target and horizon H (in responses), after each batch of n
  responses with measured KL,  e = clip(KL / KL_target − 1, −0.2, 0.2)  and
  β ← β · (1 + e · n / H).  β rises while the policy is further from the reference than the
  target and falls while it is closer.
"""

from __future__ import annotations

from typing import Any

from trainer.logprobs import kl_estimate


def kl_penalty(logp, ref_logp, estimator: str):
    """Per-token KL estimate (the penalty before β) from the sampled tokens' log-probs."""
    return kl_estimate(logp, ref_logp, estimator)


class FixedKLController:
    """β = kl_coef throughout."""

    def __init__(self, kl_coef: float):
        self.value = kl_coef

    def update(self, measured_kl: float, n_responses: int) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = state["value"]


class AdaptiveKLController(FixedKLController):
    """β moved proportionally towards keeping the measured KL near `target` (Ziegler et al.)."""

    def __init__(self, kl_coef: float, target: float, horizon: int):
        super().__init__(kl_coef)
        self.target = target
        self.horizon = horizon

    def update(self, measured_kl: float, n_responses: int) -> None:
        error = min(max(measured_kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_responses / self.horizon


def make_controller(cfg: Any) -> FixedKLController:
    if cfg.kl_target is None:
        return FixedKLController(cfg.kl_coef)
    return AdaptiveKLController(cfg.kl_coef, cfg.kl_target, cfg.kl_horizon)
