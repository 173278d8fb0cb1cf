"""Throughput of `trainer reward` against a bare PyTorch loop, and of length grouping.

    .venv/bin/python benchmarks/trainer_reward.py [--pairs 512] [--repeats 5] [--hh PATH]

1. Overhead: the reward trainer exactly as `trainer reward` builds it (TRL's RewardTrainer,
   our TrainingArguments) against a plain loop with the same model (tiny-rm + the same LoRA,
   same seed), the same batches (sequential order, TRL's collator) and the same optimizer
   (AdamW, linear schedule, clipping at 1.0). Target: trainer time <= 1.1x the bare loop.
2. Length grouping on HH-RLHF lengths: random batches against length-grouped ones, both
   through the trainer; padding share measured on the batches the trainer actually built.
3. Where a GPU is available: a ~90M-parameter Llama (built from a config, no download) in
   bf16 through the same trainer path, with its model-FLOPs utilisation (MFU).

Prints one line per measurement and a JSON summary at the end. Not part of the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on sys.path, where benchmarks/queue.py
# would shadow the standard library's queue (torch imports it): use the repo root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

HH = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "hh-rlhf-harmless-base-test.jsonl.gz"
# Dense bf16 peak TFLOPS of common accelerators, for MFU.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "L4": 121.0}


def load_pairs(path: Path | None, n: int) -> list[dict]:
    """HH-RLHF pairs where available (real lengths), else the synthetic learnable preference."""
    from trainer.data import load_preferences

    if path is not None and path.exists():
        return load_preferences(path)[:n]
    from tests.trainer.synthetic import learnable_pairs

    print(f"# {path} not found: using synthetic pairs", file=sys.stderr)
    pairs = learnable_pairs(n, seed=0)
    return [{**p, "margin": None, "group": str(p["task_id"])} for p in pairs]


def make_cfg(out: Path, **kw):
    from trainer.reward import RewardConfig

    cfg = RewardConfig(out=str(out), data="-", progress="off", **kw)
    return cfg


def setup(cfg, device: str, threads: int, base: str = "tiny-rm", dtype=None):
    """Resolve runtime settings as `trainer reward` does, load tokenizer and a fresh model."""
    from trainer import runtime
    from trainer.models import load_reward_model, load_tokenizer, resolve_model

    runtime.quiet_libraries()
    cfg.device, cfg.threads = device, threads
    cfg.bf16 = "true" if runtime.pick_bf16(cfg.bf16, device) else "false"
    runtime.set_threads(threads)
    runtime.seed_everything(cfg.seed)
    ref = resolve_model(base)
    tok = load_tokenizer(ref)
    return ref, tok, load_reward_model(ref, tok, device, dtype=dtype)


def run_trainer(cfg, ref, tok, model, cols, sampling: str, keep_model: bool = False) -> dict:
    """Train one epoch through reward.build_trainer; count real and padded tokens per batch.
    ``keep_model``: also return the trained model (with its adapter) under "model"."""
    from trainer.hf import fit, metrics_callback
    from trainer.reward import build_trainer
    from trainer.runfolder import RunFolder

    folder = RunFolder(cfg.out, "reward-benchmark", cfg)
    trainer = build_trainer(cfg, folder, model, tok, cols, {}, metrics_callback(folder), train_sampling_strategy=sampling)
    collate = trainer.data_collator
    counts = {"real": 0, "padded": 0}

    def counting(examples):
        batch = collate(examples)
        counts["real"] += int(batch["attention_mask"].sum())
        counts["padded"] += batch["attention_mask"].numel()
        return batch

    trainer.data_collator = counting
    start, cpu_start = time.perf_counter(), time.process_time()
    fit(trainer)  # trainer.train() as `trainer reward` calls it
    _sync(cfg.device)
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "cpu_seconds": time.process_time() - cpu_start, **counts, "steps": trainer.state.global_step}
    return out | {"model": trainer.model} if keep_model else out


def run_bare(cfg, model, cols, lora: bool = True) -> dict:
    """The same epoch as a plain loop: same LoRA, batches, optimizer, schedule and clipping.
    ``lora=False`` trains every weight instead (benchmarks/gpu_check.py: DeepSpeed-Chat's setting)."""
    import torch
    import torch.nn.functional as F
    from peft import get_peft_model
    from transformers import get_linear_schedule_with_warmup
    from trl.trainer.reward_trainer import DataCollatorForPreference

    from trainer.models import lora_config

    if lora:
        model = get_peft_model(model, lora_config(cfg, "SEQ_CLS"))
    params = [p for p in model.parameters() if p.requires_grad]
    # The Trainer's default optimizer is torch's fused AdamW ("adamw_torch_fused").
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=True)
    n = len(cols["chosen_ids"])
    steps = (n + cfg.batch_size - 1) // cfg.batch_size
    sched = get_linear_schedule_with_warmup(opt, 0, steps)
    collate = DataCollatorForPreference(pad_token_id=model.config.pad_token_id)
    examples = [{"chosen_ids": c, "rejected_ids": r} for c, r in zip(cols["chosen_ids"], cols["rejected_ids"], strict=True)]
    autocast = torch.autocast(cfg.device.split(":")[0], dtype=torch.bfloat16, enabled=cfg.bf16 == "true")
    model.train()
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, n, cfg.batch_size):
        batch = {k: v.to(cfg.device) for k, v in collate(examples[i : i + cfg.batch_size]).items()}
        with autocast:
            rewards = model(**batch, use_cache=False).logits.squeeze(-1)
        chosen, rejected = rewards.float().chunk(2)
        loss = -F.logsigmoid(chosen - rejected).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    _sync(cfg.device)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start, "steps": steps}


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def overhead(pairs, args, device, threads) -> dict:
    """Part 1: trainer vs bare loop, alternating, `repeats` times each. On a shared machine
    wall time swings with other processes' load; CPU time (one torch thread) much less."""
    from trainer.reward import encode_pairs

    results = {"trainer": [], "bare": []}
    cpu = {"trainer": [], "bare": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            for kind in ("trainer", "bare"):
                cfg = make_cfg(Path(tmp) / f"{kind}{rep}", batch_size=args.batch_size, max_length=args.max_length)
                ref, tok, model = setup(cfg, device, threads)
                cols, _ = encode_pairs(tok, pairs, cfg.max_length)
                out = run_trainer(cfg, ref, tok, model, cols, "sequential") if kind == "trainer" else run_bare(cfg, model, cols)
                results[kind].append(out["seconds"])
                cpu[kind].append(out["cpu_seconds"])
                print(f"overhead  rep {rep}  {kind:<8} {out['seconds']:.3f} s wall  {out['cpu_seconds']:.3f} s CPU  "
                      f"{len(pairs) / out['seconds']:.1f} pairs/s", flush=True)
    real_tokens = sum(len(c) + len(r) for c, r in zip(cols["chosen_ids"], cols["rejected_ids"], strict=True))
    best = {k: min(v) for k, v in results.items()}
    med = {k: statistics.median(v) for k, v in results.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "cpu_s_median": cpu_med, "cpu_ratio_median": cpu_med["trainer"] / cpu_med["bare"],
        "pairs": len(pairs), "real_tokens": real_tokens, "batch_size": args.batch_size, "max_length": args.max_length,
        "trainer_s_min": best["trainer"], "bare_s_min": best["bare"],
        "trainer_s_median": med["trainer"], "bare_s_median": med["bare"],
        "ratio_min": best["trainer"] / best["bare"], "ratio_median": med["trainer"] / med["bare"],
        "trainer_pairs_per_s": len(pairs) / best["trainer"], "bare_pairs_per_s": len(pairs) / best["bare"],
        "trainer_tokens_per_s": real_tokens / best["trainer"], "bare_tokens_per_s": real_tokens / best["bare"],
    }


def grouping(pairs, args, device, threads) -> dict:
    """Part 2: random vs length-grouped batches through the trainer, on real lengths."""
    from trainer.reward import encode_pairs

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sampling in ("random", "group_by_length"):
            cfg = make_cfg(Path(tmp) / sampling, batch_size=args.batch_size, max_length=args.hh_max_length)
            ref, tok, model = setup(cfg, device, threads)
            cols, _ = encode_pairs(tok, pairs, cfg.max_length)
            r = run_trainer(cfg, ref, tok, model, cols, sampling)
            r |= {"pairs_per_s": len(pairs) / r["seconds"], "tokens_per_s": r["real"] / r["seconds"],
                  "padding_share": 1 - r["real"] / r["padded"]}
            out[sampling] = r
            print(f"grouping  {sampling:<16} {r['seconds']:.2f} s  {r['pairs_per_s']:.1f} pairs/s  "
                  f"{r['tokens_per_s']:.0f} tokens/s  padding {r['padding_share']:.1%}", flush=True)
    out["speedup"] = out["random"]["seconds"] / out["group_by_length"]["seconds"]
    out["pairs"] = len(pairs)
    return out


def gpu_mfu(pairs, args) -> dict:
    """Part 3: a ~90M-parameter Llama reward model in bf16 on the GPU, through the trainer."""
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from trainer.models import load_tokenizer, resolve_model
    from trainer.reward import encode_pairs

    tok = load_tokenizer(resolve_model("tiny-rm"))
    config = LlamaConfig(vocab_size=len(tok), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         num_key_value_heads=12, intermediate_size=2048, num_labels=1, pad_token_id=tok.pad_token_id)
    with tempfile.TemporaryDirectory() as tmp:
        # Saved and reloaded: a model built from a config has no name_or_path for the trainers.
        torch.manual_seed(0)
        LlamaForSequenceClassification(config).save_pretrained(Path(tmp) / "m")
        tok.save_pretrained(Path(tmp) / "m")
        cfg = make_cfg(Path(tmp) / "run", batch_size=args.gpu_batch_size, max_length=args.hh_max_length)
        ref, tok, model = setup(cfg, "cuda", 4, base=str(Path(tmp) / "m"))
        cols, _ = encode_pairs(tok, pairs, cfg.max_length)
        run_trainer(cfg, ref, tok, model, {k: v[: 4 * cfg.batch_size] for k, v in cols.items()}, "group_by_length")  # warm-up
        ref, tok, model = setup(cfg, "cuda", 4, base=str(Path(tmp) / "m"))
        r = run_trainer(cfg, ref, tok, model, cols, "group_by_length")
    n_params = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(0)
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    # LoRA: the frozen base needs forward (2N) and input-gradient backward (2N) FLOPs per token.
    flops = 4 * n_params * r["padded"]
    out = {"device": name, "params": n_params, "seconds": r["seconds"], "pairs_per_s": len(pairs) / r["seconds"],
           "tokens_per_s": r["real"] / r["seconds"], "achieved_tflops": flops / r["seconds"] / 1e12}
    if peak:
        out["mfu"] = out["achieved_tflops"] / peak
    print(f"gpu       {name}  {n_params / 1e6:.0f}M params  {out['tokens_per_s']:.0f} tokens/s  "
          f"{out['achieved_tflops']:.1f} TFLOPS  MFU {out.get('mfu', float('nan')):.1%}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=512, help="pairs for the overhead comparison")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=256, help="token limit in the overhead comparison")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hh", type=Path, default=HH, help="HH-RLHF file for real lengths")
    parser.add_argument("--hh-pairs", type=int, default=512, help="pairs for the length-grouping comparison")
    parser.add_argument("--hh-max-length", type=int, default=512)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: as `trainer reward` picks)")
    parser.add_argument("--skip-gpu", action="store_true")
    parser.add_argument("--gpu-batch-size", type=int, default=32)
    parser.add_argument("--peak-tflops", type=float, default=None, help="accelerator bf16 peak, for MFU")
    args = parser.parse_args()

    import torch

    from trainer import runtime

    threads = runtime.pick_threads(args.threads, "cpu")
    print(f"# CPU: {runtime.cpu_count()} cores, {threads} torch thread(s); torch {torch.__version__}", flush=True)
    summary = {"threads": threads}
    summary["overhead"] = overhead(load_pairs(args.hh, args.pairs), args, "cpu", threads)
    o = summary["overhead"]
    print(f"overhead  trainer/bare = {o['ratio_min']:.3f} wall (best of {args.repeats}), {o['ratio_median']:.3f} wall "
          f"(median), {o['cpu_ratio_median']:.3f} CPU time (median); "
          f"trainer {o['trainer_pairs_per_s']:.1f} pairs/s {o['trainer_tokens_per_s']:.0f} tokens/s, "
          f"bare {o['bare_pairs_per_s']:.1f} pairs/s {o['bare_tokens_per_s']:.0f} tokens/s", flush=True)
    if args.hh.exists():
        summary["grouping"] = grouping(load_pairs(args.hh, args.hh_pairs), args, "cpu", threads)
    else:
        print(f"# {args.hh} not found: skipping the length-grouping comparison", flush=True)
    if torch.cuda.is_available() and not args.skip_gpu:
        summary["gpu"] = gpu_mfu(load_pairs(args.hh, args.hh_pairs), args)
    else:
        print("# no GPU: skipping the ~90M-parameter bf16 / MFU measurement", flush=True)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
