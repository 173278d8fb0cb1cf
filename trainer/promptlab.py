"""``trainer prompt-lab``: prompt templates and generation settings side by side on one prompt set.

A lab is a list of *variants*. Each variant is the lab's sampling settings (template, shots,
temperature, top-k, top-p, max_new_tokens, do_sample) with a few of them changed: zero-shot
against few-shot with 3 examples against chain-of-thought, or one template at three
temperatures. The model is loaded once; every variant answers every prompt with the same seed,
so two variants differ only in what the variant changes.

The run folder holds ``answers.jsonl`` — one line a prompt: the prompt, its reference answer
when it has one, and each variant's answer (text, tokens, words, finish reason, ROUGE-1/2/L
against the reference) — and ``summary.json`` with one entry a variant: its settings, mean
ROUGE-1/2/L over the prompts that have a reference, mean length in tokens and words, and the
EOS rate. ROUGE is :mod:`trainer.textmetrics` (F1, lower-cased words, no stemming).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from trainer.config import ConfigError, RunConfig, field_error, help_field, load_config, path_field
from trainer.generate import MAX_NEW_TOKENS, SamplingFields
from trainer.runfolder import RunResult, open_run

#: What a variant may change (the rest — batch_size, layout, examples — is the lab's).
VARIANT_KEYS = ("name", "template", "shots", "temperature", "top_k", "top_p", "max_new_tokens", "do_sample")
MAX_VARIANTS = 12
MAX_NAME = 80
DEFAULT_VARIANTS = [
    {"name": "zero-shot", "template": "zero-shot"},
    {"name": "chain-of-thought", "template": "cot"},
]


@dataclass
class PromptLabConfig(SamplingFields, RunConfig):
    """Compare prompt templates and generation settings side by side on a prompts file."""

    model: str = path_field("tiny", "Policy: tiny, a model folder, a run folder (base + adapter) or a hub name.")
    adapter: str | None = path_field(None, "Adapter to apply on the model (a run folder or adapter folder).")
    prompts: str | None = path_field(
        None, "Prompts JSONL ('prompt', optional 'reference' answer for ROUGE) or .txt. Required.", required=True
    )
    variants: list[dict] = help_field(
        DEFAULT_VARIANTS,
        "The variants, each a JSON object: 'name' and what it changes of the lab's settings: "
        f"{', '.join(VARIANT_KEYS[1:])}. E.g. "
        '[{"name": "zero-shot", "template": "zero-shot"}, {"name": "3-shot", "template": "few-shot", "shots": 3}].',
        max_items=MAX_VARIANTS,
    )
    max_new_tokens: int = help_field(48, "Most tokens per answer (a variant may change it).", ge=1, le=MAX_NEW_TOKENS)

    def check(self) -> None:
        if not self.variants:
            raise field_error("variants", "needs at least one variant")
        names = set()
        for i, variant in enumerate(self.variants):
            settings = variant_settings(self, variant, i)
            if settings.name in names:
                raise field_error("variants", f"item {i}: the name {settings.name!r} is used twice")
            names.add(settings.name)


@dataclass
class _VariantCheck(SamplingFields):
    """One variant's settings, checked by the bounds and rules of SamplingFields."""

    name: str = help_field("", "The variant's name.", max_length=MAX_NAME)


def variant_settings(cfg: PromptLabConfig, variant: Any, index: int) -> Any:
    """The lab's sampling settings with the variant's changes, checked; raises ConfigError on
    the field ``variants`` saying which item and which key is at fault."""
    if not isinstance(variant, dict):
        raise field_error("variants", f"item {index} must be an object with a name and settings")
    unknown = [key for key in variant if key not in VARIANT_KEYS]
    if unknown:
        raise field_error("variants", f"item {index}: {unknown[0]!r} is not a variant setting "
                          f"(one of: {', '.join(VARIANT_KEYS)})")
    name = variant.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("variants", f"item {index} needs a name")
    lab = {key: getattr(cfg, key) for key in VARIANT_KEYS[1:]}
    values = lab | {k: v for k, v in variant.items() if k != "name"} | {"name": name.strip()}
    values |= {"examples": cfg.examples, "layout": cfg.layout, "batch_size": cfg.batch_size}
    try:
        checked = load_config(_VariantCheck, overrides=values)
        checked.check()
    except ConfigError as e:
        field, message = e.problems[0]
        raise field_error("variants", f"item {index} ({name.strip()}): {field} {message}") from None
    return checked


