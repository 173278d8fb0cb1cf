"""Config dataclasses shared by every method, and loading them from YAML/JSON plus flags.

Every field carries its help text in ``metadata["help"]`` (as TRL's configs do) and, where
a value can be out of range, its bounds (``ge``/``gt``/``le``/``lt``, ``choices``,
``max_length`` for text, ``max_items`` for lists; on a list the value bounds apply to each
item). The CLI turns the fields into ``--flags``; ``load_config`` turns a file plus
overrides into a config object, checking each value's type and bounds; ``check_config``
(which every run calls first, in ``runfolder.open_run``) adds the required fields and the
cross-field rules (each config class's ``check()``). Both name every offending field.
``trainer.schema`` prints the same fields and bounds as a JSON Schema
(``python -m trainer <method> --schema``).

This module imports only the standard library and PyYAML, so ``--help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Longest file-system path or model name a path-like field takes.
PATH_MAX = 4096


class ConfigError(ValueError):
    """A config file or flag that does not fit the method's config (the user can fix it).

    ``problems`` lists ``(field, message)``: the field at fault (None: the config as a whole)
    and what is wrong with it, in words that do not repeat the field's name. ``str()`` is
    the line the CLI prints, naming each field."""

    def __init__(self, text: str, field: str | None = None, message: str | None = None):
        super().__init__(text)
        self.problems: list[tuple[str | None, str]] = [(field, message or text)]

    @classmethod
    def combine(cls, errors: list[ConfigError]) -> ConfigError:
        combined = cls("; ".join(str(e) for e in errors))
        combined.problems = [p for e in errors for p in e.problems]
        return combined


_PREDICATES = ("is", "must", "needs", "cannot", "has")


def field_error(name: str, message: str) -> ConfigError:
    """A ConfigError about one field. ``message`` does not name it: "must be >= 1",
    "'eight' is not a valid int"; the text does: "field 'x' must be >= 1"."""
    sep = " " if message.split(" ", 1)[0] in _PREDICATES else ": "
    return ConfigError(f"field '{name}'{sep}{message}", field=name, message=message)


def help_field(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple | None = None,
    max_length: int | None = None,
    max_items: int | None = None,
    required: bool = False,
    aliases: tuple[str, ...] = (),
    **kwargs: Any,
) -> Any:
    """A dataclass field with help text and bounds; lists and dicts get a copied default.

    ``required``: the run refuses to start while the field is unset (None or empty).
    ``aliases``: old spellings of the name, still read from config files and flags (deprecated;
    the schema lists only the name)."""
    meta: dict[str, Any] = {"help": help}
    bounds = {"ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "max_length": max_length,
              "max_items": max_items}
    meta |= {k: v for k, v in bounds.items() if v is not None}
    if required:
        meta["required"] = True
    if aliases:
        meta["aliases"] = tuple(aliases)
    if isinstance(default, (list, dict)):
        value = default
        return field(default_factory=lambda: type(value)(value), metadata=meta, **kwargs)
    return field(default=default, metadata=meta, **kwargs)


def path_field(default: Any = None, help: str = "", **kwargs: Any) -> Any:
    """A file, folder or model name (at most PATH_MAX characters)."""
    return help_field(default, help, max_length=PATH_MAX, **kwargs)


#: Learning-rate schedules of transformers that need no extra arguments.
LR_SCHEDULERS = (
    "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt",
)
#: Bounds shared by many fields: a batch (examples per step), a count of optimizer steps.
MAX_BATCH = 4096
MAX_STEPS = 10_000_000


@dataclass
class RunConfig:
    """Fields every method has: where the run folder goes and how the process runs."""

    out: str | None = path_field(
        None, "Run folder to write (config.json, metrics.jsonl, summary.json, artifacts). Required.", required=True
    )
    seed: int = help_field(0, "Random seed: the same seed and config give the same result.", ge=0, le=2**32 - 1)
    device: str = help_field(
        "auto", "'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:1', 'mps'.", max_length=64
    )
    threads: int = help_field(
        0,
        "Torch CPU threads. 0 picks: 1 for generation and on machines with 2 cores or fewer "
        "(more threads were 10-40x slower there under load), else half the cores, at most 8.",
        ge=0, le=1024,
    )
    progress: str = help_field(
        "auto",
        "Progress bar: 'auto' (a bar when stderr is a terminal, else short log lines on stdout), "
        "'on' or 'off' (neither). progress.json is written in every case.",
        choices=("auto", "on", "off"),
    )


def bf16_field():
    """The ``bf16`` field of every training method (resolved to "true"/"false" by open_run;
    refused on a GPU without bf16 by runtime.hardware_problems)."""
    return help_field(
        "auto", "bf16 mixed precision: 'auto' (on for a GPU that supports it, off on CPU), true, false.",
        max_length=16,
    )


def gradient_checkpointing_field():
    return help_field(
        False, "Trade compute for memory. Off by default: TRL's default (on) made CPU runs ~4.5x slower."
    )


@dataclass
class LoraFields:
    """LoRA adapter settings shared by the training methods."""

    lora_r: int = help_field(8, "LoRA rank.", ge=1, le=1024)
    lora_alpha: int = help_field(16, "LoRA scaling alpha (the update is scaled by alpha / r).", ge=1, le=65536)
    lora_dropout: float = help_field(0.0, "Dropout on the LoRA input.", ge=0, lt=1)
    lora_target_modules: list[str] = help_field(
        ["all-linear"],
        "Modules to adapt: ['all-linear'] (every linear layer but the output head) or names "
        "such as ['q_proj', 'v_proj'].",
        max_items=256, max_length=200,
    )
    load_in_4bit: bool = help_field(
        False,
        "QLoRA: load the base in 4-bit NF4 (bitsandbytes) and train the LoRA adapter on top — about a "
        "quarter of the bf16 weights' memory. Needs an NVIDIA GPU and the bitsandbytes package; refused "
        "before the run starts anywhere else.",
    )


@dataclass
class TrainConfig(LoraFields, RunConfig):
    """Fields every training method (reward, sft, dpo) has."""

    data: str | None = path_field(
        None, "Training data: a JSONL / JSONL.gz file or a `datasets` directory. Required.", required=True
    )
    eval_data: str | None = path_field(
        None, "Held-out data file; when unset, eval_fraction of the groups in `data` is held out."
    )
    eval_fraction: float = help_field(
        0.1, "Share of groups (prompts / tasks) held out for evaluation when eval_data is unset.", ge=0, lt=1
    )
    epochs: float = help_field(1.0, "Passes over the training data.", gt=0, le=10_000)
    max_steps: int = help_field(-1, "Stop after this many optimizer steps (-1: use epochs).", ge=-1, le=MAX_STEPS)
    batch_size: int = help_field(
        8, "Examples (pairs for reward/DPO) per step, all processes together (each of N takes batch_size / N).",
        ge=1, le=MAX_BATCH,
    )
    grad_accum: int = help_field(1, "Gradient accumulation steps.", ge=1, le=MAX_BATCH)
    learning_rate: float = help_field(1e-4, "Peak learning rate (AdamW).", gt=0, le=1)
    weight_decay: float = help_field(0.0, "AdamW weight decay.", ge=0, le=1)
    warmup_ratio: float = help_field(0.0, "Share of steps for linear warm-up.", ge=0, le=1)
    lr_scheduler: str = help_field(
        "linear", f"Learning-rate schedule: {', '.join(LR_SCHEDULERS)}.", choices=LR_SCHEDULERS
    )
    max_grad_norm: float = help_field(1.0, "Gradient clipping norm (0: no clipping).", ge=0, le=1e6)
    max_length: int = help_field(512, "Longest tokenized sequence (prompt + completion).", ge=1, le=1_048_576)
    log_every: int = help_field(10, "Write a metrics line every N optimizer steps.", ge=1, le=MAX_STEPS)
    eval_every: int = help_field(
        0, "Evaluate every N steps during training (0: only at the end).", ge=0, le=MAX_STEPS
    )
    bf16: str = bf16_field()
    gradient_checkpointing: bool = gradient_checkpointing_field()
    group_by_length: bool = help_field(
        False, "Batch examples of similar length together (less padding on varied lengths)."
    )


# ---------------------------------------------------------------------------------------------
# Loading


def config_fields(cls: type) -> dict[str, tuple[Any, dataclasses.Field]]:
    """Field name -> (resolved type, Field) for a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], f) for f in dataclasses.fields(cls)}


