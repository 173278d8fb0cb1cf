"""Guards: did a finished PPO, DPO or RLOO run keep talking like its base?

Reward can rise while the policy collapses to one-word answers, loses its vocabulary or
drifts far from the base (docs/ppo.md, "Guards"). After training, the policy and its
reference — the same model with the adapter disabled — each sample one completion for the
first ``guard_prompts`` distinct prompts, with the same settings and seeds. The base also
samples the same prompts twice more with other seeds; the words of those samples and of
the prompts are the base's vocabulary, against which both sides' compared samples are
measured, so the base's own figure is measured the same way as the policy's.

The figures and checks go into summary.json under "guards" (see :func:`report`):

* length: mean words per completion ≥ 5, and ≥ half the base's;
* vocabulary: share of the policy's words in the base's vocabulary ≥ 90% of the base's own
  share (a tiny base samples many one-off words, so its own share is well below 1);
* diversity: distinct-2 ≥ half the base's;
* kl: mean exact KL(policy ‖ base) per completion (nats, summed over tokens) ≤ the run's
  ``kl_target`` when it has one, else only reported.

This module imports only the standard library at the top (configs import ``GuardFields``);
torch and the sampling helpers are imported inside :func:`measure`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trainer.config import help_field

MIN_WORDS = 5.0
LENGTH_SHARE = 0.5  # of the base's mean length
VOCABULARY_SHARE = 0.9  # of the base's own in-vocabulary share
DIVERSITY_SHARE = 0.5  # of the base's distinct-2
VOCABULARY_PASSES = 2  # extra base samples per prompt that make its vocabulary
CHECKS = ("length", "vocabulary", "diversity", "kl")


@dataclass
class GuardFields:
    """The guard setting shared by the methods that make a new policy by RL or preferences."""

    guard_prompts: int = help_field(
        32,
        "Guards after training: the policy and its base (adapter disabled) each sample this many distinct "
        "prompts with the same settings and seeds; length, vocabulary, distinct-2 and exact KL to the base "
        "and their checks go into summary.json 'guards' (docs/ppo.md). 0 turns the guards off.",
        ge=0, le=10_000,
    )


# ---------------------------------------------------------------------------------------------
# Figures and rules (pure Python)


def prompt_text(prompt: Any) -> str:
    """A prompt's text: the string, or the contents of its chat messages."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(str(m.get("content", "")) for m in prompt if isinstance(m, dict))


def distinct_prompts(prompts: list[Any], limit: int) -> list[Any]:
    """The first ``limit`` distinct prompts, in order (DPO pairs repeat their prompt)."""
    seen, out = set(), []
    for p in prompts:
        key = json.dumps(p, sort_keys=True, ensure_ascii=False)
        if key not in seen:
            seen.add(key)
            out.append(p)
            if len(out) == limit:
                break
    return out


def vocabulary(texts: list[str]) -> set[str]:
    from trainer.textmetrics import words

    return {w for t in texts for w in words(t)}


def figures(texts: list[str], vocab: set[str]) -> dict[str, float]:
    """Mean words per text, distinct-2, and the share of all words that are in ``vocab``."""
    from trainer.textmetrics import distinct_n, words

    all_words = [w for t in texts for w in words(t)]
    return {
        "length_words": len(all_words) / len(texts) if texts else 0.0,
        "distinct_2": distinct_n(texts, 2),
        "in_vocab": sum(w in vocab for w in all_words) / len(all_words) if all_words else 0.0,
    }


def _check(name: str, ok: bool, value: float, limit: float | None, reason: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "value": value, "limit": limit, "reason": None if ok else reason}