def variant_summary(sampling: Any) -> dict[str, Any]:
    keys = ("template", "shots", "temperature", "top_k", "top_p", "max_new_tokens", "do_sample")
    return {key: getattr(sampling, key) for key in keys}


def score_answer(completion: str, reference: str | None) -> dict[str, Any]:
    from trainer.textmetrics import rouge_l, rouge_n, words

    out: dict[str, Any] = {"words": len(words(completion))}
    if reference is not None:
        out |= {"rouge1": rouge_n(completion, reference, 1), "rouge2": rouge_n(completion, reference, 2),
                "rougeL": rouge_l(completion, reference)}
    return out


def run(cfg: PromptLabConfig) -> RunResult:
    with open_run("prompt-lab", cfg, generating=True) as folder:
        from trainer.data import load_demonstrations, load_prompts
        from trainer.generate import sample_completions
        from trainer.models import load_causal_lm, load_tokenizer, resolve_model
        from trainer.runtime import inference_dtype
        from trainer.templates import render_prompt

        variants = [variant_settings(cfg, v, i) for i, v in enumerate(cfg.variants)]
        rows = load_prompts(cfg.prompts)
        examples = load_demonstrations(cfg.examples) if cfg.examples else None
        for i, v in enumerate(variants):
            wanted = {"one-shot": 1, "few-shot": v.shots}.get(v.template, 0)
            if wanted and len(examples) < wanted:
                raise field_error("examples", f"has {len(examples)} examples; variant {i} ({v.name}) needs {wanted}")
        ref = resolve_model(cfg.model, cfg.adapter)
        tokenizer = load_tokenizer(ref)
        model = load_causal_lm(ref, cfg.device, inference_dtype(cfg.device))
        folder.resolve(base=ref.base, adapter=ref.adapter, prompts=len(rows))

        bar = folder.progress(len(rows) * len(variants), "prompt-lab", unit="answer")
        answers: list[list[dict[str, Any]]] = []
        for v in variants:
            rendered = [render_prompt(tokenizer, r["prompt"], v.template, cfg.layout, examples, v.shots) for r in rows]
            sampling = SimpleNamespace(**variant_summary(v), batch_size=cfg.batch_size)
            samples = sample_completions(model, tokenizer, rendered, sampling, cfg.seed, cfg.device, bar)
            answers.append([
                {"variant": v.name, "completion": s["completion"], "tokens": len(s["completion_ids"]),
                 "finish_reason": s["finish_reason"], "rendered_prompt": text} | score_answer(s["completion"], r.get("reference"))
                for s, r, text in zip(samples, rows, rendered, strict=True)
            ])
        bar.close()

        with open(folder.artifact("answers.jsonl"), "w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                line = {"id": row["id"], "prompt": row["prompt"], "reference": row.get("reference"),
                        "answers": [per_variant[i] for per_variant in answers]}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        summaries = [_variant_figures(v, per_variant) for v, per_variant in zip(variants, answers, strict=True)]
        for step, figures in enumerate(summaries):
            folder.log(step, **{k: val for k, val in figures.items() if isinstance(val, (int, float, str))})
        scored = [s for s in summaries if s.get("rougeL") is not None]
        best = max(scored, key=lambda s: s["rougeL"])["name"] if scored else None
        return folder.finish(
            prompts=len(rows), with_reference=sum("reference" in r for r in rows), variants=summaries,
            best_rougeL=best, output=str(folder.artifact("answers.jsonl")),
        )


def _variant_figures(settings: Any, answers: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(answers)
    figures: dict[str, Any] = {
        "name": settings.name, "settings": variant_summary(settings),
        "mean_tokens": sum(a["tokens"] for a in answers) / n, "mean_words": sum(a["words"] for a in answers) / n,
        "eos_rate": sum(a["finish_reason"] == "eos" for a in answers) / n,
    }
    scored = [a for a in answers if "rougeL" in a]
    for key in ("rouge1", "rouge2", "rougeL"):
        figures[key] = sum(a[key] for a in scored) / len(scored) if scored else None
    return figures
