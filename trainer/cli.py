"""``python -m trainer <method> --config file.yaml|json --out RUN_DIR [--field value ...]``.

Each method is a module with a config dataclass and ``run(cfg)``; they are imported only
when chosen, and heavy libraries only inside ``run``, so ``--help`` answers at once.
``python -m trainer <method> --schema`` prints the config's JSON Schema (``trainer.schema``):
every field with its type, default, help text and bounds.
Exit codes: 0 success, 1 the run failed, 2 a bad command line or config, 3 cancelled by
SIGTERM after saving a checkpoint (methods that support it: ppo, rloo). On failure the
last line on stderr is the cause, and RUN_DIR/summary.json says "failed" with the same text.
With ``TRAINER_EXIT_WITH_PARENT=1`` it kills itself once its parent process is gone
(``runtime.exit_with_parent``).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from typing import Any

from trainer.config import ConfigError, config_fields, load_config
from trainer.runtime import exit_with_parent
from trainer.schema import METHODS, json_schema

EXIT_CANCELLED = 3  # summary.json "status": "cancelled"; a checkpoint to resume from was written

SUMMARIES = {
    "tiny-model": "build the offline tiny tokenizer, causal LM and reward backbone",
    "reward": "train a reward model (sequence classifier + LoRA) on preference pairs",
    "score": "score texts with a saved reward model",
    "sft": "instruction fine-tuning with LoRA, loss on response tokens only",
    "pretrain": "continued pre-training on a text corpus (LoRA or full), held-out perplexity before and after",
    "dpo": "direct preference optimization with LoRA (reference = adapter disabled)",
    "generate": "sample completions for a prompts file (templates, KV cache, seed)",
    "evaluate": "reward, KL to a reference, win rate, ROUGE and perplexity of a policy",
    "ppo": "PPO with LoRA against a reward model, KL penalty with fixed or adaptive coefficient",
    "rloo": "RLOO (critic-free, TRL's RLOOTrainer) with LoRA against a reward model",
    "prompt-lab": "prompt templates and sampling settings side by side: answers, ROUGE-1/2/L, length",
    "plan": "compute-optimal tokens (Chinchilla), training FLOPs, time and memory (no model loaded)",
}


def method_parts(method: str) -> tuple[Any, type]:
    module_name, class_name = METHODS[method]
    module = importlib.import_module(module_name)
    return module, getattr(module, class_name)


def build_parser(method: str, cfg_cls: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m trainer {method}",
        description=f"{SUMMARIES.get(method, '')}. Flags override the --config file.",
    )
    parser.add_argument("--config", default=None, help="YAML or JSON file with config fields")
    parser.add_argument(
        "--schema", action="store_true", help="print the config's JSON Schema (fields, defaults, bounds) and exit"
    )
    for name, (tp, f) in config_fields(cfg_cls).items():
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        old = f.metadata.get("aliases", ())
        flags = dict.fromkeys([f"--{n}" for n in (name.replace("_", "-"), name, *old)])  # both spellings, old names
        deprecated = f"; {', '.join(f'--{n}' for n in old)}: the old spelling, deprecated" if old else ""
        parser.add_argument(
            *flags,
            dest=name,
            default=argparse.SUPPRESS,
            metavar=_metavar(tp),
            help=f"{f.metadata.get('help', '')} (default: {default!r}{deprecated})",
        )
    return parser


def _metavar(tp: Any) -> str:
    text = str(tp).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace(" | None", "").upper()


def top_level_help() -> str:
    lines = [
        "usage: python -m trainer <method> --config FILE --out RUN_DIR [--field value ...]",
        "",
        "methods:",
    ]
    for name in METHODS:
        lines.append(f"  {name:<11} {SUMMARIES.get(name, '')}")
    lines += [
        "",
        "python -m trainer <method> --help lists every field with its help text;",
        "python -m trainer <method> --schema prints them as a JSON Schema (types, defaults, bounds).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(top_level_help())
        return 0 if argv else 2
    method, rest = argv[0], argv[1:]
    exit_with_parent()
    if method not in METHODS:
        print(f"trainer: error: unknown method '{method}' (one of: {', '.join(METHODS)})", file=sys.stderr)
        return 2
    module, cfg_cls = method_parts(method)
    parser = build_parser(method, cfg_cls)
    try:
        args = parser.parse_args(rest)
    except SystemExit as e:  # --help (0) or argparse's own usage error (2)
        return int(e.code or 0)
    if args.schema:
        print(json.dumps(json_schema(method), indent=2, ensure_ascii=False))
        return 0
    overrides = {k: v for k, v in vars(args).items() if k not in ("config", "schema")}
    if not _takes_part(method):
        return 0
    try:
        cfg = load_config(cfg_cls, args.config, overrides, from_flags=True)
        result = module.run(cfg)
    except ConfigError as e:
        print(f"trainer {method}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"trainer {method}: error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the one place that turns any failure into a line
        from trainer.runfolder import one_line

        print(f"trainer {method}: error: {one_line(e)}", file=sys.stderr)
        return 1
    if method == "plan":  # it printed its report (and wrote summary.json only when asked)
        return 0
    cancelled = result.summary.get("status") == "cancelled"
    if not _main_process():  # under accelerate launch: rank 0 reports for all
        return EXIT_CANCELLED if cancelled else 0
    print(f"{result.out}/summary.json: {_short_summary(result.summary)}")
    if cancelled:
        print(
            f"trainer {method}: cancelled at step {result.summary.get('cancelled_at_step')}; "
            f"checkpoint {result.summary.get('checkpoint')}",
            file=sys.stderr,
        )
        return EXIT_CANCELLED
    return 0


def _takes_part(method: str) -> bool:
    """Under a launcher with several processes, a method that does not split its work over them
    (generate, evaluate, score, prompt-lab, tiny-model) runs on rank 0 alone: the others join the
    process group (rank 0 waits for them there) and leave."""
    from trainer.distributed import SHARDED_METHODS, launched_size, world

    if method in SHARDED_METHODS or method == "plan" or launched_size() == 1:
        return True
    return world().main


def _main_process() -> bool:
    from trainer.distributed import world

    return world().main


def _short_summary(summary: dict[str, Any]) -> str:
    keep = {k: v for k, v in summary.items() if isinstance(v, (int, float, str)) and k != "method"}
    return ", ".join(f"{k}={_fmt(v)}" for k, v in list(keep.items())[:8])


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)

