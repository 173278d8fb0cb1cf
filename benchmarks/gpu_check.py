"""The trainer on one NVIDIA GPU: reward-model throughput and MFU in bf16, a PPO step split by
phase, peak memory. Started by benchmarks/gpu_check.sh (which installs what it needs first).

    benchmarks/gpu_check.sh                          # on a machine with an NVIDIA GPU
    .venv/bin/python benchmarks/gpu_check.py --size small --device cpu   # the same code, in seconds, anywhere

The model is built from a config (no download): a Llama of 24 layers, width 1024, 16 heads and an
MLP of 2816 (``--size 350m``: about 300M parameters without embeddings, OPT-350m's size) over the
tiny tokenizer's vocabulary, with random weights. Sequences are random token ids of a fixed
length (``--seq-len``, 512: DeepSpeed-Chat's step-2 setting), so there is no padding and every
token counts.

1. Reward model, as ``trainer reward --bf16 true`` trains it: TRL's RewardTrainer with our
   TrainingArguments and LoRA adapter (reward.build_trainer), bf16 autocast over float32 weights.
2. Reward model in a plain loop with the same batches, AdamW and bf16 autocast
   (trainer_reward.run_bare): with the same LoRA adapter (what the trainer costs on top), and
   with every weight trained (DeepSpeed-Chat's setting for its published figure).
3. One PPO step of ``trainer ppo`` (trainer.ppo.run, ``bf16: auto``: bf16 autocast on a GPU
   that has it) with that model as the policy and the reward run of part 1 as the reward model: median seconds of generation, scoring, the
   no-gradient forward passes and the update, over the steps after a warm-up step.

Model FLOPs per token (PaLM's convention, attention included, no recomputation counted):
forward 2N + 4·L·d·T (N non-embedding weights, L layers, width d, T tokens in the sequence);
full training three forwards; LoRA training two (forward + the input-gradient backward of the
frozen weights; the adapters' own FLOPs are left out). MFU is achieved over ``--peak-tflops``
(default: the datasheet's dense bf16 peak for the card's name).

Prints one line per measurement, then a Markdown table (the part for docs/benchmarks.md) and a
JSON line with every figure. Not part of the test suite.
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

from benchmarks.ppo_step import PHASES, cpu_name, prompts_file  # noqa: E402
from benchmarks.trainer_reward import PEAK_TFLOPS, make_cfg, run_bare, run_trainer, setup  # noqa: E402

SIZES = {
    # name: (hidden, layers, heads, mlp)
    "350m": (1024, 24, 16, 2816),
    "125m": (768, 12, 12, 2048),
    "small": (64, 2, 4, 128),  # for trying the script on a CPU
}


def build_models(folder: Path, size: str) -> tuple[Path, Path, dict]:
    """The same random Llama saved twice: a sequence classifier (reward base) and a causal LM
    (policy base), with the tiny tokenizer. Returns both folders and the shape."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

    from trainer.models import load_tokenizer, resolve_model

    tok = load_tokenizer(resolve_model("tiny"))
    hidden, layers, heads, mlp = SIZES[size]
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=heads, intermediate_size=mlp, max_position_embeddings=2048, tie_word_embeddings=False,
        eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, num_labels=1,
    )
    rm_dir, lm_dir = folder / "rm-base", folder / "lm-base"
    torch.manual_seed(0)
    rm = LlamaForSequenceClassification(config)
    n = sum(p.numel() for name, p in rm.named_parameters() if "embed_tokens" not in name and "score" not in name)
    rm.save_pretrained(rm_dir)
    tok.save_pretrained(rm_dir)
    del rm
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(lm_dir)
    tok.save_pretrained(lm_dir)
    return rm_dir, lm_dir, {"hidden": hidden, "layers": layers, "non_embedding_params": n, "vocab": len(tok)}


def random_pairs(n: int, seq_len: int, vocab: int, eos: int, seed: int) -> dict[str, list]:
    """Pre-tokenized pairs of exactly seq_len tokens each (the last one EOS, as the scorer ends)."""
    import random

    rng = random.Random(seed)
    cols: dict[str, list] = {"chosen_ids": [], "rejected_ids": [], "length": []}
    for _ in range(n):
        for key in ("chosen_ids", "rejected_ids"):
            cols[key].append([rng.randrange(3, vocab) for _ in range(seq_len - 1)] + [eos])
        cols["length"].append(seq_len)
    return cols


def flops_per_token(shape: dict, seq_len: int, lora: bool) -> float:
    forward = 2 * shape["non_embedding_params"] + 4 * shape["layers"] * shape["hidden"] * seq_len
    return forward * (2 if lora else 3)


def peak_memory_gib(device: str) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


