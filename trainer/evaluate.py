"""``trainer evaluate``: how a policy compares with its reference on a prompts file.

For every prompt the policy and the reference each sample a completion (same seed and
settings). The summary reports:

* ``kl_per_token`` — exact KL(policy ‖ reference) over the vocabulary, averaged over the
  policy's completion tokens (also ``kl_per_sequence`` and the k1 / k3 estimates);
* ``reward_mean`` / ``reference_reward_mean`` / ``win_rate`` — with a reward model: mean
  score of each side's samples, and the share of prompts where the policy's sample scores
  higher (ties count half);
* ``rouge1/2/L`` — against the prompts file's ``reference`` answers, when it has them;
* ``agree_rouge1/2/L`` — the policy's completions against the reference's own (same seed and
  settings; with greedy decoding, against the answers the reference gives): how far the policy
  drifted from what its base said on these prompts (the forgetting report's ROUGE);
* ``perplexity`` / ``reference_perplexity`` — on held-out text, the catastrophic-forgetting
  check (a ratio well above 1 means the policy lost general language modelling);
* guards: mean completion length, EOS rate and distinct n-grams of the policy's samples.

``reference: base`` (the default) is the policy's own base with the adapter disabled.
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from trainer.config import ConfigError, RunConfig, help_field, path_field
from trainer.generate import MAX_NEW_TOKENS, SamplingFields
from trainer.runfolder import RunResult, open_run


@dataclass
class EvaluateConfig(SamplingFields, RunConfig):
    """Evaluate a policy against a reference on a prompts file."""

    policy: str = path_field("tiny", "Policy: a run folder (base + adapter), a model folder, tiny or a hub name.")
    adapter: str | None = path_field(None, "Adapter to apply on the policy.")
    reference: str = path_field(
        "base", "Reference: 'base' (the policy with its adapter disabled) or another model with the same vocabulary."
    )
    reward_model: str | None = path_field(None, "Reward model (a `trainer reward` run) for mean reward and win rate.")
    prompts: str | None = path_field(
        None, "Prompts JSONL ('prompt', optional 'reference' answer for ROUGE) or .txt. Required.", required=True
    )
    held_out: str | None = path_field(
        None, "Held-out text for perplexity: .txt (blank-line paragraphs) or JSONL 'text'.", aliases=("heldout",)
    )
    max_new_tokens: int = help_field(
        48, "Most tokens per completion (it stops earlier at EOS).", ge=1, le=MAX_NEW_TOKENS
    )
    max_length: int = help_field(512, "Longest held-out text window for perplexity, in tokens.", ge=2, le=1_048_576)


def sequence_kl(policy, reference, ref_ctx, samples: list[dict], pad_id: int, device: str, batch_size: int) -> list[dict]:
    """Per sample: exact KL summed over completion tokens, token count, k1 and k3 sums."""
    import torch

    from trainer.logprobs import exact_kl, forward_logits, kl_estimate, token_logprobs

    out = []
    for start in range(0, len(samples), batch_size):
        batch = samples[start : start + batch_size]
        seqs = [s["prompt_ids"] + s["completion_ids"] for s in batch]
        width = max(map(len, seqs))
        ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        comp = torch.zeros_like(ids)
        for i, (s, seq) in enumerate(zip(batch, seqs, strict=True)):
            ids[i, : len(seq)] = torch.tensor(seq)
            mask[i, : len(seq)] = 1
            comp[i, len(s["prompt_ids"]) : len(seq)] = 1
        ids, mask, comp = ids.to(device), mask.to(device), comp.to(device)
        with torch.no_grad():
            logits_p = forward_logits(policy, ids, mask)
            with ref_ctx():
                logits_q = forward_logits(reference, ids, mask)
        target = comp[:, 1:].float()  # position t predicts token t+1
        kl = exact_kl(logits_p[:, :-1], logits_q[:, :-1]) * target
        logp, logq = token_logprobs(logits_p, ids), token_logprobs(logits_q, ids)
        k1 = kl_estimate(logp, logq, "k1") * target
        k3 = kl_estimate(logp, logq, "k3") * target
        for i in range(len(batch)):
            out.append(
                {"kl": float(kl[i].sum()), "tokens": int(target[i].sum()), "k1": float(k1[i].sum()), "k3": float(k3[i].sum())}
            )
    return out


def perplexity(model, tokenizer, texts: list[str], max_length: int, device: str, batch_size: int) -> float:
    """exp(mean NLL per token) over the texts (each + EOS, first max_length tokens)."""
    import torch

    from trainer.logprobs import forward_logits, token_logprobs

    seqs = [tokenizer(t + tokenizer.eos_token)["input_ids"][:max_length] for t in texts]
    seqs = [s for s in seqs if len(s) > 1]
    nll, count = 0.0, 0
    for start in range(0, len(seqs), batch_size):
        batch = seqs[start : start + batch_size]
        width = max(map(len, batch))
        ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(batch):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        ids, mask = ids.to(device), mask.to(device)
        with torch.no_grad():
            logp = token_logprobs(forward_logits(model, ids, mask), ids)
        target = mask[:, 1:].float()
        nll -= float((logp * target).sum())
        count += int(target.sum())
    return math.exp(nll / max(count, 1))


def run(cfg: EvaluateConfig) -> RunResult:
    with open_run("evaluate", cfg, generating=True) as folder:
        from trainer.data import load_held_out_text, load_prompts
        from trainer.generate import render_all, sample_completions
        from trainer.logprobs import adapter_disabled
        from trainer.models import load_causal_lm, load_tokenizer, resolve_model
        from trainer.runtime import inference_dtype
        from trainer.score import RewardScorer, join_for_reward
        from trainer.textmetrics import distinct_n, rouge

        # Policy and reference: the same model with the adapter off, or a second model.
        pol_ref = resolve_model(cfg.policy, cfg.adapter)
        tokenizer = load_tokenizer(pol_ref)
        dtype = inference_dtype(cfg.device)
        policy = load_causal_lm(pol_ref, cfg.device, dtype)
        if cfg.reference == "base":
            reference, ref_ctx = policy, (lambda: adapter_disabled(policy))
        else:
            other = resolve_model(cfg.reference)
            if load_tokenizer(other).get_vocab() != tokenizer.get_vocab():
                raise ConfigError("field 'reference': its vocabulary differs from the policy's, so token KL is undefined")
            reference, ref_ctx = load_causal_lm(other, cfg.device, dtype), nullcontext
        rows = load_prompts(cfg.prompts)
        texts = render_all(tokenizer, [r["prompt"] for r in rows], cfg, [r.get("passages") for r in rows])
        folder.resolve(base=pol_ref.base, adapter=pol_ref.adapter, prompts=len(rows))

        # Samples from both sides, same seed and settings.
        bar = folder.progress(2 * len(texts), "evaluate", unit="sample")
        ours = sample_completions(policy, tokenizer, texts, cfg, cfg.seed, cfg.device, bar)
        with ref_ctx():
            theirs = sample_completions(reference, tokenizer, texts, cfg, cfg.seed, cfg.device, bar)
        bar.close()
        kls = sequence_kl(policy, reference, ref_ctx, ours, tokenizer.pad_token_id, cfg.device, cfg.batch_size)
        n_tokens = sum(k["tokens"] for k in kls)
        summary: dict[str, Any] = {
            "prompts": len(rows),
            "kl_per_token": sum(k["kl"] for k in kls) / max(n_tokens, 1),
            "kl_per_sequence": sum(k["kl"] for k in kls) / len(kls),
            "kl_k1_per_token": sum(k["k1"] for k in kls) / max(n_tokens, 1),
            "kl_k3_per_token": sum(k["k3"] for k in kls) / max(n_tokens, 1),
            "mean_tokens": n_tokens / len(kls),
            "eos_rate": sum(s["finish_reason"] == "eos" for s in ours) / len(ours),
            "distinct_1": distinct_n([s["completion"] for s in ours], 1),
            "distinct_2": distinct_n([s["completion"] for s in ours], 2),
        }
        folder.log(0, **summary)

        rewards = ref_rewards = None
        if cfg.reward_model:
            scorer = RewardScorer(cfg.reward_model, cfg.device)
            prompts = [r["prompt"] for r in rows]
            rewards = scorer.score(*join_for_reward(prompts, [s["completion"] for s in ours]))
            ref_rewards = scorer.score(*join_for_reward(prompts, [s["completion"] for s in theirs]))
            wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in zip(rewards, ref_rewards, strict=True))
            summary |= {
                "reward_mean": sum(rewards) / len(rewards),
                "reference_reward_mean": sum(ref_rewards) / len(ref_rewards),
                "win_rate": wins / len(rewards),
            }
        summary |= {f"agree_{k}": v for k, v in rouge([s["completion"] for s in ours],
                                                       [s["completion"] for s in theirs]).items()}
        with_ref = [(s["completion"], r["reference"]) for s, r in zip(ours, rows, strict=True) if "reference" in r]
        if with_ref:
            summary |= rouge([p for p, _ in with_ref], [r for _, r in with_ref])
            summary |= {f"reference_{k}": v for k, v in rouge(
                [s["completion"] for s, r in zip(theirs, rows, strict=True) if "reference" in r],
                [r for _, r in with_ref],
            ).items()}
        if cfg.held_out:
            held = load_held_out_text(cfg.held_out)
            ppl = perplexity(policy, tokenizer, held, cfg.max_length, cfg.device, cfg.batch_size)
            with ref_ctx():
                ref_ppl = perplexity(reference, tokenizer, held, cfg.max_length, cfg.device, cfg.batch_size)
            summary |= {"perplexity": ppl, "reference_perplexity": ref_ppl, "perplexity_ratio": ppl / ref_ppl}

        with open(folder.artifact("samples.jsonl"), "w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                line = {
                    "id": row["id"], "prompt": row["prompt"], "completion": ours[i]["completion"],
                    "reference_completion": theirs[i]["completion"], "kl": kls[i]["kl"], "tokens": kls[i]["tokens"],
                }
                if rewards is not None:
                    line |= {"reward": rewards[i], "reference_reward": ref_rewards[i]}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return folder.finish(**summary)
