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

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

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


def add_adapters(base, lora_config):
    """The base with a trainable policy adapter and a trainable value adapter (policy active)."""
    from peft import get_peft_model

    model = get_peft_model(base, lora_config)
    model.add_adapter(VALUE, lora_config)
    for name, param in model.named_parameters():
        if f".{VALUE}." in name:  # add_adapter leaves an inactive adapter frozen
            param.requires_grad_(True)
    return model


def trainable_parameters(model) -> list[tuple[str, torch.nn.Parameter]]:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


_ADAPTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _lora_layers_and_trainable(model) -> tuple[list, list[torch.nn.Parameter]]:
    """The LoRA layers and the trainable parameters, as they were at first use (after add_adapters)."""
    if model not in _ADAPTERS:
        from peft.tuners.tuners_utils import BaseTunerLayer

        layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer)]
        _ADAPTERS[model] = (layers, [p for _, p in trainable_parameters(model)])
    return _ADAPTERS[model]


@contextmanager
def use_adapter(model, name: str) -> Iterator[None]:
    """Make `name` the active adapter of every LoRA layer for the block, then the policy's.

    Layer by layer rather than PeftModel.set_adapter: that walks the whole model and took
    ~13 ms per switch on the tiny model (two switches per value pass). Switching freezes
    the inactive adapter, so every parameter that was trainable is made trainable again
    afterwards: both adapters learn from one backward pass."""
    layers, trainable = _lora_layers_and_trainable(model)
    for layer in layers:
        layer.set_adapter(name)
    try:
        yield
    finally:
        for layer in layers:
            layer.set_adapter(POLICY)
        for p in trainable:
            p.requires_grad_(True)


@contextmanager
def reference(model) -> Iterator[None]:
    """The reference: the base with every adapter disabled (PEFT's disable_adapter). Its
    exit re-enables only the active adapter's gradients; the value adapter's come back too."""
    from trainer.logprobs import adapter_disabled

    _, trainable = _lora_layers_and_trainable(model)
    try:
        with adapter_disabled(model):
            yield
    finally:
        for p in trainable:
            p.requires_grad_(True)


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that follow the attention mask (left padding keeps real tokens at 0, 1, ...)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def response_logits(model, ids: torch.Tensor, mask: torch.Tensor, start: int, temperature: float) -> torch.Tensor:
    """Logits [B, T, V] for the T response tokens at ids[:, start:], divided by the sampling
    temperature (so log-probs are those of the distribution the tokens were sampled from)."""
    n = ids.shape[1] - start
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False, logits_to_keep=n + 1)
    return out.logits[:, :-1].float() / temperature


def response_values(model, head: ValueHead, ids: torch.Tensor, mask: torch.Tensor, start: int) -> torch.Tensor:
    """Values [B, T]: V_t is read from the hidden state before response token t (with the
    value adapter active), i.e. the value of the context the policy chose token t in."""
    base = model.get_base_model()
    backbone = getattr(base, base.base_model_prefix)
    with use_adapter(model, VALUE):
        hidden = backbone(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False)
    return head(hidden.last_hidden_state[:, start - 1 : -1].float())


def logprobs_and_entropy(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-prob of each sampled token and the entropy of each position's distribution: [B, T]."""
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy
