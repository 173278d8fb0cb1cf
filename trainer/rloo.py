"""``trainer rloo``: REINFORCE Leave-One-Out with LoRA, on TRL's RLOOTrainer — the
critic-free alternative to ``trainer ppo`` (no value model; Ahmadian et al. 2024).

Each step samples ``num_generations`` responses per prompt; a response's advantage is its
reward minus the mean reward of the other responses to the same prompt. The reward is
the same as PPO's (``trainer.ppo.rewards``: a `trainer reward` model on the decoded text
plus optional reward functions, with the missing-EOS penalty), minus ``kl_coef`` times the
response's k1 KL to the reference — the base with the adapter disabled. TRL's coefficient
is fixed; for an adaptive one use ``trainer ppo``.

Same run contract as PPO: metrics.jsonl per step (TRL's keys: ``reward``, ``kl`` per
token, ``entropy``, ``completions/mean_length``, ...), adapter/ + model.json, checkpoints
every ``save_every`` steps in RUN_DIR/checkpoints, ``--resume true``, and SIGTERM ends the
step, saves a checkpoint and exits with status "cancelled" (exit code 3).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.config import (
    MAX_BATCH,
    MAX_STEPS,
    ConfigError,
    LoraFields,
    RunConfig,
    bf16_field,
    gradient_checkpointing_field,
    help_field,
    path_field,
)
from trainer.generate import SamplingFields
from trainer.guards import GuardFields, measure
from trainer.ppo.config import RewardSourceFields
from trainer.runfolder import RunResult, open_run


@dataclass
class RLOOConfig(GuardFields, RewardSourceFields, SamplingFields, LoraFields, RunConfig):
    """Optimise a LoRA policy against a reward model with RLOO (TRL's RLOOTrainer)."""

    model: str = path_field("tiny", "Policy: a base (tiny, a model folder, a hub name) or a run folder whose adapter to continue.")
    adapter: str | None = path_field(None, "Continue this adapter; TRL then keeps a frozen copy of it as the reference.")
    prompts: str | None = path_field(None, "Prompts: JSONL with 'prompt' per line, or a .txt. Required.", required=True)
    steps: int = help_field(
        100, "Optimizer steps; each samples batch_size prompts x num_generations responses.", ge=1, le=MAX_STEPS
    )
    batch_size: int = help_field(8, "Prompts per step.", ge=1, le=MAX_BATCH)
    num_generations: int = help_field(
        4, "Responses per prompt (k >= 2: each one's baseline is the mean of the others).", ge=2, le=256
    )
    kl_coef: float = help_field(0.05, "Fixed KL coefficient (TRL's beta); 0 skips the reference pass.", ge=0, le=100)
    learning_rate: float = help_field(3e-4, "AdamW learning rate.", gt=0, le=1)
    num_iterations: int = help_field(
        1, "Updates per batch of responses (TRL's mu); > 1 uses the clipped ratio.", ge=1, le=100
    )
    cliprange: float = help_field(0.2, "Ratio clip range (TRL's epsilon), used when num_iterations > 1.", gt=0, le=10)
    normalize_advantages: bool = help_field(False, "Whiten the advantages of each batch.")
    max_grad_norm: float = help_field(1.0, "Gradient clipping norm (0: no clipping).", ge=0, le=1e6)
    bf16: str = bf16_field()
    gradient_checkpointing: bool = gradient_checkpointing_field()
    save_every: int = help_field(25, "Write a checkpoint every N steps (0: only on SIGTERM).", ge=0, le=MAX_STEPS)
    keep_checkpoints: int = help_field(2, "Checkpoints to keep (the newest).", ge=1, le=1000)
    resume: bool = help_field(False, "Continue from the newest checkpoint in out/checkpoints.")


class RewardFunction:
    """PPO's reward sources as one TRL reward function; keeps the last batch for the summary."""

    def __init__(self, cfg: RLOOConfig, eos_id: int):
        from trainer.ppo.rewards import RewardSources

        self.sources = RewardSources(cfg, cfg.device)
        self.penalty = cfg.missing_eos_penalty
        self.eos_id = eos_id
        self.__name__ = "score"  # TRL names the logged reward column after the function
        self.last_completions: list[str] = []

    def __call__(self, prompts, completions, completion_ids, raw_prompt, log_metric=None, **kwargs) -> list[float]:
        raw = [json.loads(p) for p in raw_prompt]
        totals, parts = self.sources(raw, completions, completion_ids)
        if self.penalty is not None:
            totals = [t - self.penalty * (not ids or ids[-1] != self.eos_id) for t, ids in zip(totals, completion_ids, strict=True)]
        if log_metric is not None:
            for name, values in parts.items():
                log_metric(f"reward/{name}", sum(values) / len(values))
        self.last_completions = list(completions)
        return totals


def run(cfg: RLOOConfig) -> RunResult:
    with open_run("rloo", cfg, generating=True) as folder:
        import trl
        from datasets import Dataset

        from trainer import distributed
        from trainer.data import load_prompts
        from trainer.generate import render_all
        from trainer.hf import metrics_callback
        from trainer.models import (
            count_parameters,
            load_causal_lm,
            load_tokenizer,
            lora_config,
            resolve_model,
            save_model,
        )
        from trainer.ppo.checkpoint import cancel_on_sigterm
        from trainer.textmetrics import distinct_n

        ref = resolve_model(cfg.model, cfg.adapter)
        tokenizer = load_tokenizer(ref)
        rows = load_prompts(cfg.prompts)
        texts = render_all(tokenizer, [r["prompt"] for r in rows], cfg)
        dataset = Dataset.from_dict({"prompt": texts, "raw_prompt": [json.dumps(r["prompt"]) for r in rows]})
        model = load_causal_lm(ref, cfg.device, trainable=True, quantize_4bit=cfg.load_in_4bit)
        reward = RewardFunction(cfg, tokenizer.eos_token_id)
        checkpoints = folder.artifact("checkpoints")
        resume_from = _resume_point(cfg, checkpoints, folder)
        folder.resolve(base=ref.base, adapter_start=ref.adapter, prompts=len(rows), reward_sources=reward.sources.names)

        args = trl.RLOOConfig(
            output_dir=str(checkpoints),
            max_steps=cfg.steps,
            per_device_train_batch_size=cfg.batch_size * cfg.num_generations // folder.processes,
            gradient_accumulation_steps=1,
            num_generations=cfg.num_generations,
            max_completion_length=cfg.max_new_tokens,
            temperature=cfg.temperature,
            top_k=cfg.top_k,
            top_p=cfg.top_p,
            beta=cfg.kl_coef,
            num_iterations=cfg.num_iterations,
            epsilon=cfg.cliprange,
            normalize_advantages=cfg.normalize_advantages,
            learning_rate=cfg.learning_rate,
            lr_scheduler_type="constant",
            max_grad_norm=cfg.max_grad_norm,
            logging_steps=1,
            save_strategy="steps" if cfg.save_every > 0 else "no",
            save_steps=cfg.save_every if cfg.save_every > 0 else 500,
            save_total_limit=cfg.keep_checkpoints,
            report_to=[],
            seed=cfg.seed,
            use_cpu=cfg.device.startswith("cpu"),
            bf16=cfg.bf16 == "true",  # TRL's RLOOConfig turns bf16 on by default, on the CPU too
            gradient_checkpointing=cfg.gradient_checkpointing,  # and gradient checkpointing
            disable_tqdm=True,
            disable_dropout=True,
            dataloader_num_workers=0,
            ddp_find_unused_parameters=False,
        )
        callback = metrics_callback(folder)
        with cancel_on_sigterm() as cancel:
            trainer = trl.RLOOTrainer(
                model=model,
                reward_funcs=[reward],
                args=args,
                train_dataset=dataset,
                processing_class=tokenizer,
                peft_config=None if ref.adapter else lora_config(cfg, "CAUSAL_LM"),
                callbacks=[callback, _CancelCallback(cancel, folder)],
            )
            _quiet(trainer, cfg)
            trainer.train(resume_from_checkpoint=resume_from)

        save_model(folder, trainer.model, tokenizer, ref, kind="causal-lm")
        last, completions = callback.last, distributed.world().gather_objects(reward.last_completions)
        summary: dict[str, Any] = {
            "steps": trainer.state.global_step,
            "reward_mean_final": last.get("reward"),
            "kl_final": (last.get("kl") or 0.0) * (last.get("completions/mean_length") or 0.0),
            "kl_per_token_final": last.get("kl"),
            "kl_coef_final": cfg.kl_coef,
            "response_length_mean": last.get("completions/mean_length"),
            "eos_rate": 1.0 - last["completions/clipped_ratio"] if "completions/clipped_ratio" in last else None,
            "distinct_1": distinct_n(completions, 1) if completions else None,
            "distinct_2": distinct_n(completions, 2) if completions else None,
            **count_parameters(trainer.model),
        }
        cancelled = distributed.world().any(cancel.requested)
        if cancelled:
            summary |= {"status": "cancelled", "cancelled_at_step": trainer.state.global_step,
                        "resume": "rerun the same command with --resume true to continue"}
        elif folder.main:
            guards = measure(trainer.model, tokenizer, [r["prompt"] for r in rows], cfg, limit=cfg.guard_prompts,
                             kl_target=None, seed=cfg.seed, device=cfg.device)
            summary |= {"guards": guards} if guards is not None else {}
        newest = _newest(checkpoints)
        return folder.finish(
            **summary, adapter=str(folder.artifact("adapter")), base=ref.base_name,
            reference="adapter copy (previous round)" if ref.adapter else "base (adapter disabled)",
            checkpoint=str(newest) if newest else None,
        )


def _CancelCallback(cancel, folder):  # noqa: N802 - builds a TrainerCallback class lazily (transformers import)
    from transformers import TrainerCallback

    class CancelCallback(TrainerCallback):
        """SIGTERM: finish this step, save a checkpoint, stop. Every checkpoint also keeps
        the metrics lines written so far, so a resumed run's metrics.jsonl is complete. With
        several processes a SIGTERM to any of them stops all after the same step."""

        def on_step_end(self, args, state, control, **kwargs):
            from trainer.distributed import world

            if world().any(cancel.requested):
                control.should_save = True
                control.should_training_stop = True

        def on_save(self, args, state, control, **kwargs):
            target = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.main and target.is_dir():
                shutil.copyfile(folder.path / "metrics.jsonl", target / "metrics.jsonl")

    return CancelCallback()


def _quiet(trainer, cfg: RLOOConfig) -> None:
    """No printing of every log line to stdout when there is no progress bar (metrics.jsonl has them)."""
    from transformers.trainer_callback import PrinterCallback

    from trainer.runfolder import show_progress

    if not show_progress(cfg):
        trainer.remove_callback(PrinterCallback)


def _newest(checkpoints: Path) -> Path | None:
    found = sorted(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.rpartition("-")[2]))
    return found[-1] if found else None


def _resume_point(cfg: RLOOConfig, checkpoints: Path, folder) -> str | None:
    if not cfg.resume:
        if folder.main:
            shutil.rmtree(checkpoints, ignore_errors=True)
        return None
    newest = _newest(checkpoints)
    if newest is None:
        raise ConfigError(f"field 'resume': no checkpoint in {checkpoints}")
    if (newest / "metrics.jsonl").is_file():
        folder.replay((newest / "metrics.jsonl").read_text("utf-8").splitlines())
    return str(newest)
