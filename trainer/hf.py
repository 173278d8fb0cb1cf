"""Glue between our run contract and transformers/TRL trainers (imported inside run())."""

from __future__ import annotations

from typing import Any

from trainer.runfolder import RunFolder, show_progress


def training_args(cfg: Any, folder: RunFolder, **extra: Any) -> dict[str, Any]:
    """TrainingArguments fields from a TrainConfig: CPU-friendly, no checkpoints, no reporting.

    ``batch_size`` is the global batch: each of the N processes of a launch takes
    ``batch_size / N`` (open_run refused a batch that does not divide), so a step sees the same
    examples whatever N is."""
    per_device = cfg.batch_size // folder.processes
    kwargs = dict(
        output_dir=str(folder.artifact("checkpoints")),
        per_device_train_batch_size=per_device,
        per_device_eval_batch_size=per_device,
        gradient_accumulation_steps=cfg.grad_accum,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type=cfg.lr_scheduler,
        max_grad_norm=cfg.max_grad_norm,
        logging_steps=cfg.log_every,
        logging_first_step=True,
        eval_strategy="steps" if cfg.eval_every > 0 else "no",
        eval_steps=cfg.eval_every if cfg.eval_every > 0 else None,
        save_strategy="no",
        report_to=[],
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=cfg.bf16 == "true",
        gradient_checkpointing=cfg.gradient_checkpointing,
        use_cpu=cfg.device.startswith("cpu"),
        disable_tqdm=not show_progress(cfg),
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # LoRA layers and heads all train (True costs a graph walk a step)
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
    )
    kwargs.update(extra)
    return kwargs


def metrics_callback(folder: RunFolder):
    """A TrainerCallback that appends every log to metrics.jsonl (with step and epoch) and
    keeps progress.json at the optimizer step (of the trainer's max_steps)."""
    from transformers import TrainerCallback

    class MetricsCallback(TrainerCallback):
        def __init__(self) -> None:
            self.train_stats: dict[str, Any] = {}
            self.last: dict[str, Any] = {}
            self.progress = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.progress = folder.progress(state.max_steps, "train", initial=state.global_step, bar=False)

        def on_step_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.set(state.global_step)

        def on_train_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.close()

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = dict(logs or {})
            if "train_runtime" in logs:  # the end-of-training summary, not a step
                self.train_stats = logs
                return
            logs.pop("epoch", None)
            epoch = round(state.epoch, 4) if state.epoch is not None else None
            folder.log(state.global_step, epoch=epoch, **logs)
            self.last.update(logs)

    return MetricsCallback()


def prepare_trainer(trainer, cfg: Any) -> None:
    """Drop the callback that prints every log to stdout when there is no progress bar, and
    count FLOPs without re-counting the parameters at every step (6 ms a step here)."""
    from transformers.trainer_callback import PrinterCallback

    if not show_progress(cfg):
        trainer.remove_callback(PrinterCallback)
    n_params = trainer.model.num_parameters(exclude_embeddings=True)
    key = trainer.model.main_input_name if hasattr(trainer.model, "main_input_name") else "input_ids"

    def floating_point_ops(inputs: dict) -> int:
        ids = inputs.get(key, inputs.get("input_ids"))
        return 6 * ids.numel() * n_params if ids is not None else 0

    trainer.floating_point_ops = floating_point_ops


def evaluate_before_training(trainer) -> dict[str, float]:
    """trainer.evaluate() before trainer.train(), leaving the model to be wrapped for training.

    Evaluating first marks the model as prepared by accelerate (in evaluation mode, unwrapped),
    and train() then does not wrap it in DistributedDataParallel: with several processes the
    gradients were never averaged and the processes' weights drifted apart (transformers 5.25,
    accelerate 1.16). The mark is taken off again so train() wraps it."""
    metrics = trainer.evaluate()
    model = trainer.model
    if trainer.accelerator.num_processes > 1 and getattr(model, "_is_accelerate_prepared", False):
        del model._is_accelerate_prepared
        trainer.accelerator._models = [m for m in trainer.accelerator._models if m is not model]
    return metrics


def fit(trainer) -> None:
    """trainer.train() with the imported world frozen for the garbage collector: accelerate
    runs gc.collect() when training starts, which otherwise walks every object of torch,
    transformers and TRL (0.2-0.75 s a run on the build machine)."""
    import gc

    gc.freeze()
    try:
        trainer.train()
    finally:
        gc.unfreeze()


def remove_empty_checkpoints(folder: RunFolder) -> None:
    """Checkpoints are off (save_strategy="no"); drop the empty output_dir the Trainer made."""
    path = folder.artifact("checkpoints")
    if folder.main and path.is_dir() and not any(path.iterdir()):
        path.rmdir()


def train_stats(callback, n_examples: int, n_tokens: int) -> dict[str, Any]:
    """Throughput figures for summary.json from the trainer's final log."""
    runtime = float(callback.train_stats.get("train_runtime", 0.0)) or float("nan")
    epochs = float(callback.train_stats.get("epoch", 1.0) or 1.0)
    return {
        "train_runtime_s": round(runtime, 3),
        "train_loss": callback.train_stats.get("train_loss"),
        "train_examples_per_s": round(n_examples * epochs / runtime, 2),
        "train_tokens_per_s": round(n_tokens * epochs / runtime, 1),
    }
