"""``trainer reward``: a reward model from preference pairs — a one-output sequence
classifier with a LoRA adapter (and a fully trained score head), on TRL's RewardTrainer.

Loss: -log σ(r(chosen) − r(rejected) − margin) (Bradley–Terry; the margin only when the
data has one). Logged per step: loss, accuracy, margin, mean reward (TRL's keys).
The summary gives the held-out pairwise accuracy before and after training.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.config import MAX_BATCH, TrainConfig, help_field, path_field
from trainer.runfolder import RunResult, open_run


@dataclass
class RewardConfig(TrainConfig):
    """Train a reward model on preference pairs (TRL format, rankings or HH dialogues)."""

    model: str = path_field(
        "tiny-rm", "Reward-model base: tiny-rm, any local model folder (a causal LM gets a new score head) or a hub name."
    )
    learning_rate: float = help_field(1e-3, "Peak learning rate (AdamW); LoRA tolerates a high one.", gt=0, le=1)
    group_column: str | None = help_field(
        None, "Column that groups pairs (kept together in splits); default: group_id, group, task_id, else the prompt.",
        max_length=200,
    )
    center_rewards_coefficient: float | None = help_field(
        None, "Pull mean rewards towards 0 with this weight (0.01 is common); off when unset.", ge=0, le=100
    )
    score_batch_size: int = help_field(32, "Batch size for the held-out accuracy pass.", ge=1, le=MAX_BATCH)


def encode_pairs(tokenizer, pairs: list[dict], max_length: int) -> tuple[dict[str, list], int]:
    """Columns for TRL's processed-data path, plus a length column for length grouping."""
    from trainer.score import encode_reward_input

    cols: dict[str, list] = {"chosen_ids": [], "rejected_ids": [], "length": []}
    with_margin = pairs[0]["margin"] is not None
    if with_margin:
        cols["margin"] = []
    truncated = 0
    for p in pairs:
        c = encode_reward_input(tokenizer, p["prompt"], p["chosen"], 0)
        r = encode_reward_input(tokenizer, p["prompt"], p["rejected"], 0)
        truncated += len(c) > max_length or len(r) > max_length
        c, r = c[-max_length:], r[-max_length:]
        cols["chosen_ids"].append(c)
        cols["rejected_ids"].append(r)
        cols["length"].append(max(len(c), len(r)))
        if with_margin:
            cols["margin"].append(p["margin"])
    return cols, truncated


def held_out_metrics(model, tokenizer, cols: dict[str, list], cfg: RewardConfig) -> dict[str, float]:
    from trainer.score import pair_metrics, score_ids

    pad = tokenizer.pad_token_id
    chosen = score_ids(model, cols["chosen_ids"], pad, cfg.score_batch_size, cfg.device)
    rejected = score_ids(model, cols["rejected_ids"], pad, cfg.score_batch_size, cfg.device)
    return pair_metrics(chosen, rejected)


def build_trainer(cfg: RewardConfig, folder, model, tokenizer, train_cols, held_cols, callback, **extra_args):
    """TRL's RewardTrainer on pre-tokenized pairs, with a fresh LoRA adapter (also used by
    benchmarks/trainer_reward.py, so the benchmark times exactly what `trainer reward` runs)."""
    import trl
    from datasets import Dataset

    from trainer.hf import prepare_trainer, training_args
    from trainer.models import lora_config

    args = trl.RewardConfig(
        **training_args(cfg, folder, **extra_args),
        max_length=None,  # already truncated (keeping the end) by encode_pairs
        disable_dropout=True,
        center_rewards_coefficient=cfg.center_rewards_coefficient,
    )
    trainer = trl.RewardTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(train_cols),
        eval_dataset=Dataset.from_dict(held_cols) if held_cols and cfg.eval_every > 0 else None,
        processing_class=tokenizer,
        peft_config=lora_config(cfg, "SEQ_CLS"),
        callbacks=[callback],
    )
    _keep_length_column(trainer)
    prepare_trainer(trainer, cfg)
    return trainer


def run(cfg: RewardConfig) -> RunResult:
    with open_run("reward", cfg) as folder:
        from trainer.data import load_preferences, train_and_held
        from trainer.hf import fit, metrics_callback, remove_empty_checkpoints, train_stats
        from trainer.models import (
            count_parameters,
            load_reward_model,
            load_tokenizer,
            resolve_model,
            save_model,
        )

        # Data: pairs, a held-out split by group, token ids (EOS as the scorer adds it).
        ref = resolve_model(cfg.model)
        tokenizer = load_tokenizer(ref)
        train, held = train_and_held(lambda path: load_preferences(path, cfg.group_column), cfg)
        train_cols, truncated = encode_pairs(tokenizer, train, cfg.max_length)
        held_cols, _ = encode_pairs(tokenizer, held, cfg.max_length) if held else ({}, 0)
        folder.resolve(
            base=ref.base, train_pairs=len(train), eval_pairs=len(held),
            train_groups=len({p["group"] for p in train}), eval_groups=len({p["group"] for p in held}),
        )

        # Model: the base as a one-output classifier; TRL adds the LoRA adapter.
        model = load_reward_model(ref, tokenizer, cfg.device, quantize_4bit=cfg.load_in_4bit)
        scored = held and folder.main  # held-out pairs are scored by the main process alone
        before = held_out_metrics(model, tokenizer, held_cols, cfg) if scored else {}

        callback = metrics_callback(folder)
        trainer = build_trainer(cfg, folder, model, tokenizer, train_cols, held_cols, callback)
        fit(trainer)

        # Held-out accuracy with the scorer other methods use; save adapter + tokenizer.
        after = held_out_metrics(trainer.model, tokenizer, held_cols, cfg) if scored else {}
        if scored:
            folder.log(trainer.state.global_step, epoch=trainer.state.epoch,
                       eval_accuracy=after["accuracy"], eval_margin=after["margin"])
        remove_empty_checkpoints(folder)
        save_model(folder, trainer.model, tokenizer, ref, kind="reward")
        _record_max_length(folder, cfg.max_length)
        n_tokens = sum(len(c) + len(r) for c, r in zip(train_cols["chosen_ids"], train_cols["rejected_ids"], strict=True))
        return folder.finish(
            eval_accuracy=after.get("accuracy"),
            eval_margin=after.get("margin"),
            eval_accuracy_before=before.get("accuracy"),
            train_pairs=len(train), eval_pairs=len(held), pairs_truncated=truncated,
            **train_stats(callback, len(train), n_tokens),
            **count_parameters(trainer.model),
            steps=trainer.state.global_step,
        )


def _keep_length_column(trainer) -> None:
    """TRL drops columns other than chosen/rejected ids and margin before sampling, so the
    length-grouped sampler would not find its lengths; keep "length" (the collator ignores it)."""
    trainer._set_signature_columns_if_needed()
    if "length" not in trainer._signature_columns:
        trainer._signature_columns = [*trainer._signature_columns, "length"]


def _record_max_length(folder, max_length: int) -> None:
    import json

    if not folder.main:
        return
    path = folder.artifact("model.json")
    info = json.loads(path.read_text("utf-8"))
    info["max_length"] = max_length
    from trainer.runfolder import write_json

    write_json(path, info)
