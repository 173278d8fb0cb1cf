"""From a scored rollout to advantages, and the clipped PPO update on them.

``prepare``: with no gradients, the policy's and the reference's log-probs of the sampled
tokens and the value of every response position; per-token rewards = −β·KL estimate on
every token, plus the score on the last one (EOS, or the last token when cut off); GAE;
whitened advantages.

``update``: ``ppo_epochs`` passes over the batch in shuffled minibatches; each step
minimises

    L = mean_t max(−A_t ρ_t, −A_t clip(ρ_t, 1 ± ε))                               (policy)
      + c_v · ½ mean_t max((V_t − R_t)², (clip(V_t, V_t^old ± ε_v) − R_t)²)      (value)
      − c_e · mean_t H_t                                                          (entropy)

with ρ_t = π(x_t) / π_old(x_t), means over response tokens only, then clips the gradient
norm and steps AdamW.

With several processes (``world``, trainer.distributed) each holds its slice of the batch:
whitening and the logged means are over the whole batch, each minibatch is
``minibatch_size / N`` rows of every process, each loss is this process's share of the mean
over all its processes' tokens, and the gradients are averaged over the processes before
clipping — so an update is the one a single process makes on the same minibatch.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from trainer.distributed import World
from trainer.ppo.gae import gae, masked_mean, masked_whiten
from trainer.ppo.kl import kl_penalty
from trainer.ppo.rollout import Rollout
from trainer.ppo.value import Adapters, logprobs_and_entropy, response_logits, response_values
from trainer.runtime import autocast


def per_response(x: torch.Tensor) -> torch.Tensor:
    """Summed over each response's tokens: [B, T] → [B]."""
    return x.sum(1)


def in_order(n: int, size: int, device) -> tuple[torch.Tensor, ...]:
    """Row indices 0 … n − 1 in consecutive groups of `size`."""
    return torch.arange(n, device=device).split(size)


