"""Time of one `trainer ppo` step, split into generation, scoring and training.

    .venv/bin/python benchmarks/ppo_step.py [--model tiny] [--reward-model tiny-rm] [--device cpu]
                                            [--steps 6] [--batch-size 16] [--max-new-tokens 64]
    .venv/bin/python benchmarks/ppo_step.py --model random-100m --device cuda   # where a GPU is

It runs the real loop (`trainer.ppo.run`) in a temporary folder and reads the per-step
timings it logs: ``timing/generate_s`` (batched sampling with the KV cache),
``timing/score_s`` (decoding + the reward model), ``timing/forward_s`` (policy, reference
and value passes over the batch, no gradients) and ``timing/update_s`` (ppo_epochs passes of
minibatch forward + backward + AdamW, both adapters and the value head). "training" is
forward + update. The first step is a warm-up and is left out of the medians.

``--model random-100m`` builds a randomly initialised ~100M-parameter Llama (width 768,
12 layers, the tiny tokenizer's 2,048-token vocabulary) in a temporary folder: no
download. Its samples are noise and rarely stop at EOS, so every response runs to
``--max-new-tokens`` (the worst case for generation time). Not part of the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on sys.path, where benchmarks/queue.py
# would shadow the standard library's queue (torch imports it): use the repo root instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402

PHASES = ("generate", "score", "forward", "update")


def random_100m(folder: Path) -> str:
    """A ~100M-parameter Llama from a config (random weights) with the tiny tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from trainer.models import load_tokenizer, resolve_model

    tok = load_tokenizer(resolve_model("tiny"))
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=768, num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=12,
        intermediate_size=3072, max_position_embeddings=2048, tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def prompts_file(path: Path) -> Path:
    rows = [json.loads(line) for line in (Path(__file__).resolve().parent.parent / "fixtures" / "tiny" / "qa.jsonl")
            .read_text("utf-8").splitlines() if line.strip()]
    path.write_text("".join(json.dumps({"prompt": r["prompt"]}) + "\n" for r in rows), encoding="utf-8")
    return path


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", help="policy base: tiny, random-100m, or a model folder")
    parser.add_argument("--reward-model", default="tiny-rm", help="reward model (a `trainer reward` run or tiny-rm)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: the trainer's default)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--minibatch-size", type=int, default=8)
    parser.add_argument("--ppo-epochs", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()

    import torch

    from trainer.ppo import PPOConfig, run

    with tempfile.TemporaryDirectory() as tmp:
        model = random_100m(Path(tmp) / "model") if args.model == "random-100m" else args.model
        cfg = PPOConfig(
            out=str(Path(tmp) / "run"), model=model, reward_model=args.reward_model,
            prompts=str(prompts_file(Path(tmp) / "prompts.jsonl")), device=args.device, threads=args.threads,
            steps=args.steps, batch_size=args.batch_size, minibatch_size=args.minibatch_size,
            ppo_epochs=args.ppo_epochs, max_new_tokens=args.max_new_tokens, save_every=0, progress="off",
        )
        result = run(cfg)
        rows = [json.loads(line) for line in (result.out / "metrics.jsonl").read_text().splitlines()]
        resolved = json.loads((result.out / "config.json").read_text())

    timed = rows[1:] if len(rows) > 1 else rows  # the first step warms up (allocations, caches)
    median = {p: statistics.median(r[f"timing/{p}_s"] for r in timed) for p in PHASES}
    median["training"] = median["forward"] + median["update"]
    median["step"] = statistics.median(r["timing/step_s"] for r in timed)
    tokens = statistics.mean(r["response/length_mean"] for r in timed)
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else cpu_name()
    params = resolved["resolved"]["params_total"]
    print(f"# {device}, {os.cpu_count()} cores, torch threads {resolved['threads']}, torch {torch.__version__}")
    print(f"# model {args.model} ({params / 1e6:.2f}M params with both adapters and the value head), reward model {args.reward_model}")
    print(f"# batch {args.batch_size} prompts, {tokens:.1f} response tokens on average (max {args.max_new_tokens}), "
          f"{args.ppo_epochs} epochs x {args.batch_size // args.minibatch_size} minibatches; medians over "
          f"{len(timed)} steps after a warm-up step")
    print(f"{'phase':<10} {'seconds':>8} {'share':>6}")
    for phase in (*PHASES, "training", "step"):
        print(f"{phase:<10} {median[phase]:8.3f} {median[phase] / median['step']:6.0%}")
    print(json.dumps({"device": device, "model": args.model, "params": params, "median_s": median}))


if __name__ == "__main__":
    main()
