"""The reference is the base itself: with the adapters disabled the policy's logits are the
base model's, and the value adapter never changes the policy's logits."""

import pytest

pytestmark = pytest.mark.trainer


def test_it_gives_the_base_logits_with_adapters_disabled_and_keeps_the_value_adapter_out_of_the_policy(tiny_models):
    import torch

    from trainer.config import LoraFields
    from trainer.models import load_causal_lm, load_tokenizer, lora_config, resolve_model
    from trainer.ppo.value import (
        VALUE,
        ValueHead,
        add_adapters,
        response_logits,
        response_values,
    )

    ref = resolve_model("tiny")
    tokenizer = load_tokenizer(ref)
    base = load_causal_lm(ref).eval()
    torch.manual_seed(0)
    adapters = add_adapters(load_causal_lm(ref), lora_config(LoraFields(), "CAUSAL_LM"))
    model = adapters.model.eval()
    with torch.no_grad():  # trained-looking adapters: LoRA B starts at zero, so perturb both
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    enc = tokenizer(["<|user|>What is the sun?<|endoftext|><|assistant|>The sun is a", "Question: Why?"],
                    return_tensors="pt", padding=True)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    head = ValueHead(model.config.hidden_size)

    with torch.no_grad():
        expected = response_logits(base, ids, mask, 1, 1.0)
        policy = response_logits(model, ids, mask, 1, 1.0)
        with adapters.reference():
            reference_logits = response_logits(model, ids, mask, 1, 1.0)
        values = response_values(adapters, head, ids, mask, 1)
        for name, param in model.named_parameters():
            if f".{VALUE}." in name:
                param.mul_(3.0)  # a different value adapter...
        policy_again = response_logits(model, ids, mask, 1, 1.0)
        values_again = response_values(adapters, head, ids, mask, 1)

    assert torch.allclose(reference_logits, expected, atol=1e-6)
    assert not torch.allclose(policy, expected, atol=1e-3)  # the policy adapter does change the logits
    assert torch.equal(policy_again, policy)  # ...leaves the policy's logits exactly as they were
    assert not torch.allclose(values_again, values, atol=1e-3)  # while the values do move
    assert all(p.requires_grad for n, p in model.named_parameters() if "lora_" in n)  # both adapters train
