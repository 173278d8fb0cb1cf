"""``trainer dpo``: Direct Preference Optimization with LoRA, on TRL's DPOTrainer.

The reference model is the base with the adapter disabled — no second copy in memory.
Continuing from a previous round's adapter (``--model RUN_DIR`` or ``--adapter``) trains
that adapter further, and TRL keeps a frozen copy of it as the reference (so the KL is to
the previous round), unless ``reference: base`` keeps the base as the reference (online DPO:
each round continues the same KL-to-the-base objective on fresh on-policy pairs). Logged per step: loss and TRL's ``rewards/chosen``,
``rewards/rejected``, ``rewards/margins``, ``rewards/accuracies``, ``logps/*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainer.config import TrainConfig, field_error, help_field, path_field
from trainer.guards import GuardFields, measure
from trainer.runfolder import RunResult, open_run
from trainer.templates import LAYOUTS, PLAIN_TEMPLATES

# TRL 1.16's DPO losses; checked here because a wrong name otherwise fails only at step 1.
LOSS_TYPES = (
    "sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard",
    "aot", "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm",
)


@dataclass
class DPOConfig(GuardFields, TrainConfig):
    """Align a causal LM to preference pairs with DPO."""

    model: str = path_field(
        "tiny", "Policy: a base (tiny, a model folder, a hub name) or a run folder whose adapter to continue."
    )
    adapter: str | None = path_field(
        None, "Continue this adapter (previous round); the reference is then a frozen copy of it."
    )
    beta: float = help_field(0.1, "DPO temperature: higher keeps the policy closer to the reference.", gt=0, le=100)
    reference: str = help_field(
        "start",
        "The reference when continuing an adapter: start (a frozen copy of the adapter as it starts: "
        "each round's KL is to the previous round) or base (the adapter disabled: every round optimises the "
        "same KL-to-the-base objective from where the last one left off, as online DPO does).",
        choices=("start", "base"),
    )
    loss_type: list[str] = help_field(
        ["sigmoid"], f"DPO loss(es): {', '.join(LOSS_TYPES)}. Several are summed (loss_weights).",
        choices=LOSS_TYPES, max_items=len(LOSS_TYPES),
    )
    loss_weights: list[float] | None = help_field(
        None, "Weights when several loss types are given.", ge=0, le=1000, max_items=len(LOSS_TYPES)
    )
    learning_rate: float = help_field(5e-4, "Peak learning rate (AdamW).", gt=0, le=1)
    template: str = help_field(
        "raw",
        "How the data's prompts are rendered: raw (as given: use it when the prompt is the exact text the "
        "policy saw) or zero-shot / cot (as `trainer generate` renders them).",
        choices=PLAIN_TEMPLATES,
    )
    layout: str = help_field("auto", "auto (chat template when the tokenizer has one), chat or plain.", choices=LAYOUTS)
    group_column: str | None = help_field(None, "Column that groups pairs in the held-out split.", max_length=200)

    def check(self) -> None:
        if not self.loss_type:
            raise field_error("loss_type", "needs at least one loss")
        if self.loss_weights is not None and len(self.loss_weights) != len(self.loss_type):
            raise field_error("loss_weights", "needs one weight per loss_type")


def to_trl_rows(tokenizer, pairs: list[dict], cfg: DPOConfig) -> list[dict]:
    """prompt / chosen / rejected in TRL's format, rendered like generation renders them."""
    from trainer.templates import completion_text, render_prompt

    rows = []
    for p in pairs:
        if cfg.template == "raw":
            prompt, chosen, rejected = p["prompt"], p["chosen"], p["rejected"]
            if isinstance(prompt, list):  # conversational: completions as assistant turns
                chosen, rejected = (
                    c if isinstance(c, list) else [{"role": "assistant", "content": c}] for c in (chosen, rejected)
                )
        else:
            prompt = render_prompt(tokenizer, p["prompt"], cfg.template, cfg.layout)
            chosen, rejected = (completion_text(c, tokenizer, cfg.template, cfg.layout) for c in (p["chosen"], p["rejected"]))
        rows.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    return rows


def run(cfg: DPOConfig) -> RunResult:
    with open_run("dpo", cfg) as folder:
        import trl
        from datasets import Dataset

        from trainer.data import load_preferences, train_and_held
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
        train, held = train_and_held(lambda path: load_preferences(path, cfg.group_column), cfg)
        folder.resolve(base=ref.base, adapter_start=ref.adapter, train_pairs=len(train), eval_pairs=len(held))

        # A trainable adapter to continue, or a fresh LoRA that TRL adds (peft_config).
        model = load_causal_lm(ref, cfg.device, trainable=True, quantize_4bit=cfg.load_in_4bit)
        callback = metrics_callback(folder)
        args = trl.DPOConfig(
            **training_args(cfg, folder),
            beta=cfg.beta,
            loss_type=list(cfg.loss_type),
            loss_weights=cfg.loss_weights,
            max_length=cfg.max_length,
            disable_dropout=True,
        )
        trainer = trl.DPOTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(to_trl_rows(tokenizer, train, cfg)),
            eval_dataset=Dataset.from_list(to_trl_rows(tokenizer, held, cfg)) if held else None,
            processing_class=tokenizer,
            peft_config=None if ref.adapter else lora_config(cfg, "CAUSAL_LM"),
            callbacks=[callback],
        )
        if ref.adapter and cfg.reference == "base" and "ref" in trainer.model.peft_config:
            # TRL copies a continued adapter as "ref"; without it the reference is the adapter disabled.
            trainer.model.delete_adapter("ref")
            trainer.model.set_adapter("default")
        prepare_trainer(trainer, cfg)
        held_before = evaluate_before_training(trainer) if held else {}
        fit(trainer)
        held_metrics = trainer.evaluate() if held else {}
        remove_empty_checkpoints(folder)
        save_model(folder, trainer.model, tokenizer, ref, kind="causal-lm")
        n_tokens = sum(
            len(p) + len(c) + len(r)
            for p, c, r in zip(*(trainer.train_dataset[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")), strict=True)
        )
        guards = _guards(trainer.model, tokenizer, held or train, cfg) if folder.main else None
        return folder.finish(
            eval_reward_accuracy=held_metrics.get("eval_rewards/accuracies"),
            eval_reward_margin=held_metrics.get("eval_rewards/margins"),
            eval_loss=held_metrics.get("eval_loss"),
            eval_reward_accuracy_before=held_before.get("eval_rewards/accuracies"),
            eval_reward_margin_before=held_before.get("eval_rewards/margins"),
            train_reward_accuracy=callback.last.get("rewards/accuracies"),
            train_reward_margin=callback.last.get("rewards/margins"),
            train_pairs=len(train), eval_pairs=len(held),
            reference="adapter copy (previous round)" if ref.adapter and cfg.reference == "start" else "base (adapter disabled)",
            **train_stats(callback, len(train), n_tokens),
            **count_parameters(trainer.model),
            steps=trainer.state.global_step,
            **({"guards": guards} if guards is not None else {}),
        )


def _guards(model, tokenizer, pairs: list[dict], cfg: DPOConfig) -> dict | None:
    """The guards (trainer.guards) on the prompts of the held-out pairs (the training pairs when
    none are held out), sampled with the default sampling settings and the data's template."""
    from trainer.generate import SamplingFields

    sampling = SamplingFields(template=cfg.template, layout=cfg.layout)
    return measure(model, tokenizer, [p["prompt"] for p in pairs], sampling, limit=cfg.guard_prompts,
                   kl_target=None, seed=cfg.seed, device=cfg.device)
