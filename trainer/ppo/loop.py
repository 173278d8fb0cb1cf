"""``trainer ppo``: the PPO loop, readable top to bottom.

config → prompts → one base with a policy adapter and a value adapter (the reference is
the base with adapters disabled) → for each step: sample, score, prepare (log-probs,
KL penalty, GAE), update, adapt the KL coefficient, log, maybe checkpoint → save the
policy adapter and the summary. See docs/ppo.md for the algorithm and every metric.

Under ``accelerate launch`` with N processes (trainer.distributed) every process holds the
models and takes batch_size / N of each step's prompts: it samples them (with its own seed),
scores them, and trains on them; scores are normalised, advantages whitened and metrics taken
over the whole batch, gradients averaged over the processes. Rank 0 alone writes the run
folder (metrics, samples, checkpoints, adapter); a SIGTERM to any process stops them all
after the same step.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trainer.ppo.checkpoint import cancel_on_sigterm
from trainer.ppo.config import PPOConfig
from trainer.runfolder import RunFolder, RunResult, open_run

EXIT_HINT = "rerun the same command with --resume true to continue"
SAMPLE_SALT = 1000  # process r samples with step_seed(seed, step, r * SAMPLE_SALT): rank 0 as one process


def run(cfg: PPOConfig) -> RunResult:
    threads_asked = cfg.threads  # open_run resolves threads: 0 to the training count
    with open_run("ppo", cfg) as folder, cancel_on_sigterm() as cancel:
        import torch

        from trainer import distributed
        from trainer.data import load_prompts
        from trainer.generate import render_all
        from trainer.models import (
            count_parameters,
            load_tokenizer,
            lora_config,
            resolve_model,
            save_model,
        )
        from trainer.ppo.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
        from trainer.ppo.kl import make_controller
        from trainer.ppo.rewards import RewardSources, ScoreNormalizer, shape_scores
        from trainer.ppo.rollout import prompt_indices, sample, step_seed
        from trainer.ppo.update import prepare, update
        from trainer.ppo.value import POLICY, VALUE, ValueHead, add_adapters

        threads = Threads.plan(threads_asked, cfg.device)
        world = distributed.world()
        mine = world.shard(cfg.batch_size)  # this process's rows of every step's batch

        # Data: the prompts, rendered as `trainer generate` renders them.
        start_ref = resolve_model(cfg.model, cfg.adapter)  # the model asked for, maybe with a starting adapter
        tokenizer = load_tokenizer(start_ref)
        rows = load_prompts(cfg.prompts)
        texts = render_all(tokenizer, [r["prompt"] for r in rows], cfg)

        # Models: one base (the starting adapter merged in); a policy adapter and a value
        # adapter + head on it; the reference is that base with the adapters disabled.
        base, base_ref = load_base(start_ref, cfg, folder, tokenizer)
        adapters = add_adapters(base, lora_config(cfg, "CAUSAL_LM"))
        model = adapters.model
        model.eval()  # dropout off throughout: log-prob ratios must compare like with like
        torch.manual_seed(cfg.seed)
        head = ValueHead(model.config.hidden_size).to(cfg.device)
        named = list(adapters.trainable)
        params = [p for _, p in named] + list(head.parameters())
        world.broadcast_parameters(params)
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, eps=cfg.adam_eps)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: max(0.0, 1.0 - s / cfg.steps) if cfg.lr_schedule == "linear" else 1.0
        )
        kl_ctl = make_controller(cfg)
        normalizer = ScoreNormalizer(cfg.score_norm)
        rewards = RewardSources(cfg, cfg.device)

        def state() -> dict[str, Any]:
            return {
                "config": _config(cfg),
                "trainable": {n: p.detach().cpu().clone() for n, p in named},
                "value_head": head.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "kl_controller": kl_ctl.state_dict(),
                "score_normalizer": normalizer.state_dict(),
                "metrics_lines": (folder.path / "metrics.jsonl").read_text("utf-8").splitlines(),
            }

        def checkpoint(step: int) -> Path | None:
            if not folder.main:
                return None
            save = lambda path: model.save_pretrained(path, selected_adapters=["default"])  # noqa: E731
            return save_checkpoint(folder.path, step, state(), save, cfg.keep_checkpoints)

        # Resume: weights, optimizer, controller and metrics from the newest checkpoint.
        start = 0
        if cfg.resume:
            found = latest_checkpoint(folder.path)
            if found is None:
                from trainer.config import ConfigError

                raise ConfigError(f"field 'resume': no checkpoint in {folder.path / 'checkpoints'}")
            saved = load_checkpoint(found, _config(cfg))
            with torch.no_grad():
                for n, p in named:
                    p.copy_(saved["trainable"][n])
            head.load_state_dict(saved["value_head"])
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            kl_ctl.load_state_dict(saved["kl_controller"])
            normalizer.load_state_dict(saved["score_normalizer"])
            start = saved["step"]
            _replay_metrics(folder, saved["metrics_lines"])
        if folder.main:
            _keep_samples(folder, start)
        folder.resolve(
            base=base_ref.base, adapter_start=start_ref.adapter, prompts=len(rows),
            reward_sources=rewards.names, reward_weights=rewards.weights, resumed_from_step=start or None,
            params_total=count_parameters(model)["params_total"] + sum(p.numel() for p in head.parameters()),
            params_policy_adapter=sum(p.numel() for n, p in named if f".{POLICY}." in n),
            params_value_adapter=sum(p.numel() for n, p in named if f".{VALUE}." in n),
            params_value_head=sum(p.numel() for p in head.parameters()),
        )

        # The loop: sample, score, prepare, update; checkpoint every save_every steps, at the
        # end, and after the step in which SIGTERM arrived.
        bar = folder.progress(cfg.steps, "ppo", initial=start)
        step, saved_at, last, completions = start, None, {}, []
        stop = world.any(cancel.requested)
        while step < cfg.steps and not stop:
            step += 1
            t0 = _clock(cfg.device)
            idx = prompt_indices(len(rows), cfg.batch_size, step, cfg.seed)
            with threads.for_sampling():
                seed = step_seed(cfg.seed, step, salt=SAMPLE_SALT * world.rank)
                rollout = sample(model, tokenizer, [texts[i] for i in idx[mine]], cfg, seed, cfg.device)
            t1 = _clock(cfg.device)

            kept_ids = [r[m.bool()].tolist() for r, m in zip(rollout.response_ids, rollout.response_mask, strict=True)]
            raw, parts = rewards([rows[i]["prompt"] for i in idx[mine]], rollout.completions, kept_ids)
            raw = world.gather(torch.tensor(raw, dtype=torch.float32, device=cfg.device))  # the whole batch's
            has_eos = world.gather(rollout.has_eos)
            scores = shape_scores(raw, has_eos, normalizer, cfg)[mine]
            t2 = _clock(cfg.device)

            kl_coef = kl_ctl.value
            batch, objective = prepare(adapters, head, rollout, scores, kl_coef, cfg, world)
            t3 = _clock(cfg.device)
            gen = torch.Generator().manual_seed(step_seed(cfg.seed, step, salt=2))
            stats = update(adapters, head, optimizer, params, batch, rollout.start, cfg, gen, world)
            lr = schedule.get_last_lr()[0]
            schedule.step()
            kl_ctl.update(objective["objective/kl"], cfg.batch_size)
            t4 = _clock(cfg.device)

            last = {
                **objective,
                "objective/raw_scores": float(raw.mean()),
                **{f"reward/{name}": world.mean(sum(v) / len(v)) for name, v in parts.items()},
                **stats,
                "val/num_eos_tokens": int(has_eos.sum()),
                "response/length_mean": world.mean(float(rollout.response_mask.sum(1).float().mean())),
                "response/eos_rate": float(has_eos.float().mean()),
                "kl_coef": kl_coef,
                "lr": lr,
                "episode": step * cfg.batch_size,
                "timing/generate_s": t1 - t0,
                "timing/score_s": t2 - t1,
                "timing/forward_s": t3 - t2,
                "timing/update_s": t4 - t3,
                "timing/step_s": t4 - t0,
            }
            folder.log(step, **last)
            completions = world.gather_objects(rollout.completions)
            if folder.main:
                _write_samples(folder, step, [rows[i]["prompt"] for i in idx], completions, raw, has_eos, cfg.log_samples)
            bar.update(1)
            stop = world.any(cancel.requested)
            if stop or step == cfg.steps or (cfg.save_every and step % cfg.save_every == 0):
                saved_at = checkpoint(step)
        bar.close()
        if saved_at is None:  # SIGTERM before the first step, or nothing left to do
            saved_at = checkpoint(step)

        # The policy adapter (the new policy version) and the summary.
        save_model(folder, model, tokenizer, base_ref, kind="causal-lm")
        guards = None
        if not stop and folder.main:
            with threads.for_sampling():
                guards = _guards(model, tokenizer, [r["prompt"] for r in rows], cfg)
        summary = _summary(folder, last, completions, kl_ctl.value, step, guards) if folder.main else {"steps": step}
        if stop:
            summary |= {"status": "cancelled", "cancelled_at_step": step, "resume": EXIT_HINT}
        return folder.finish(
            **summary,
            adapter=str(folder.artifact("adapter")), base=base_ref.base_name,
            reference="starting adapter merged into the base (adapters disabled)" if start_ref.adapter else "base (adapters disabled)",
            value_model="own LoRA adapter + linear head on the shared base",
            checkpoint=str(saved_at),
        )


def load_base(start_ref, cfg: PPOConfig, folder: RunFolder, tokenizer):
    """(the base weights as a plain causal LM, the reference to them). A starting adapter (an
    SFT run) is merged in and the merged model saved in RUN_DIR/base, so the saved PPO
    adapter has a base to load on."""
    from trainer.models import ModelRef, load_causal_lm

    if start_ref.adapter is None:
        return load_causal_lm(start_ref, cfg.device), start_ref
    merged = load_causal_lm(start_ref, cfg.device).merge_and_unload()
    path = folder.artifact("base")
    if folder.main:
        merged.save_pretrained(path)
        tokenizer.save_pretrained(path)
    return merged, ModelRef(start_ref.spec, str(path.resolve()), None, str(path.resolve()), base_name=str(path.resolve()))


@dataclasses.dataclass(frozen=True)
class Threads:
    """Torch CPU threads for training and for sampling.

    With ``threads: 0`` on a CPU the trainer samples on one thread (its rule for generation)
    and trains on what :func:`trainer.runtime.pick_threads` picks (1 on <= 2 cores, else
    half the cores, at most 8): the number ``open_run`` sets. Otherwise both are the same."""

    training: int
    sampling: int

    @classmethod
    def plan(cls, threads: int, device: str) -> Threads:
        """From the config's ``threads`` and ``device`` as given (0 and "auto" mean: pick)."""
        from trainer.runtime import pick_device, pick_threads

        device = pick_device(device)
        return cls(pick_threads(threads, device), pick_threads(threads, device, generating=True))

    @contextmanager
    def for_sampling(self) -> Iterator[None]:
        """The block on the sampling threads, then back on the training threads."""
        from trainer.runtime import set_threads

        if self.sampling == self.training:
            yield
            return
        set_threads(self.sampling)
        try:
            yield
        finally:
            set_threads(self.training)