def reset_peak(device: str) -> None:
    import gc

    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def reward_lora(args, tmp: Path, rm_dir: Path, shape: dict) -> tuple[dict, Path]:
    """Part 1. Returns the figures and the reward run folder (for PPO's reward model)."""
    from trainer.models import save_model

    reset_peak(args.device)
    cfg = make_cfg(tmp / "warm", batch_size=args.batch_size, max_length=args.seq_len, bf16="true")
    ref, tok, model = setup(cfg, args.device, args.threads, base=str(rm_dir))
    warm = random_pairs(4 * args.batch_size, args.seq_len, shape["vocab"], tok.eos_token_id, seed=1)
    run_trainer(cfg, ref, tok, model, warm, "sequential")  # kernels, allocator, autotuning
    del model
    reset_peak(args.device)
    cfg = make_cfg(tmp / "reward", batch_size=args.batch_size, max_length=args.seq_len, bf16="true")
    ref, tok, model = setup(cfg, args.device, args.threads, base=str(rm_dir))
    cols = random_pairs(args.pairs, args.seq_len, shape["vocab"], tok.eos_token_id, seed=2)
    r = run_trainer(cfg, ref, tok, model, cols, "sequential", keep_model=True)
    assert r["real"] == r["padded"] == 2 * args.pairs * args.seq_len, r  # no padding: every token counted
    out = figures(args, r["seconds"], shape, lora=True) | {"steps": r["steps"], "peak_gib": peak_memory_gib(args.device)}
    # Saved as `trainer reward` saves it, so part 3 loads it as a reward model.
    from trainer.runfolder import RunFolder

    folder = RunFolder(tmp / "rm-run", "reward", cfg)
    save_model(folder, r.pop("model"), tok, ref, kind="reward")
    print(line("reward, LoRA (trainer reward)", out), flush=True)
    return out, folder.path


def reward_bare(args, tmp: Path, rm_dir: Path, shape: dict, lora: bool) -> dict:
    """Part 2: the plain loop, every weight trained (lora=False) or the same LoRA adapter (lora=True,
    which separates the trainer's own cost from LoRA's)."""
    reset_peak(args.device)
    cfg = make_cfg(tmp / "bare-warm", batch_size=args.batch_size, max_length=args.seq_len, bf16="true",
                   **({} if lora else {"learning_rate": 1e-5}))
    _, tok, model = setup(cfg, args.device, args.threads, base=str(rm_dir))
    run_bare(cfg, model, random_pairs(4 * args.batch_size, args.seq_len, shape["vocab"], tok.eos_token_id, 1), lora=lora)
    del model
    reset_peak(args.device)
    _, tok, model = setup(cfg, args.device, args.threads, base=str(rm_dir))
    r = run_bare(cfg, model, random_pairs(args.pairs, args.seq_len, shape["vocab"], tok.eos_token_id, 2), lora=lora)
    out = figures(args, r["seconds"], shape, lora=lora) | {"steps": r["steps"], "peak_gib": peak_memory_gib(args.device)}
    del model
    print(line(f"reward, {'LoRA' if lora else 'full fine-tune'} (plain loop)", out), flush=True)
    return out


def figures(args, seconds: float, shape: dict, lora: bool) -> dict:
    tokens = 2 * args.pairs * args.seq_len
    tflops = flops_per_token(shape, args.seq_len, lora) * tokens / seconds / 1e12
    out = {"seconds": seconds, "pairs_per_s": args.pairs / seconds, "tokens_per_s": tokens / seconds,
           "tflops": tflops}
    if args.peak:
        out["mfu"] = tflops / args.peak
    return out


def line(name: str, r: dict) -> str:
    mfu = f"  MFU {r['mfu']:.1%}" if "mfu" in r else ""
    mem = f"  peak {r['peak_gib']:.1f} GiB" if r.get("peak_gib") is not None else ""
    return f"{name:<38} {r['pairs_per_s']:8.1f} pairs/s {r['tokens_per_s']:9.0f} tokens/s {r['tflops']:7.1f} TFLOP/s{mfu}{mem}"


def ppo_step(args, tmp: Path, lm_dir: Path, rm_run: Path) -> dict:
    """Part 3: the real `trainer ppo` loop; medians of its logged per-step timings."""
    from trainer.ppo import PPOConfig, run

    reset_peak(args.device)
    cfg = PPOConfig(
        out=str(tmp / "ppo"), model=str(lm_dir), reward_model=str(rm_run),
        prompts=str(prompts_file(tmp / "prompts.jsonl")), device=args.device, threads=args.threads,
        steps=args.ppo_steps, batch_size=args.ppo_batch_size, minibatch_size=args.ppo_minibatch_size,
        ppo_epochs=4, max_new_tokens=args.max_new_tokens, save_every=0, progress="off",
    )
    result = run(cfg)
    rows = [json.loads(x) for x in (result.out / "metrics.jsonl").read_text().splitlines()]
    timed = rows[1:] if len(rows) > 1 else rows  # the first step warms up
    out = {p: statistics.median(r[f"timing/{p}_s"] for r in timed) for p in PHASES}
    out["step"] = statistics.median(r["timing/step_s"] for r in timed)
    out["response_tokens"] = statistics.mean(r["response/length_mean"] for r in timed)
    out["steps_timed"] = len(timed)
    out["bf16"] = json.loads((result.out / "config.json").read_text())["bf16"] == "true"
    out["peak_gib"] = peak_memory_gib(args.device)
    print("ppo step  " + "  ".join(f"{p} {out[p]:.3f} s" for p in (*PHASES, "step"))
          + (f"  peak {out['peak_gib']:.1f} GiB" if out["peak_gib"] is not None else ""), flush=True)
    return out


