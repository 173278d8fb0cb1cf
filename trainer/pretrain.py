"""``trainer pretrain``: continued pre-training — causal language modelling on a text corpus.

Adapts a base to a domain before (or instead of) instruction tuning: every token of the
corpus is a target, not only responses. The corpus is a ``.txt`` (passages at blank lines)
or JSONL with ``text`` per line; ``eval_fraction`` of its passages (every n-th, so the same
corpus always holds out the same ones) are held out (or ``eval_data``, a second corpus, is), and the summary reports their
perplexity before and after (``perplexity_before``, ``perplexity_after``,
``perplexity_ratio``: below 1 means the model learned the domain). Training text is
concatenated (passages joined by EOS) and cut into blocks of ``max_length`` tokens.

LoRA by default (``adapter/``, like sft); ``full: true`` trains every weight and saves the
whole model under ``model/`` — which takes as much memory as the model's weights, gradients
and AdamW state together (about 16 bytes a parameter in fp32).

Under ``accelerate launch`` with N processes each takes batch_size / N of every step's blocks;
its loss is its share of the mean over all their tokens and the gradients are averaged over
the processes (trainer.distributed), so a step is the one a single process takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trainer.config import TrainConfig, field_error, help_field, path_field
from trainer.runfolder import RunResult, open_run

FULL_ON_ADAPTER = "cannot continue an adapter: a full run trains the base's own weights (start from a policy without one)"


@dataclass
class PretrainConfig(TrainConfig):
    """Continue pre-training a causal LM on a domain corpus."""

    model: str = path_field("tiny", "Base causal LM: tiny, a local model folder, a run folder or a hub name.")
    adapter: str | None = path_field(None, "Continue training this adapter (a run folder or adapter folder).")
    data: str | None = path_field(
        None, "Corpus: .txt (passages at blank lines) or JSONL with 'text' per line. Required.", required=True
    )
    full: bool = help_field(False, "Train every weight (full fine-tuning) instead of a LoRA adapter.")
    learning_rate: float = help_field(1e-3, "Peak learning rate (AdamW); LoRA tolerates a high one, full training "
                                      "wants a lower one (1e-4 or less).", gt=0, le=1)
    max_length: int = help_field(128, "Tokens per training block (and per held-out window).", ge=8, le=1_048_576)


def held_out_split(texts: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """(train, held): every n-th passage held out (n = round(1 / fraction)); at least one of each
    when there are two or more passages and a fraction above 0."""
    if fraction <= 0 or len(texts) < 2:
        return texts, []
    every = max(2, round(1 / fraction))
    is_held = [i % every == every - 1 for i in range(len(texts))]
    if not any(is_held):
        is_held[-1] = True
    return [t for t, h in zip(texts, is_held, strict=True) if not h], [t for t, h in zip(texts, is_held, strict=True) if h]


def blocks(tokenizer, texts: list[str], size: int) -> list[list[int]]:
    """The texts joined by EOS and cut into blocks of ``size`` tokens (the last may be shorter)."""
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return [ids[i : i + size] for i in range(0, len(ids), size) if len(ids[i : i + size]) > 1]


def run(cfg: PretrainConfig) -> RunResult:
    with open_run("pretrain", cfg) as folder:
        import torch
        from peft import get_peft_model

        from trainer import distributed
        from trainer.data import DataError, load_held_out_text
        from trainer.evaluate import perplexity
        from trainer.models import (
            count_parameters,
            load_causal_lm,
            load_tokenizer,
            lora_config,
            resolve_model,
            save_model,
        )

        torch.manual_seed(cfg.seed)
        if cfg.full and cfg.adapter:
            raise field_error("full", FULL_ON_ADAPTER)
        ref = resolve_model(cfg.model, cfg.adapter)
        tokenizer = load_tokenizer(ref)
        texts = load_held_out_text(cfg.data)
        if cfg.eval_data:
            train, held = texts, load_held_out_text(cfg.eval_data)
        else:
            train, held = held_out_split(texts, cfg.eval_fraction)
        train_blocks = blocks(tokenizer, train, cfg.max_length)
        if not train_blocks:
            raise DataError(f"{cfg.data}: no training text (every passage is held out or empty)")
        model = load_causal_lm(ref, cfg.device, trainable=True)
        if not cfg.full and not ref.adapter:
            model = get_peft_model(model, lora_config(cfg, "CAUSAL_LM"))
        folder.resolve(base=ref.base, adapter_start=ref.adapter, train_passages=len(train), eval_passages=len(held),
                       train_blocks=len(train_blocks))

        def held_perplexity() -> float | None:
            model.eval()
            value = None
            if held and folder.main:  # the other processes would compute the same figure
                value = perplexity(model, tokenizer, held, cfg.max_length, cfg.device, cfg.batch_size)
            model.train()
            return value

        before = held_perplexity()
        steps = cfg.max_steps if cfg.max_steps > 0 else math.ceil(cfg.epochs * len(train_blocks) / cfg.batch_size)
        trainable = [p for p in model.parameters() if p.requires_grad]
        world = distributed.world()
        world.broadcast_parameters(trainable)
        optimizer = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        order = torch.randperm(len(train_blocks)).tolist()
        bar = folder.progress(steps, "pretrain")
        model.train()
        for step in range(1, steps + 1):
            picked = [train_blocks[order[(step * cfg.batch_size + i) % len(order)]] for i in range(cfg.batch_size)]
            ids, mask = _pad(picked[world.shard(cfg.batch_size)], tokenizer.pad_token_id, cfg.device)
            labels = ids.masked_fill(mask == 0, -100)
            extra = {}
            if world.several:  # divide by the mean token count of the processes, not this one's
                extra["num_items_in_batch"] = world.sum((labels[:, 1:] != -100).sum()) / world.size
            loss = model(input_ids=ids, attention_mask=mask, labels=labels, **extra).loss
            optimizer.zero_grad()
            loss.backward()
            world.average_gradients(trainable)
            if cfg.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            if step % cfg.log_every == 0 or step == steps:
                folder.log(step, loss=world.mean(loss.item()), epoch=step * cfg.batch_size / len(train_blocks))
            bar.update()
        bar.close()
        after = held_perplexity()
        distributed.check_same_weights(trainable)
        if cfg.full and folder.main:
            model.save_pretrained(folder.artifact("model"))
            tokenizer.save_pretrained(folder.artifact("model"))
            folder.write_model_json(base=str(folder.artifact("model")), adapter=None, kind="causal-lm",
                                    tokenizer="model", base_start=ref.base)
        elif not cfg.full:
            save_model(folder, model, tokenizer, ref, kind="causal-lm")
        return folder.finish(
            perplexity_before=before, perplexity_after=after,
            perplexity_ratio=after / before if before and after else None,
            train_passages=len(train), eval_passages=len(held), train_blocks=len(train_blocks), steps=steps,
            full=cfg.full, **count_parameters(model),
        )


def _pad(seqs: list[list[int]], pad_id: int, device: str):
    import torch

    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)