def field_aliases(cls: type) -> dict[str, str]:
    """Old spelling -> field name, for the fields of a config dataclass that have one."""
    return {alias: f.name for f in dataclasses.fields(cls) for alias in f.metadata.get("aliases", ())}


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


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
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
    base, optional = unwrap_optional(tp)
    if value is None or (
        from_flag and optional and isinstance(value, str) and value.lower() in ("none", "null")
    ):
        if optional:
            return None
        raise field_error(name, "cannot be null")
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
            number = float(value)
            if not math.isfinite(number):
                raise field_error(name, f"must be a finite number, not {value!r}")
            return number
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
    except (ValueError, TypeError, OverflowError) as e:
        if isinstance(e, ConfigError):
            raise
        raise field_error(name, f"{_short(value)} is not a valid {_type_name(tp)}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    """Build `cls` from an optional YAML/JSON file, then overrides (flags win over the file),
    checking each value's type and bounds (the run checks the required fields and the
    cross-field rules: :func:`check_config`). Raises ConfigError naming every field that
    does not fit."""
    fields, aliases = config_fields(cls), field_aliases(cls)
    values: dict[str, Any] = {}
    errors: list[ConfigError] = []
    sources = []
    if file is not None:
        sources.append((read_config_file(file), False, str(file)))
    if overrides:
        sources.append((overrides, from_flags, "flags"))
    for data, is_flag, where in sources:
        for key, value in data.items():
            name = str(key).replace("-", "_")
            name = aliases.get(name, name)
            if name not in fields:
                hint = _suggest(name, fields)
                errors.append(ConfigError(f"{where}: unknown field '{key}' for {cls.__name__}{hint}",
                                          field=str(key), message=f"is not a field of {cls.__name__}{hint}"))
                continue
            try:
                values[name] = coerce(name, fields[name][0], value, from_flag=is_flag)
                check_value(name, values[name], fields[name][1].metadata)
            except ConfigError as e:
                errors.append(e)
    if errors:
        raise ConfigError.combine(errors)
    try:
        cfg = cls(**values)
    except TypeError as e:
        raise ConfigError(str(e)) from None
    check_config(cfg, partial=True)
    return cfg


def check_config(cfg: Any, partial: bool = False) -> None:
    """Check a config object: every value within its field's bounds; unless ``partial``,
    also the required fields and then the cross-field rules — each class in the config's MRO
    may define ``check(self)``, and every one of them runs (once the values are within
    bounds). ``partial`` checks only what the JSON Schema says field by field (a config
    file or flags, before the run fills in the rest). Raises ConfigError naming every
    field at fault."""
    missing: list[ConfigError] = []
    broken: list[ConfigError] = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if not partial and f.metadata.get("required") and value in (None, "", []):
            missing.append(_required_error(f.name))
            continue
        try:
            check_value(f.name, value, f.metadata)
        except ConfigError as e:
            broken.append(e)
    if not partial and not broken:
        for klass in reversed(type(cfg).__mro__):
            rule = klass.__dict__.get("check")
            if rule is None:
                continue
            try:
                rule(cfg)
            except ConfigError as e:
                broken.append(e)
                break
    errors = missing + broken
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigError.combine(errors)


def _required_error(name: str) -> ConfigError:
    return field_error(name, f"is required (--{name.replace('_', '-')} or in --config)")


def check_value(name: str, value: Any, meta: Any) -> None:
    """Raise ConfigError when ``value`` breaks the bounds in the field's metadata (on a list:
    ``max_items`` for the list, the other bounds for each item)."""
    if value is None:
        return
    if isinstance(value, list):
        limit = meta.get("max_items")
        if limit is not None and len(value) > limit:
            raise field_error(name, f"has {len(value)} items; at most {limit}")
        for i, item in enumerate(value):
            if problem := _item_problem(item, meta):
                raise field_error(name, f"item {i} {problem}")
    elif problem := _item_problem(value, meta):
        raise field_error(name, problem)


def _item_problem(value: Any, meta: Any) -> str | None:
    """What is wrong with one value (a predicate: "must be >= 1"), or None."""
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        return f"is {_short(value)}, not one of {', '.join(map(str, choices))}"
    limit = meta.get("max_length")
    if isinstance(value, str) and limit is not None and len(value) > limit:
        return f"is {len(value):,} characters long; at most {limit:,}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    for key, broken, words in (
        ("ge", lambda v, b: v < b, ">="), ("gt", lambda v, b: v <= b, ">"),
        ("le", lambda v, b: v > b, "<="), ("lt", lambda v, b: v >= b, "<"),
    ):
        bound = meta.get(key)
        if bound is not None and broken(value, bound):
            return f"must be {words} {_number(bound)} (got {_number(value)})"
    return None


def _number(value: float) -> str:
    if isinstance(value, int) and abs(value) < 10**15:
        return str(value)
    return f"{value:.6g}"


def _suggest(name: str, fields: dict) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def config_to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
