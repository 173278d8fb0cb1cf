"""``trainer sft``: instruction fine-tuning on demonstrations with LoRA, on TRL's SFTTrainer.

Each demonstration becomes (prompt rendered with the same template ``generate`` uses,
response + EOS); the loss counts response tokens only (TRL's completion-only loss on
prompt/completion data). The summary gives the held-out response loss before and after.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from trainer.config import TrainConfig, help_field, path_field
from trainer.runfolder import RunResult, open_run
from trainer.templates import LAYOUTS, PLAIN_TEMPLATES


@dataclass
class SFTConfig(TrainConfig):
    """Fine-tune a causal LM on demonstrations (prompt/response, or chat messages)."""

    model: str = path_field("tiny", "Base causal LM: tiny, a local model folder, a run folder or a hub name.")
    adapter: str | None = path_field(None, "Continue training this adapter (a run folder or adapter folder).")
    learning_rate: float = help_field(1e-3, "Peak learning rate (AdamW); LoRA tolerates a high one.", gt=0, le=1)
    template: str = help_field(
        "zero-shot", "How prompts are rendered: zero-shot, cot or raw (as given); as in `trainer generate`.",
        choices=PLAIN_TEMPLATES,
    )
    layout: str = help_field("auto", "auto (chat template when the tokenizer has one), chat or plain.", choices=LAYOUTS)


def to_prompt_completion(tokenizer, rows: list[dict], cfg: SFTConfig) -> list[dict]:
    from trainer.templates import completion_text, render_prompt

    out = []
    for row in rows:
        prompt = render_prompt(tokenizer, row["prompt"], cfg.template, cfg.layout)
        completion = completion_text(row["response"], tokenizer, cfg.template, cfg.layout)
        group = hashlib.sha1(json.dumps(row["prompt"]).encode()).hexdigest()[:16]
        out.append({"prompt": prompt, "completion": completion, "group": group})
    return out


def run(cfg: SFTConfig) -> RunResult:
    with open_run("sft", cfg) as folder:
        import trl
        from datasets import Dataset

        from trainer.data import load_demonstrations, train_and_held
        from trainer.hf import (
            evaluate_before_training,
            fit,
            metrics_callback,
            prepare_trainer,
            remove_empty_checkpoints,
            train_stats,
            training_args,
        )
        from trainer.models import (
            count_parameters,
            load_causal_lm,
            load_tokenizer,
            lora_config,
            resolve_model,
            save_model,
        )

        ref = resolve_model(cfg.model, cfg.adapter)
        tokenizer = load_tokenizer(ref)
        train, held = train_and_held(lambda path: to_prompt_completion(tokenizer, load_demonstrations(path), cfg), cfg)
        folder.resolve(base=ref.base, adapter_start=ref.adapter, train_examples=len(train), eval_examples=len(held))

        model = load_causal_lm(ref, cfg.device, trainable=True, quantize_4bit=cfg.load_in_4bit)
        callback = metrics_callback(folder)
        args = trl.SFTConfig(
            **training_args(cfg, folder),
            max_length=cfg.max_length,
            completion_only_loss=True,
            packing=False,
        )

        def as_dataset(items):
            return Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in items])

        trainer = trl.SFTTrainer(
            model=model,
            args=args,
            train_dataset=as_dataset(train),
            eval_dataset=as_dataset(held) if held else None,
            processing_class=tokenizer,
            peft_config=None if ref.adapter else lora_config(cfg, "CAUSAL_LM"),
            callbacks=[callback],
        )
        prepare_trainer(trainer, cfg)
        before = evaluate_before_training(trainer)["eval_loss"] if held else None
        fit(trainer)
        after = trainer.evaluate()["eval_loss"] if held else None
        remove_empty_checkpoints(folder)
        save_model(folder, trainer.model, tokenizer, ref, kind="causal-lm")
        n_tokens = sum(len(x) for x in trainer.train_dataset["input_ids"])
        loss_ids = [t for t in trainer.train_dataset[0]["labels"] if t != -100]  # TRL masks the prompt
        return folder.finish(
            eval_response_loss=after,
            eval_response_loss_before=before,
            train_examples=len(train), eval_examples=len(held),
            **train_stats(callback, len(train), n_tokens),
            **count_parameters(trainer.model),
            steps=trainer.state.global_step,
            loss_text_example=tokenizer.decode(loss_ids),  # what the loss counts in example 0
        )
