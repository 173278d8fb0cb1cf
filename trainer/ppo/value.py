"""The models of a PPO run, all on one copy of the base weights.

* policy    = base + LoRA adapter "default" (trainable; the adapter the run saves);
* reference = the same base with every adapter disabled (no second copy in memory);
* value     = base + its own LoRA adapter "value" (trainable) + a linear head from the last
              hidden state to a scalar (trainable).

Why a second adapter and not a head on the policy's hidden states: the value loss then
never moves the policy's weights (no interference between the two objectives, as with the
separate value model of the N-details implementation), yet the base is stored once. The
cost is one more forward and backward pass of the base per minibatch and a second LoRA
adapter's parameters and optimizer state: 2 × (adapter + 2 AdamW moments) + the head,
against a whole second model (weights + gradients + AdamW moments) for a separate critic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

POLICY, VALUE = "default", "value"


class ValueHead(torch.nn.Module):
    """hidden state -> scalar value; small random weights, zero bias (values start near 0)."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.normal_(self.linear.weight, std=1.0 / (hidden_size + 1) ** 0.5)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden).squeeze(-1)


@dataclass(frozen=True)
class Adapters:
    """The policy and value adapters on one base, and the switches between the three models.

    Built once by :func:`add_adapters`. Switching an adapter on (PEFT's ``set_adapter``) or
    all of them off (``disable_adapter``) freezes the adapters that are off, yet both
    adapters learn from one backward pass: so each switch ends by making ``trainable`` —
    the parameters that train, as ``add_adapters`` left them — trainable again.
    """

    model: Any  # the PeftModel: base + POLICY adapter (active) + VALUE adapter
    lora_layers: tuple[Any, ...]  # every LoRA layer, switched one by one
    trainable: tuple[tuple[str, torch.nn.Parameter], ...]  # both adapters' parameters, by name

    @contextmanager
    def value_active(self) -> Iterator[None]:
        """The value adapter active for the block, then the policy's again.

        Layer by layer rather than PeftModel.set_adapter: that walks the whole model and took
        ~13 ms per switch on the tiny model (two switches per value pass)."""
        for layer in self.lora_layers:
            layer.set_adapter(VALUE)
        try:
            yield
        finally:
            for layer in self.lora_layers:
                layer.set_adapter(POLICY)
            self._train_both()

    @contextmanager
    def reference(self) -> Iterator[None]:
        """The reference: the base with every adapter disabled (PEFT's disable_adapter)."""
        from trainer.logprobs import adapter_disabled

        try:
            with adapter_disabled(self.model):
                yield
        finally:
            self._train_both()

    def _train_both(self) -> None:
        for _, param in self.trainable:
            param.requires_grad_(True)


def add_adapters(base, lora_config) -> Adapters:
    """The base with a trainable policy adapter and a trainable value adapter (policy active)."""
    from peft import get_peft_model
    from peft.tuners.tuners_utils import BaseTunerLayer

    model = get_peft_model(base, lora_config)
    model.add_adapter(VALUE, lora_config)
    for name, param in model.named_parameters():
        if f".{VALUE}." in name:  # add_adapter leaves an inactive adapter frozen
            param.requires_grad_(True)
    lora_layers = tuple(m for m in model.modules() if isinstance(m, BaseTunerLayer))
    trainable = tuple((n, p) for n, p in model.named_parameters() if p.requires_grad)
    return Adapters(model, lora_layers, trainable)


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that follow the attention mask (left padding keeps real tokens at 0, 1, ...)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def response_length(ids: torch.Tensor, start: int) -> int:
    """T: the response tokens of ids [B, P + T] (a response starts at position ``start`` = P)."""
    return ids.shape[1] - start


def before_each_response_token(start: int) -> slice:
    """Positions P − 1 … P + T − 2: the one before each response token. A causal LM's
    output there predicts that token, and the value read there is the value of the
    context in which the policy chose it. (The last position precedes no response token.)"""
    return slice(start - 1, -1)


def response_logits(model, ids: torch.Tensor, mask: torch.Tensor, start: int, temperature: float) -> torch.Tensor:
    """Logits [B, T, V] for the T response tokens at ids[:, start:], divided by the sampling
    temperature (so log-probs are those of the distribution the tokens were sampled from)."""
    from_before_first_response_token = response_length(ids, start) + 1  # logits of the last T + 1 positions
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False,
                logits_to_keep=from_before_first_response_token)
    return out.logits[:, :-1].float() / temperature  # those positions but the last: the ones before each response token


def response_values(adapters: Adapters, head: ValueHead, ids: torch.Tensor, mask: torch.Tensor, start: int) -> torch.Tensor:
    """Values [B, T]: V_t is read from the hidden state before response token t (with the
    value adapter active), i.e. the value of the context the policy chose token t in."""
    base = adapters.model.get_base_model()
    backbone = getattr(base, base.base_model_prefix)
    with adapters.value_active():
        hidden = backbone(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False)
    return head(hidden.last_hidden_state[:, before_each_response_token(start)].float()).float()  # float32 under autocast too


def logprobs_and_entropy(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-prob of each sampled token and the entropy of each position's distribution: [B, T]."""
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy
