"""Token log-probabilities and KL between a policy and its reference (shared with PPO).

Conventions: ``input_ids`` is prompt + completion, right- or left-padded, with an
``attention_mask``; ``completion_mask`` marks the completion tokens (1) inside it. Position
t of the returned per-token tensors scores token t+1 given tokens ≤ t.

KL(π‖ref) per token, for tokens sampled from π, with r = log π(x) − log ref(x):

* exact: Σ_v π(v)(log π(v) − log ref(v)) over the whole vocabulary (needs both logits);
* k1 = r (unbiased, high variance, can be negative);
* k2 = r² / 2 (biased, low variance);
* k3 = (e^(−r) − 1) + r (unbiased, low variance, never negative) — Schulman, "Approximating
  KL divergence" (2020).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

ESTIMATORS = ("k1", "k2", "k3")


def forward_logits(model, input_ids, attention_mask):
    """Float32 logits for every position (position ids follow the mask, so left padding works)."""
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False)
    return out.logits.float()


def token_logprobs(logits, input_ids):
    """log p(x_{t+1} | x_≤t): shape [B, T-1]."""
    import torch

    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    return logp.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)


def exact_kl(logits_p, logits_q):
    """Σ_v p(v)(log p(v) − log q(v)) at every position: shape [B, T]."""
    import torch

    logp = torch.log_softmax(logits_p, dim=-1)
    logq = torch.log_softmax(logits_q, dim=-1)
    return (logp.exp() * (logp - logq)).sum(-1)


def kl_estimate(logp, logq, estimator: str = "k1"):
    """Per-token KL(p‖q) estimate from the log-probs of tokens sampled from p."""
    import torch

    r = logp - logq
    if estimator == "k1":
        return r
    if estimator == "k2":
        return 0.5 * r.pow(2)
    if estimator == "k3":
        return torch.expm1(-r) + r
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


def masked_mean(values, mask, dim=None):
    mask = mask.to(values.dtype)
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1)
    return (values * mask).sum(dim) / mask.sum(dim).clamp(min=1)


@contextmanager
def adapter_disabled(model) -> Iterator[None]:
    """Run a PEFT model as its base (the reference); a plain model runs as itself."""
    ctx = model.disable_adapter() if hasattr(model, "disable_adapter") and hasattr(model, "peft_config") else nullcontext()
    with ctx:
        yield