def _config(cfg: PPOConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def _clock(device: str) -> float:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    return time.perf_counter()


def _replay_metrics(folder: RunFolder, lines: list[str]) -> None:
    """Put the checkpoint's metrics lines back, and continue elapsed_s where they ended."""
    folder.replay(lines)
    if lines:
        folder.started = time.time() - float(json.loads(lines[-1]).get("elapsed_s") or 0.0)


def _keep_samples(folder: RunFolder, start: int) -> None:
    """samples.jsonl keeps the lines of steps up to `start` (all of them on a fresh run: none)."""
    path = folder.artifact("samples.jsonl")
    kept = []
    if start and path.is_file():
        kept = [line for line in path.read_text("utf-8").splitlines() if json.loads(line)["step"] <= start]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _write_samples(folder: RunFolder, step: int, prompts, completions, raw, has_eos, n: int) -> None:
    """The first `n` responses of the step, for reading a run: what is the policy saying?"""
    with open(folder.artifact("samples.jsonl"), "a", encoding="utf-8") as fh:
        for i in range(min(n, len(prompts))):
            row = {
                "step": step, "prompt": prompts[i], "completion": completions[i],
                "score": float(raw[i]), "eos": bool(has_eos[i]),
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _guards(model, tokenizer, prompts: list[Any], cfg: PPOConfig) -> dict[str, Any] | None:
    """The guards of the trained policy against its reference, on the run's prompts (trainer.guards)."""
    from trainer.guards import measure

    return measure(model, tokenizer, prompts, cfg, limit=cfg.guard_prompts, kl_target=cfg.kl_target,
                   seed=cfg.seed, device=cfg.device)


def _summary(
    folder: RunFolder, last: dict[str, Any], completions: list[str], kl_coef: float, step: int,
    guards: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Final reward and KL, the last batch's length, EOS rate and diversity, and the guards
    (policy against base on the guard prompts) when they ran."""
    from trainer.textmetrics import distinct_n

    extra = {"guards": guards} if guards is not None else {}
    if not last:
        return {"steps": step, **extra}
    first = json.loads((folder.path / "metrics.jsonl").read_text("utf-8").splitlines()[0])
    return {
        "steps": step,
        "reward_mean_first": first["objective/raw_scores"],
        "reward_mean_final": last["objective/raw_scores"],
        "score_mean_final": last["objective/scores"],
        "rlhf_reward_final": last["objective/rlhf_reward"],
        "kl_final": last["objective/kl"],
        "kl_coef_final": kl_coef,
        "response_length_mean": last["response/length_mean"],
        "eos_rate": last["response/eos_rate"],
        "distinct_1": distinct_n(completions, 1),
        "distinct_2": distinct_n(completions, 2),
        **extra,
    }
