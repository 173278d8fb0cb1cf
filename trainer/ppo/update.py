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
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from trainer.ppo.gae import gae, masked_mean, masked_whiten
from trainer.ppo.kl import kl_penalty
from trainer.ppo.rollout import Rollout
from trainer.ppo.value import logprobs_and_entropy, reference, response_logits, response_values


@torch.no_grad()
def prepare(model, head, rollout: Rollout, scores: torch.Tensor, kl_coef: float, cfg: Any):
    """(tensors for `update`, the step's objective/* metrics)."""
    ids, mask, start, rmask = rollout.ids, rollout.mask, rollout.start, rollout.response_mask
    logps, ref_logps, values = [], [], []
    for chunk in torch.arange(len(ids), device=ids.device).split(cfg.minibatch_size):
        tokens = rollout.response_ids[chunk]
        logits = response_logits(model, ids[chunk], mask[chunk], start, cfg.temperature)
        logps.append(logprobs_and_entropy(logits, tokens)[0])
        with reference(model):
            ref_logits = response_logits(model, ids[chunk], mask[chunk], start, cfg.temperature)
        ref_logps.append(logprobs_and_entropy(ref_logits, tokens)[0])
        values.append(response_values(model, head, ids[chunk], mask[chunk], start))
    logp, ref_logp, value = torch.cat(logps), torch.cat(ref_logps), torch.cat(values)

    maskf = rmask.float()
    kl = kl_penalty(logp, ref_logp, cfg.kl_estimator) * maskf
    non_score = -kl_coef * kl
    rewards = non_score.clone()
    last = rmask.sum(1) - 1
    rewards[torch.arange(len(ids), device=ids.device), last] += scores
    if cfg.whiten_rewards:
        rewards = masked_whiten(rewards, rmask, shift_mean=False) * maskf
    advantages, returns = gae(rewards, value, rmask, cfg.gamma, cfg.lam)
    if cfg.whiten_advantages:
        advantages = masked_whiten(advantages, rmask) * maskf

    seq_kl = kl.sum(1)
    metrics = {
        "objective/kl": seq_kl.mean(),
        "objective/kl_k1": (kl_penalty(logp, ref_logp, "k1") * maskf).sum(1).mean(),
        "objective/kl_k3": (kl_penalty(logp, ref_logp, "k3") * maskf).sum(1).mean(),
        "objective/entropy": (-logp * maskf).sum(1).mean(),
        "objective/non_score_reward": non_score.sum(1).mean(),
        "objective/rlhf_reward": (scores + non_score.sum(1)).mean(),
        "objective/scores": scores.mean(),
        "val/values_mean": masked_mean(value, rmask),
        "val/returns_mean": masked_mean(returns, rmask),
    }
    batch = {
        "ids": ids, "mask": mask, "response_ids": rollout.response_ids, "response_mask": rmask,
        "logp": logp, "values": value, "advantages": advantages, "returns": returns,
    }
    return batch, {k: float(v) for k, v in metrics.items()}


def ppo_losses(logp, entropy, vpred, mb: dict[str, torch.Tensor], cfg: Any) -> dict[str, torch.Tensor]:
    """The clipped policy loss, the clipped value loss, the entropy, and diagnostics."""
    mask, adv, returns, old_values = mb["response_mask"], mb["advantages"], mb["returns"], mb["values"]
    logratio = logp - mb["logp"]
    ratio = torch.exp(logratio)
    pg_unclipped = -adv * ratio
    pg_clipped = -adv * torch.clamp(ratio, 1.0 - cfg.cliprange, 1.0 + cfg.cliprange)
    policy_loss = masked_mean(torch.max(pg_unclipped, pg_clipped), mask)
    v_clipped = old_values + torch.clamp(vpred - old_values, -cfg.cliprange_value, cfg.cliprange_value)
    vf_unclipped, vf_clipped = (vpred - returns) ** 2, (v_clipped - returns) ** 2
    value_loss = 0.5 * masked_mean(torch.max(vf_unclipped, vf_clipped), mask)
    mean_entropy = masked_mean(entropy, mask)
    return {
        "loss": policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * mean_entropy,
        "loss/policy_avg": policy_loss,
        "loss/value_avg": value_loss,
        "policy/entropy_avg": mean_entropy,
        "policy/approxkl_avg": 0.5 * masked_mean(logratio**2, mask),
        "policy/clipfrac_avg": masked_mean((pg_clipped > pg_unclipped).float(), mask),
        "val/clipfrac_avg": masked_mean((vf_clipped > vf_unclipped).float(), mask),
        "val/ratio": masked_mean(ratio, mask),
    }


def update(model, head, optimizer, params, batch: dict[str, torch.Tensor], start: int, cfg: Any, generator) -> dict[str, float]:
    """ppo_epochs × (batch / minibatch_size) optimizer steps; the mean of each diagnostic."""
    stats: dict[str, list[float]] = defaultdict(list)
    n = len(batch["ids"])
    for _ in range(cfg.ppo_epochs):
        for idx in torch.randperm(n, generator=generator).to(batch["ids"].device).split(cfg.minibatch_size):
            mb = {k: v[idx] for k, v in batch.items()}
            logits = response_logits(model, mb["ids"], mb["mask"], start, cfg.temperature)
            logp, entropy = logprobs_and_entropy(logits, mb["response_ids"])
            vpred = response_values(model, head, mb["ids"], mb["mask"], start)
            losses = ppo_losses(logp, entropy, vpred, mb, cfg)
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            stats["grad_norm"].append(float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)))
            optimizer.step()
            for key, value in losses.items():
                if key != "loss":
                    stats[key].append(float(value.detach()))
    out = {k: sum(v) / len(v) for k, v in stats.items()}
    ratios = torch.tensor(stats["val/ratio"])
    out["val/ratio_var"] = float(ratios.var()) if len(ratios) > 1 else 0.0
    return out