def checks(policy: dict[str, float], base: dict[str, float], kl: float, kl_target: float | None) -> list[dict[str, Any]]:
    """The four checks of the policy's figures against the base's (see the module docstring)."""
    length, base_length = policy["length_words"], base["length_words"]
    length_limit = max(MIN_WORDS, LENGTH_SHARE * base_length)
    if length < MIN_WORDS:
        length_reason = f"answers collapsed to {length:.1f} words on average (fewer than {MIN_WORDS:g})"
    else:
        length_reason = f"answers shrank to {length:.1f} words on average, under half the base's {base_length:.1f}"
    vocab_limit = VOCABULARY_SHARE * base["in_vocab"]
    d2_limit = DIVERSITY_SHARE * base["distinct_2"]
    if length < 2:
        d2_reason = f"distinct-2 fell to {policy['distinct_2']:.3f} (answers of a word or none have no word pairs to vary)"
    else:
        d2_reason = (f"distinct-2 fell to {policy['distinct_2']:.3f}, under half the base's {base['distinct_2']:.3f} "
                     "(the answers repeat themselves)")
    return [
        _check("length", length >= length_limit, length, length_limit, length_reason),
        _check(
            "vocabulary", policy["in_vocab"] >= vocab_limit, policy["in_vocab"], vocab_limit,
            f"only {policy['in_vocab']:.0%} of the policy's words are in the base's vocabulary "
            f"(the base's own share is {base['in_vocab']:.0%}; at least {vocab_limit:.0%} needed)",
        ),
        _check("diversity", policy["distinct_2"] >= d2_limit, policy["distinct_2"], d2_limit, d2_reason),
        _check(
            "kl", kl_target is None or kl <= kl_target, kl, kl_target,
            f"KL to the base is {kl:.2f} nats per answer, over the run's target of {kl_target:g}"
            if kl_target is not None else "",
        ),
    ]


def report(
    *, prompts: list[Any], policy_texts: list[str], base_texts: list[str], vocabulary_texts: list[str],
    kls: list[float], kl_target: float | None,
) -> dict[str, Any]:
    """summary.json's "guards" from the samples: ``policy_texts`` and ``base_texts`` answer
    ``prompts`` one each (same seeds); the base's vocabulary is the words of ``prompts`` and
    of ``vocabulary_texts`` (more base samples); ``kls`` is the exact KL of each policy sample."""
    vocab = vocabulary([prompt_text(p) for p in prompts] + vocabulary_texts)
    policy, base = figures(policy_texts, vocab), figures(base_texts, vocab)
    kl = sum(kls) / len(kls) if kls else 0.0
    found = checks(policy, base, kl, kl_target)
    reasons = [c["reason"] for c in found if not c["ok"]]
    return {
        "prompts": len(prompts), "policy": policy, "base": base, "kl": kl, "kl_target": kl_target,
        "checks": found, "flagged": bool(reasons), "reasons": reasons,
    }


# ---------------------------------------------------------------------------------------------
# Sampling (torch)


def measure(
    model, tokenizer, prompts: list[Any], sampling: Any, *, limit: int, kl_target: float | None, seed: int, device: str,
) -> dict[str, Any] | None:
    """Sample the policy (``model`` as it is) and its base (``model`` with its adapter disabled)
    on the first ``limit`` distinct ``prompts``, rendered and sampled with ``sampling`` (any
    object with the SamplingFields), and return :func:`report`. None when ``limit`` is 0."""
    from trainer.evaluate import sequence_kl
    from trainer.generate import render_all, sample_completions
    from trainer.logprobs import adapter_disabled

    chosen = distinct_prompts(prompts, limit) if limit > 0 else []
    if not chosen:
        return None
    texts = render_all(tokenizer, chosen, sampling)
    base_ctx = lambda: adapter_disabled(model)  # noqa: E731 - sequence_kl takes a context factory
    policy_samples = sample_completions(model, tokenizer, texts, sampling, seed, device)
    with base_ctx():
        base_samples = sample_completions(model, tokenizer, texts, sampling, seed, device)
        extra = [
            s["completion"]
            for k in range(1, VOCABULARY_PASSES + 1)
            for s in sample_completions(model, tokenizer, texts, sampling, seed + k, device)
        ]
    kls = sequence_kl(model, model, base_ctx, policy_samples, tokenizer.pad_token_id, device, sampling.batch_size)
    return report(
        prompts=chosen, policy_texts=[s["completion"] for s in policy_samples],
        base_texts=[s["completion"] for s in base_samples], vocabulary_texts=extra,
        kls=[k["kl"] for k in kls], kl_target=kl_target,
    )