def table(args, device: str, shape: dict, lora: dict, lora_bare: dict, full: dict, ppo: dict) -> str:
    n = shape["non_embedding_params"] / 1e6
    rows = [
        f"Device: {device}; torch {args.torch}; model: Llama, {shape['layers']} layers, width {shape['hidden']}, "
        f"{n:.0f}M non-embedding parameters (random weights, built from a config); pairs of {args.seq_len} tokens, "
        f"batch {args.batch_size} pairs; peak {args.peak or 'unknown'} TFLOP/s for MFU.",
        "",
        "| measurement | pairs/s | tokens/s | TFLOP/s | MFU | peak memory |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in (("reward model, LoRA r=8, bf16 (`trainer reward`)", lora),
                    ("reward model, LoRA r=8, bf16, plain loop", lora_bare),
                    ("reward model, all weights, bf16, plain loop (DeepSpeed-Chat's setting)", full)):
        mfu = f"{r['mfu']:.1%}" if "mfu" in r else "–"
        mem = f"{r['peak_gib']:.1f} GiB" if r.get("peak_gib") is not None else "–"
        rows.append(f"| {name} | {r['pairs_per_s']:.1f} | {r['tokens_per_s']:.0f} | {r['tflops']:.1f} | {mfu} | {mem} |")
    rows.append("| DeepSpeed-Chat, OPT-350m reward model (published, per GPU) | 13.6 | | | | |")
    rows += [
        "",
        f"PPO step (`trainer ppo`, {'bf16 autocast over float32 weights' if ppo['bf16'] else 'float32'}): "
        f"{args.ppo_batch_size} prompts, up to {args.max_new_tokens} new tokens "
        f"({ppo['response_tokens']:.0f} on average), 4 epochs of minibatch {args.ppo_minibatch_size}; medians of "
        f"{ppo['steps_timed']} steps after a warm-up step.",
        "",
        "| phase | seconds | share |",
        "|---|---|---|",
    ]
    for phase in (*PHASES, "step"):
        rows.append(f"| {phase} | {ppo[phase]:.3f} | {ppo[phase] / ppo['step']:.0%} |")
    mem = f"{ppo['peak_gib']:.1f} GiB" if ppo.get("peak_gib") is not None else "–"
    rows.append(f"| peak memory | {mem} | |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="350m")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--threads", type=int, default=4, help="torch CPU threads")
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=16, help="pairs per batch (reward model)")
    parser.add_argument("--pairs", type=int, default=1024, help="pairs in each timed reward-model epoch")
    parser.add_argument("--ppo-steps", type=int, default=4, help="PPO steps (the first is a warm-up)")
    parser.add_argument("--ppo-batch-size", type=int, default=64)
    parser.add_argument("--ppo-minibatch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--peak-tflops", type=float, default=None, help="the accelerator's dense bf16 peak, for MFU")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args()

    import torch

    from trainer import runtime

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU here (use --device cpu --size small to try the script)")
    runtime.quiet_libraries()
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else cpu_name()
    args.torch = torch.__version__
    args.peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in device), None)
    print(f"# {device}; torch {torch.__version__}; size {args.size}", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rm_dir, lm_dir, shape = build_models(tmp, args.size)
        print(f"# model: {shape['non_embedding_params'] / 1e6:.1f}M non-embedding parameters, "
              f"built in {time.perf_counter() - started:.0f} s", flush=True)
        lora, rm_run = reward_lora(args, tmp, rm_dir, shape)
        lora_bare = reward_bare(args, tmp, rm_dir, shape, lora=True)
        full = reward_bare(args, tmp, rm_dir, shape, lora=False)
        ppo = ppo_step(args, tmp, lm_dir, rm_run)
    print(f"# finished in {time.perf_counter() - started:.0f} s\n", flush=True)
    print(table(args, device, shape, lora, lora_bare, full, ppo))
    summary = {"device": device, "torch": torch.__version__, "size": args.size, "shape": shape,
               "seq_len": args.seq_len, "batch_size": args.batch_size, "pairs": args.pairs, "peak_tflops": args.peak,
               "reward_lora": lora, "reward_lora_plain_loop": lora_bare, "reward_full": full, "ppo": ppo}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
