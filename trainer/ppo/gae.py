"""Generalised advantage estimation and whitening over the response tokens of a batch.

Tensors are [batch, T] with a ``mask`` that is 1 on response tokens (through EOS) and 0 on
the padding after them; a response's last token is followed by a value of 0 (the episode
ends there).

``total`` (a sum over the processes of a launch, ``trainer.distributed.World.sum``) makes the
means and variances those of every process's entries: with the batch split over N processes
the whitening is the one a single process applies to the whole batch. Without gradients.
"""

from __future__ import annotations

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor, total=None) -> torch.Tensor:
    mask = mask.to(values.dtype)
    if total is None:
        return (values * mask).sum() / mask.sum().clamp(min=1)
    both = total(torch.stack([(values * mask).sum().detach(), mask.sum()]))
    return both[0] / both[1].clamp(min=1)


def masked_var(values: torch.Tensor, mask: torch.Tensor, total=None) -> torch.Tensor:
    """Unbiased variance of the masked entries (as TRL and the N-details implementation)."""
    mask = mask.to(values.dtype)
    n = mask.sum() if total is None else total(mask.sum())
    centred = (values - masked_mean(values, mask, total)) * mask
    squares = centred.pow(2).sum() if total is None else total(centred.pow(2).sum().detach())
    return squares / (n - 1).clamp(min=1)


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, total=None) -> torch.Tensor:
    """(x − mean) / std over the masked entries; with shift_mean=False the mean is kept."""
    mean, var = masked_mean(values, mask, total), masked_var(values, mask, total)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    return whitened if shift_mean else whitened + mean


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float):
    """Advantages and returns (Schulman et al. 2016):

        δ_t = r_t + γ V_{t+1} − V_t,    A_t = δ_t + γ λ A_{t+1},    returns_t = A_t + V_t

    with V and r taken as 0 on padding, so the step after a response's last token is worth 0.
    """
    mask = mask.to(values.dtype)
    rewards, values = rewards * mask, values * mask
    advantages = torch.zeros_like(values)
    next_value = torch.zeros_like(values[:, 0])
    running = torch.zeros_like(values[:, 0])
    for t in reversed(range(values.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
        next_value = values[:, t]
    advantages = advantages * mask
    return advantages, (advantages + values) * mask