def shuffled(n: int, size: int, device, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Row indices 0 … n − 1, shuffled with `generator` (on the CPU), in groups of `size`."""
    return torch.randperm(n, generator=generator).to(device).split(size)


def add_at_last_token(rewards: torch.Tensor, response_mask: torch.Tensor, scores: torch.Tensor) -> None:
    """Add each response's score to its last kept token (its EOS, or the last one when cut off)."""
    rows = torch.arange(len(rewards), device=rewards.device)
    last_kept = per_response(response_mask) - 1
    rewards[rows, last_kept] += scores


@torch.no_grad()
def prepare(adapters: Adapters, head, rollout: Rollout, scores: torch.Tensor, kl_coef: float, cfg: Any,
            world: World = World()):  # noqa: B008 - frozen, never changed
    """(tensors for `update`, the step's objective/* metrics, over every process's responses)."""
    total = world.sum if world.several else None
    model = adapters.model
    ids, mask, start, rmask = rollout.ids, rollout.mask, rollout.start, rollout.response_mask
    logps, ref_logps, values = [], [], []
    for rows in in_order(len(ids), cfg.minibatch_size, ids.device):
        tokens = rollout.response_ids[rows]
        with autocast(cfg):  # bf16 passes where the run asks for them; logits and values come back float32
            logits = response_logits(model, ids[rows], mask[rows], start, cfg.temperature)
            with adapters.reference():
                ref_logits = response_logits(model, ids[rows], mask[rows], start, cfg.temperature)
            values.append(response_values(adapters, head, ids[rows], mask[rows], start))
        logps.append(logprobs_and_entropy(logits, tokens)[0])
        ref_logps.append(logprobs_and_entropy(ref_logits, tokens)[0])
    logp, ref_logp, value = torch.cat(logps), torch.cat(ref_logps), torch.cat(values)

    maskf = rmask.float()
    kl = kl_penalty(logp, ref_logp, cfg.kl_estimator) * maskf
    non_score = -kl_coef * kl
    rewards = non_score.clone()
    add_at_last_token(rewards, rmask, scores)
    if cfg.whiten_rewards:
        rewards = masked_whiten(rewards, rmask, shift_mean=False, total=total) * maskf
    advantages, returns = gae(rewards, value, rmask, cfg.gamma, cfg.lam)
    if cfg.whiten_advantages:
        advantages = masked_whiten(advantages, rmask, total=total) * maskf

    metrics = {
        "objective/kl": per_response(kl).mean(),
        "objective/kl_k1": per_response(kl_penalty(logp, ref_logp, "k1") * maskf).mean(),
        "objective/kl_k3": per_response(kl_penalty(logp, ref_logp, "k3") * maskf).mean(),
        "objective/entropy": per_response(-logp * maskf).mean(),
        "objective/non_score_reward": per_response(non_score).mean(),
        "objective/rlhf_reward": (scores + per_response(non_score)).mean(),
        "objective/scores": scores.mean(),
    }
    names = list(metrics)  # per-response means of equal shards: their mean over the processes is the batch's
    metrics = dict(zip(names, (world.sum(torch.stack([metrics[k].float() for k in names])) / world.size).tolist(),
                       strict=True))
    metrics["val/values_mean"] = float(masked_mean(value, rmask, total))
    metrics["val/returns_mean"] = float(masked_mean(returns, rmask, total))
    batch = {
        "ids": ids, "mask": mask, "response_ids": rollout.response_ids, "response_mask": rmask,
        "logp": logp, "values": value, "advantages": advantages, "returns": returns,
    }
    return batch, metrics


def ppo_losses(logp, entropy, vpred, mb: dict[str, torch.Tensor], cfg: Any, tokens=None) -> dict[str, torch.Tensor]:
    """The clipped policy loss, the clipped value loss, the entropy, and diagnostics.

    ``tokens``: the divisor of the means (default: this minibatch's response tokens). With
    several processes it is their mean count, so a process's loss is its share of the mean
    over all their tokens, times the number of processes (the mean over the processes of
    each figure, and of its gradient, is then that of one process on the whole minibatch)."""
    mask, adv, returns, old_values = mb["response_mask"], mb["advantages"], mb["returns"], mb["values"]

    def mean(x: torch.Tensor) -> torch.Tensor:
        return masked_mean(x, mask) if tokens is None else (x * mask.to(x.dtype)).sum() / tokens

    logratio = logp - mb["logp"]
    ratio = torch.exp(logratio)
    pg_unclipped = -adv * ratio
    pg_clipped = -adv * torch.clamp(ratio, 1.0 - cfg.cliprange, 1.0 + cfg.cliprange)
    policy_loss = mean(torch.max(pg_unclipped, pg_clipped))
    v_clipped = old_values + torch.clamp(vpred - old_values, -cfg.cliprange_value, cfg.cliprange_value)
    vf_unclipped, vf_clipped = (vpred - returns) ** 2, (v_clipped - returns) ** 2
    value_loss = 0.5 * mean(torch.max(vf_unclipped, vf_clipped))
    mean_entropy = mean(entropy)
    return {
        "loss": policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * mean_entropy,
        "loss/policy_avg": policy_loss,
        "loss/value_avg": value_loss,
        "policy/entropy_avg": mean_entropy,
        "policy/approxkl_avg": 0.5 * mean(logratio**2),
        "policy/clipfrac_avg": mean((pg_clipped > pg_unclipped).float()),
        "val/clipfrac_avg": mean((vf_clipped > vf_unclipped).float()),
        "val/ratio": mean(ratio),
    }


def update(adapters: Adapters, head, optimizer, params, batch: dict[str, torch.Tensor], start: int, cfg: Any,
           generator, world: World = World()) -> dict[str, float]:  # noqa: B008 - frozen, never changed
    """ppo_epochs × (batch / minibatch_size) optimizer steps; the mean of each diagnostic."""
    stats: dict[str, list[float]] = defaultdict(list)
    for _ in range(cfg.ppo_epochs):
        for rows in shuffled(len(batch["ids"]), cfg.minibatch_size // world.size, batch["ids"].device, generator):
            mb = {k: v[rows] for k, v in batch.items()}
            tokens = world.sum(mb["response_mask"].sum().float()).clamp(min=1) / world.size if world.several else None
            with autocast(cfg):  # the forward passes only; backward runs outside, as autocast asks
                logits = response_logits(adapters.model, mb["ids"], mb["mask"], start, cfg.temperature)
                vpred = response_values(adapters, head, mb["ids"], mb["mask"], start)
            logp, entropy = logprobs_and_entropy(logits, mb["response_ids"])
            losses = ppo_losses(logp, entropy, vpred, mb, cfg, tokens)
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            world.average_gradients(params)
            stats["grad_norm"].append(float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)))
            optimizer.step()
            keys = [k for k in losses if k != "loss"]
            figures = world.sum(torch.stack([losses[k].detach().float() for k in keys])) / world.size
            for key, value in zip(keys, figures.tolist(), strict=True):
                stats[key].append(value)
    out = {k: sum(v) / len(v) for k, v in stats.items()}
    ratios = torch.tensor(stats["val/ratio"])
    out["val/ratio_var"] = float(ratios.var()) if len(ratios) > 1 else 0.0
    return out
