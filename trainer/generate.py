"""``trainer generate``: completions for a prompts file from a base plus optional adapter.

Prompts are rendered with a template (zero-shot, one-shot, few-shot from an examples
file, chain-of-thought, or raw) through the tokenizer's chat template where there is one,
then sampled in left-padded batches with the KV cache; each completion stops at EOS or
the token limit. Every output line carries the settings used. The same seed and settings
give the same completions: batch b is sampled with the seed (seed, b).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trainer.config import MAX_BATCH, RunConfig, field_error, help_field, path_field
from trainer.runfolder import RunResult, open_run
from trainer.templates import LAYOUTS, TEMPLATES

#: The longest completion a sampling method asks for, in tokens.
MAX_NEW_TOKENS = 32768


@dataclass
class SamplingFields:
    """Sampling settings shared by generate and evaluate (and PPO rollouts)."""

    max_new_tokens: int = help_field(
        64, "Most tokens per completion (it stops earlier at EOS).", ge=1, le=MAX_NEW_TOKENS
    )
    do_sample: bool = help_field(True, "Sample; false = greedy decoding.")
    temperature: float = help_field(
        1.0, "Softmax temperature for sampling (> 0 when sampling; ignored by greedy decoding).", ge=0, le=100
    )
    top_k: int = help_field(0, "Sample among the k most likely tokens (0: all).", ge=0, le=1_000_000)
    top_p: float = help_field(1.0, "Nucleus sampling mass (1.0: off).", gt=0, le=1)
    batch_size: int = help_field(16, "Prompts per generate() call.", ge=1, le=MAX_BATCH)
    template: str = help_field(
        "zero-shot", "Prompt template: zero-shot, one-shot, few-shot, cot or raw.", choices=TEMPLATES
    )
    layout: str = help_field("auto", "auto (chat template when the tokenizer has one), chat or plain.", choices=LAYOUTS)
    examples: str | None = path_field(None, "JSONL of prompt/response examples for one-shot and few-shot.")
    shots: int = help_field(3, "Examples in a few-shot prompt.", ge=1, le=64)

    def check(self) -> None:
        if self.do_sample and self.temperature == 0:
            raise field_error("temperature", "must be > 0 when do_sample is true (or set do_sample: false)")
        if self.template in ("one-shot", "few-shot") and not self.examples:
            raise field_error("examples", f"is required by template '{self.template}' (a prompt/response JSONL)")
        if self.template == "few-shot" and self.shots < 2:
            raise field_error("shots", "must be >= 2 for a few-shot prompt")


@dataclass
class GenerateConfig(SamplingFields, RunConfig):
    """Sample completions for every prompt of a file."""

    model: str = path_field("tiny", "Policy: tiny, a model folder, a run folder (base + adapter) or a hub name.")
    adapter: str | None = path_field(None, "Adapter to apply on the model (a run folder or adapter folder).")
    prompts: str | None = path_field(
        None, "Prompts: JSONL with 'prompt' (string or chat messages) per line, or a .txt (one a line). Required.",
        required=True,
    )
    num_samples: int = help_field(1, "Completions per prompt.", ge=1, le=1024)


def sampling_settings(cfg: Any) -> dict[str, Any]:
    keys = ("max_new_tokens", "do_sample", "temperature", "top_k", "top_p", "template", "layout", "shots", "seed")
    return {k: getattr(cfg, k) for k in keys} | {"examples": cfg.examples}


def render_all(tokenizer, prompts: list[Any], cfg: Any, passages: list[list[dict] | None] | None = None) -> list[str]:
    """Each prompt rendered by the config's template; ``passages[i]`` (retrieved sources) go
    into prompt i when given."""
    from trainer.data import load_demonstrations
    from trainer.templates import render_prompt

    examples = load_demonstrations(cfg.examples) if cfg.examples else None
    sources = passages or [None] * len(prompts)
    return [render_prompt(tokenizer, p, cfg.template, cfg.layout, examples, cfg.shots, passages=s)
            for p, s in zip(prompts, sources, strict=True)]


def sample_completions(
    model, tokenizer, texts: list[str], cfg: Any, seed: int, device: str, progress=None
) -> list[dict[str, Any]]:
    """Sample one completion per text. Returns prompt_ids, completion_ids (cut after EOS),
    the decoded completion and finish_reason ("eos" or "length") for each."""
    import torch

    tokenizer.padding_side = "left"
    eos = tokenizer.eos_token_id
    results: list[dict[str, Any]] = []
    model.eval()
    for b, start in enumerate(range(0, len(texts), cfg.batch_size)):
        batch = texts[start : start + cfg.batch_size]
        enc = tokenizer(batch, return_tensors="pt", padding=True).to(device)
        torch.manual_seed(seed * 1_000_003 + b)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=cfg.max_new_tokens,
                do_sample=cfg.do_sample,
                temperature=cfg.temperature if cfg.do_sample else None,
                top_k=cfg.top_k if cfg.do_sample else None,
                top_p=cfg.top_p if cfg.do_sample else None,
                eos_token_id=eos,
                pad_token_id=tokenizer.pad_token_id,
                use_cache=True,
            )
        width = enc["input_ids"].shape[1]
        for row in range(len(batch)):
            prompt_ids = enc["input_ids"][row][enc["attention_mask"][row].bool()].tolist()
            gen = out[row, width:].tolist()
            finish = "length"
            if eos in gen:
                gen = gen[: gen.index(eos) + 1]
                finish = "eos"
            results.append(
                {
                    "prompt_ids": prompt_ids,
                    "completion_ids": gen,
                    "completion": tokenizer.decode(gen, skip_special_tokens=True),
                    "finish_reason": finish,
                }
            )
        if progress is not None:
            progress.update(len(batch))
    tokenizer.padding_side = "right"
    return results


def run(cfg: GenerateConfig) -> RunResult:
    with open_run("generate", cfg, generating=True) as folder:
        from trainer.data import load_prompts
        from trainer.models import load_causal_lm, load_tokenizer, resolve_model
        from trainer.runtime import inference_dtype

        ref = resolve_model(cfg.model, cfg.adapter)
        tokenizer = load_tokenizer(ref)
        model = load_causal_lm(ref, cfg.device, inference_dtype(cfg.device))
        rows = load_prompts(cfg.prompts)
        rendered = render_all(tokenizer, [r["prompt"] for r in rows], cfg, [r.get("passages") for r in rows])
        folder.resolve(base=ref.base, adapter=ref.adapter, prompts=len(rows),
                       retrieval=sum(1 for r in rows if r.get("passages")))

        jobs = [(i, k) for i in range(len(rows)) for k in range(cfg.num_samples)]
        bar = folder.progress(len(jobs), "generate", unit="completion")
        samples = sample_completions(model, tokenizer, [rendered[i] for i, _ in jobs], cfg, cfg.seed, cfg.device, bar)
        bar.close()

        settings = sampling_settings(cfg) | {"model": cfg.model, "adapter": ref.adapter}
        lengths, eos_count = [], 0
        with open(folder.artifact("completions.jsonl"), "w", encoding="utf-8") as fh:
            for (i, k), s in zip(jobs, samples, strict=True):
                line = {
                    "id": rows[i]["id"], "sample": k, "prompt": rows[i]["prompt"], "rendered_prompt": rendered[i],
                    "completion": s["completion"], "finish_reason": s["finish_reason"],
                    "tokens": len(s["completion_ids"]), "settings": settings,
                }
                if rows[i].get("passages"):
                    line["passages"] = [p["id"] for p in rows[i]["passages"]]
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                lengths.append(len(s["completion_ids"]))
                eos_count += s["finish_reason"] == "eos"
        folder.log(len(samples), completions=len(samples))
        return folder.finish(
            completions=len(samples), prompts=len(rows), mean_tokens=sum(lengths) / len(lengths),
            eos_rate=eos_count / len(samples), output=str(folder.artifact("completions.jsonl")),
            settings=settings,
        )

