"""Config dataclasses shared by every method, and loading them from YAML/JSON plus flags.

Every field carries its help text in ``metadata["help"]`` (as TRL's configs do); the CLI
turns the fields into ``--flags`` and ``load_config`` turns a file plus overrides into a
config object, naming the offending key when something does not fit.

This module imports only the standard library and PyYAML, so ``--help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A config file or flag that does not fit the method's config (the user can fix it)."""


def help_field(default: Any = dataclasses.MISSING, help: str = "", **kwargs: Any) -> Any:
    """A dataclass field with help text; lists and dicts get a copied default."""
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata={"help": help}, **kwargs)
    return field(default=default, metadata={"help": help}, **kwargs)


@dataclass
class RunConfig:
    """Fields every method has: where the run folder goes and how the process runs."""

    out: str | None = help_field(
        None, "Run folder to write (config.json, metrics.jsonl, summary.json, artifacts). Required."
    )
    seed: int = help_field(0, "Random seed: the same seed and config give the same result.")
    device: str = help_field(
        "auto", "'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:1', 'mps'."
    )
    threads: int = help_field(
        0,
        "Torch CPU threads. 0 picks: 1 for generation and on machines with 2 cores or fewer "
        "(more threads were 10-40x slower there under load), else half the cores, at most 8.",
    )
    progress: str = help_field(
        "auto",
        "Progress bar: 'auto' (a bar when stderr is a terminal, else short log lines on stdout), "
        "'on' or 'off' (neither). progress.json is written in every case.",
    )


@dataclass
class LoraFields:
    """LoRA adapter settings shared by the training methods."""

    lora_r: int = help_field(8, "LoRA rank.")
    lora_alpha: int = help_field(16, "LoRA scaling alpha (the update is scaled by alpha / r).")
    lora_dropout: float = help_field(0.0, "Dropout on the LoRA input.")
    lora_target_modules: list[str] = help_field(
        ["all-linear"],
        "Modules to adapt: ['all-linear'] (every linear layer but the output head) or names "
        "such as ['q_proj', 'v_proj'].",
    )


@dataclass
class TrainConfig(LoraFields, RunConfig):
    """Fields every training method (reward, sft, dpo) has."""

    data: str | None = help_field(
        None, "Training data: a JSONL / JSONL.gz file or a `datasets` directory. Required."
    )
    eval_data: str | None = help_field(
        None, "Held-out data file; when unset, eval_fraction of the groups in `data` is held out."
    )
    eval_fraction: float = help_field(
        0.1, "Share of groups (prompts / tasks) held out for evaluation when eval_data is unset."
    )
    epochs: float = help_field(1.0, "Passes over the training data.")
    max_steps: int = help_field(-1, "Stop after this many optimizer steps (-1: use epochs).")
    batch_size: int = help_field(8, "Examples (pairs for reward/DPO) per device per step.")
    grad_accum: int = help_field(1, "Gradient accumulation steps.")
    learning_rate: float = help_field(1e-4, "Peak learning rate (AdamW).")
    weight_decay: float = help_field(0.0, "AdamW weight decay.")
    warmup_ratio: float = help_field(0.0, "Share of steps for linear warm-up.")
    lr_scheduler: str = help_field("linear", "Learning-rate schedule: linear, cosine, constant...")
    max_grad_norm: float = help_field(1.0, "Gradient clipping norm.")
    max_length: int = help_field(512, "Longest tokenized sequence (prompt + completion).")
    log_every: int = help_field(10, "Write a metrics line every N optimizer steps.")
    eval_every: int = help_field(0, "Evaluate every N steps during training (0: only at the end).")
    bf16: str = help_field(
        "auto", "bf16 mixed precision: 'auto' (on for a GPU that supports it, off on CPU), true, false."
    )
    gradient_checkpointing: bool = help_field(
        False, "Trade compute for memory. Off by default: TRL's default (on) made CPU runs ~4.5x slower."
    )
    group_by_length: bool = help_field(
        False, "Batch examples of similar length together (less padding on varied lengths)."
    )


# ---------------------------------------------------------------------------------------------
# Loading


def config_fields(cls: type) -> dict[str, tuple[Any, dataclasses.Field]]:
    """Field name -> (resolved type, Field) for a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], f) for f in dataclasses.fields(cls)}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON config file into a dict."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON: {e}") from None
    except Exception as e:  # yaml.YAMLError
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of field names to values")
    return data


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # noqa: UP007
    return tp, False


def coerce(name: str, tp: Any, value: Any, from_flag: bool = False) -> Any:
    """Turn `value` (from YAML/JSON, or a flag's string) into type `tp`, or raise ConfigError."""
    base, optional = _unwrap_optional(tp)
    if value is None or (
        from_flag and optional and isinstance(value, str) and value.lower() in ("none", "null")
    ):
        if optional:
            return None
        raise ConfigError(f"field '{name}' cannot be null")
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on"):
                return True
            if isinstance(value, str) and value.lower() in ("false", "no", "0", "off"):
                return False
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise ValueError
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if base is str:
            if isinstance(value, (dict, list)):
                raise ValueError
            return str(value)
        origin = typing.get_origin(base)
        if origin is list:
            (item_tp,) = typing.get_args(base) or (Any,)
            if isinstance(value, str):
                value = _parse_structured(value)
                if isinstance(value, str):
                    value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list):
                value = [value]
            if item_tp is Any:
                return list(value)
            return [coerce(name, item_tp, v, from_flag) for v in value]
        if origin is dict or base is dict:
            if isinstance(value, str):
                value = _parse_structured(value)
            if not isinstance(value, dict):
                raise ValueError
            return dict(value)
        return value
    except (ValueError, TypeError):
        raise ConfigError(f"field '{name}': {value!r} is not a valid {_type_name(tp)}") from None


def _parse_structured(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def load_config(
    cls: type,
    file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    from_flags: bool = False,
) -> Any:
    """Build `cls` from an optional YAML/JSON file, then overrides (flags win over the file)."""
    fields = config_fields(cls)
    values: dict[str, Any] = {}
    sources = []
    if file is not None:
        sources.append((read_config_file(file), False, str(file)))
    if overrides:
        sources.append((overrides, from_flags, "flags"))
    for data, is_flag, where in sources:
        for key, value in data.items():
            name = key.replace("-", "_")
            if name not in fields:
                raise ConfigError(f"{where}: unknown field '{key}' for {cls.__name__}{_suggest(name, fields)}")
            values[name] = coerce(name, fields[name][0], value, from_flag=is_flag)
    try:
        return cls(**values)
    except TypeError as e:
        raise ConfigError(str(e)) from None


def _suggest(name: str, fields: dict) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def config_to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def require(cfg: Any, *names: str) -> None:
    """Raise ConfigError naming the first required field that is unset."""
    for name in names:
        if getattr(cfg, name) in (None, ""):
            raise ConfigError(f"field '{name}' is required (--{name.replace('_', '-')} or in --config)")
