"""Rollouts: which prompts a step uses, sampling responses, cutting them at EOS.

Every step's randomness is derived from (seed, step): the prompts it takes (a fresh
shuffle of the prompt file per pass) and the sampling seed. A run resumed from a
checkpoint therefore samples exactly what the uninterrupted run would have.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch

from trainer.runtime import autocast


def step_seed(seed: int, step: int, salt: int = 0) -> int:
    return (seed * 1_000_003 + step * 7_919 + salt) % 2**63


def prompt_indices(n_prompts: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Indices of the prompts for `step` (1-based): consecutive slices of per-pass shuffles."""
    orders: dict[int, list[int]] = {}
    out = []
    for k in range((step - 1) * batch_size, step * batch_size):
        epoch, offset = divmod(k, n_prompts)
        if epoch not in orders:
            orders[epoch] = list(range(n_prompts))
            random.Random(step_seed(seed, epoch, salt=1)).shuffle(orders[epoch])
        out.append(orders[epoch][offset])
    return out


@dataclass
class Rollout:
    """One batch of sampled responses. Queries are left-padded to P tokens, responses
    right-padded to T tokens; ``response_mask`` is 1 through the first EOS and 0 after."""

    query_ids: torch.Tensor  # [B, P]
    query_mask: torch.Tensor  # [B, P]
    response_ids: torch.Tensor  # [B, T]
    response_mask: torch.Tensor  # [B, T]
    has_eos: torch.Tensor  # [B] bool
    completions: list[str]  # decoded responses, without EOS

    @property
    def ids(self) -> torch.Tensor:
        return torch.cat([self.query_ids, self.response_ids], dim=1)

    @property
    def mask(self) -> torch.Tensor:
        return torch.cat([self.query_mask, self.response_mask], dim=1)

    @property
    def start(self) -> int:
        return self.query_ids.shape[1]


def cut_at_eos(response_ids: torch.Tensor, eos_id: int, pad_id: int):
    """(ids with padding after the first EOS, mask through the first EOS, has-EOS per row).

    The first response token is always kept, so no response is empty."""
    is_eos = response_ids == eos_id
    after_eos = (is_eos.long().cumsum(1) - is_eos.long()) > 0
    return response_ids.masked_fill(after_eos, pad_id), (~after_eos).long(), is_eos.any(1)


def sample(model, tokenizer, texts: list[str], cfg: Any, seed: int, device: str) -> Rollout:
    """Sample one response per text in one batched generate() call with the KV cache."""
    tokenizer.padding_side = "left"
    enc = tokenizer(texts, return_tensors="pt", padding=True).to(device)
    tokenizer.padding_side = "right"
    torch.manual_seed(seed)
    with torch.no_grad(), autocast(cfg):
        out = model.generate(
            **enc,
            max_new_tokens=cfg.max_new_tokens,
            do_sample=True,
            temperature=cfg.temperature,
            top_k=cfg.top_k,
            top_p=cfg.top_p,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            use_cache=True,
        )
    start = enc["input_ids"].shape[1]
    response_ids, response_mask, has_eos = cut_at_eos(out[:, start:], tokenizer.eos_token_id, tokenizer.pad_token_id)
    kept = [row[m.bool()].tolist() for row, m in zip(response_ids, response_mask, strict=True)]
    completions = tokenizer.batch_decode(kept, skip_special_tokens=True)
    return Rollout(enc["input_ids"], enc["attention_mask"], response_ids, response_mask, has_eos, completions)
