"""A method's config as a JSON Schema, and checking a config the way a run will.

``python -m trainer <method> --schema`` prints :func:`json_schema`: one property per field
of the method's config dataclass, with its type, default, help text (``description``) and
bounds (``minimum``/``maximum``, ``exclusiveMinimum``/``exclusiveMaximum``, ``enum``,
``maxLength``, ``maxItems``; on a list they describe each item), and the fields a run
requires. The bounds are the ones :func:`trainer.config.check_config` enforces, so the
schema and the checks cannot disagree.

:func:`validate` is what a run does with a config before it starts: load it as a config
file would be loaded and check it, raising ConfigError naming every field at fault. The
platform calls it before it queues a run, so a config the trainer would refuse is refused
there, with the same words.

Standard library only (and the method modules' top level, which imports nothing heavy):
the web tier, installed without torch, imports this module.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing
from typing import Any

from trainer.config import (
    ConfigError,
    check_config,
    config_fields,
    field_aliases,
    load_config,
    unwrap_optional,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: method -> (module, config class); the CLI's table.
METHODS: dict[str, tuple[str, str]] = {
    "tiny-model": ("trainer.tiny", "TinyModelConfig"),
    "reward": ("trainer.reward", "RewardConfig"),
    "score": ("trainer.score", "ScoreConfig"),
    "sft": ("trainer.sft", "SFTConfig"),
    "pretrain": ("trainer.pretrain", "PretrainConfig"),
    "dpo": ("trainer.dpo", "DPOConfig"),
    "generate": ("trainer.generate", "GenerateConfig"),
    "evaluate": ("trainer.evaluate", "EvaluateConfig"),
    "ppo": ("trainer.ppo", "PPOConfig"),
    "rloo": ("trainer.rloo", "RLOOConfig"),
    "prompt-lab": ("trainer.promptlab", "PromptLabConfig"),
    "plan": ("trainer.plan", "PlanConfig"),
}

__all__ = ["METHODS", "ConfigError", "aliases", "config_class", "json_schema", "validate"]

_BOUND_KEYWORDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def config_class(method: str) -> type:
    """The config dataclass of a method (imports its module, which imports nothing heavy)."""
    module_name, class_name = METHODS[method]
    return getattr(importlib.import_module(module_name), class_name)


def json_schema(method: str) -> dict[str, Any]:
    """The method's config as a JSON Schema (draft 2020-12)."""
    cls = config_class(method)
    properties, required = {}, []
    for name, (tp, f) in config_fields(cls).items():
        properties[name] = field_schema(tp, f)
        if f.metadata.get("required"):
            required.append(name)
    doc = (cls.__doc__ or "").strip().split("\n")[0]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": f"trainer {method}",
        "description": doc,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def field_schema(tp: Any, f: dataclasses.Field) -> dict[str, Any]:
    """One field: type, default, description and bounds."""
    base, optional = unwrap_optional(tp)
    meta = f.metadata
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    schema: dict[str, Any] = {}
    if typing.get_origin(base) is list:
        (item_tp,) = typing.get_args(base) or (Any,)
        items = {"type": _json_type(item_tp)} if item_tp is not Any else {}
        items |= _bounds(meta)
        schema["type"] = ["array", "null"] if optional else "array"
        schema["items"] = items
        if "max_items" in meta:
            schema["maxItems"] = meta["max_items"]
    else:
        kind = _json_type(base)
        schema["type"] = [kind, "null"] if optional else kind
        schema |= _bounds(meta)
        if optional and "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    if default is not dataclasses.MISSING:
        schema["default"] = default
    schema["description"] = meta.get("help", "")
    return schema


def _json_type(tp: Any) -> str:
    if tp is bool:
        return "boolean"
    if tp is int:
        return "integer"
    if tp is float:
        return "number"
    if tp is str:
        return "string"
    if tp is dict or typing.get_origin(tp) is dict:
        return "object"
    raise TypeError(f"no JSON type for {tp!r}")


def _bounds(meta: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, keyword in _BOUND_KEYWORDS.items():
        if key in meta:
            out[keyword] = meta[key]
    if "choices" in meta:
        out["enum"] = list(meta["choices"])
    if "max_length" in meta:
        out["maxLength"] = meta["max_length"]
    return out


def aliases(method: str) -> dict[str, str]:
    """Old spelling -> field name for the method's renamed fields (still read from config files
    and flags, deprecated; the schema lists only the new names)."""
    return field_aliases(config_class(method))


def check_processes(method: str, values: dict[str, Any], processes: int) -> None:
    """Refuse, as the trainer does when it starts, a batch that does not split evenly over
    ``processes`` trainer processes (a run's GPUs): ConfigError naming the field."""
    from types import SimpleNamespace

    from trainer.distributed import SHARDED_METHODS, check_divisible

    if method in SHARDED_METHODS:
        check_divisible(SimpleNamespace(**values), processes)


def validate(method: str, values: dict[str, Any]) -> Any:
    """The config a run of ``method`` would use for ``values`` (as in a ``--config`` JSON
    file), checked as the run checks it; raises ConfigError naming every field at fault."""
    cfg = load_config(config_class(method), overrides=values)
    check_config(cfg)
    return cfg
