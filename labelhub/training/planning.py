"""The compute planner in the web tier: ``trainer.plan``'s arithmetic for the planner page, its
API and the run form's estimate.

``trainer.plan`` is standard library only and reads one file (a model's config.json), so the
web tier imports it — a named import-linter exception in pyproject.toml, like
``trainer.schema`` — rather than starting ``python -m trainer plan`` for every page view: the
answer is instant, and the figures and the error messages are the CLI's own.

Which folder's config.json is read is decided here, never by the request: a policy's base
model (a tiny name or a folder an engineer registered), or the tiny models' cache. A request
may not name a path on this machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from trainer import plan as trainer_plan

ConfigError = trainer_plan.ConfigError
#: The config fields a request may set: all but where the CLI writes and what it prints.
FIELDS = tuple(name for name in trainer_plan.PlanConfig.__dataclass_fields__ if name not in ("out", "format"))
SHAPE_FIELDS = ("params", "layers", "hidden", "heads", "kv_heads", "vocab", "intermediate", "gated_mlp", "tie_embeddings")
TINY = {"tiny": "lm", "tiny-lm": "lm", "tiny-rm": "rm"}
NO_ESTIMATE = "has no estimate: "
#: How each run kind trains, for the run form's estimate (reward, sft, dpo, ppo, rloo train LoRA adapters).
TRAINING_KINDS = {"reward", "sft", "dpo", "ppo", "rloo"}


def tiny_folder(name: str) -> Path | None:
    """The built tiny model's folder (the newest build in LABELHUB_MODELS_DIR), or None when none is built."""
    builds = sorted(Path(settings.LABELHUB_MODELS_DIR).glob(f"tiny-*/{TINY[name]}/config.json"),
                    key=lambda p: p.stat().st_mtime)
    return builds[-1].parent if builds else None


def model_folder(base_model: str) -> tuple[Path | None, str]:
    """(the folder whose config.json describes ``base_model``, or None with the reason)."""
    if base_model in TINY:
        folder = tiny_folder(base_model)
        return (folder, "") if folder else (None, "the tiny models are not built yet (the first run builds them)")
    folder = Path(base_model)
    if folder.is_absolute() and (folder / "config.json").is_file():
        return folder, ""
    return None, f"{base_model!r} is not a model folder on this machine (a hub name is not read)"


def estimate(values: dict[str, Any], *, policy=None) -> dict[str, Any]:
    """The plan for ``values`` (trainer.plan's fields but out and format; ``model`` only a tiny
    name), or for ``policy``'s base model with them. Raises ConfigError naming each field at fault."""
    values = dict(values)
    unknown = [name for name in values if name not in FIELDS]
    if unknown:
        raise trainer_plan.field_error(unknown[0], f"is not a field of the planner (one of: {', '.join(FIELDS)})")
    model = values.pop("model", None)
    if model not in (None, "") and (not isinstance(model, str) or model not in TINY):
        raise trainer_plan.field_error("model", "may only be tiny, tiny-lm or tiny-rm here: give a policy "
                                       "(its model folder is read) or params and the shape")
    source = policy.base_model if policy is not None else model
    if source:
        folder, reason = model_folder(source)
        if folder is None:
            raise trainer_plan.field_error("policy" if policy is not None else "model", NO_ESTIMATE + reason)
        values["model"] = str(folder)
    return trainer_plan.plan(values)


def run_form_estimate(*, kind: str, policy, config: dict[str, Any]) -> dict[str, Any]:
    """What the run form shows for ``policy`` before a run of ``kind`` starts: its size, memory
    to train (LoRA) or to sample, and the compute-optimal token count; or why there is none.
    ``link``: the planner page with the model's shape filled in."""
    values: dict[str, Any] = {"accelerator": "cpu", "method": "lora" if kind in TRAINING_KINDS else "full"}
    batch = config.get("batch_size")
    if isinstance(batch, int) and batch > 0:
        values["batch_size"] = batch
    length = config.get("max_length") or config.get("max_new_tokens")
    if isinstance(length, int) and length > 0:
        values["sequence_length"] = length
    try:
        result = estimate(values, policy=policy)
    except ConfigError as exc:
        return {"unavailable": "; ".join(message.removeprefix(NO_ESTIMATE) for _, message in exc.problems)}
    model, memory, inference = result["model"], result["training_memory"], result["inference_memory"]
    shape = {name: model[name] for name in SHAPE_FIELDS if model.get(name) is not None}
    link_values = shape | {k: v for k, v in values.items() if k != "accelerator"}
    human = trainer_plan.human
    text = f"{human(model['params'])} parameters; "
    if kind in TRAINING_KINDS:
        text += (f"LoRA training at batch {values.get('batch_size', 8)} needs about "
                 f"{human(memory['total'], 'B')} ({human(model['trainable_params'])} trainable parameters, "
                 f"activations {human(memory['activations'], 'B')}); ")
    text += (f"sampling needs about {human(inference['total'], 'B')} (KV cache {human(inference['kv_cache'], 'B')}); "
             f"compute-optimal pre-training data: {human(result['chinchilla']['optimal_tokens'])} tokens")
    # the planner page names its fields as the run forms do: config.<name>
    return {"text": text, "link": "?" + urlencode({f"config.{k}": _query(v) for k, v in link_values.items()})}


def _query(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def result_rows(result: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The planner page's tables: (title, [(what, value), …])."""
    human, days = trainer_plan.human, trainer_plan.duration
    m, c, t = result["model"], result["chinchilla"], result["training"]
    mem, inf = result["training_memory"], result["inference_memory"]
    model = [("parameters", f"{human(m['params'])} ({m['params_source']})")]
    if m["layers"] is not None:
        model.append(("shape", f"{m['layers']} layers, hidden {m['hidden']}, {m['heads']} heads ({m['kv_heads']} key/value), "
                               f"head size {m['head_dim']}, vocabulary {m['vocab']}, MLP {m['intermediate']}"
                               f"{' gated' if m['gated_mlp'] else ''}"))
    if t["method"] != "full":
        model.append(("trainable (adapters)", human(m["trainable_params"])))
    scaling = [("compute-optimal tokens (20 per parameter)", human(c["optimal_tokens"]))]
    if "budget" in c:
        b = c["budget"]
        scaling.append((f"for a budget of {b['flops']:.3g} FLOPs", f"{human(b['params'])} parameters on {human(b['tokens'])} tokens"))
    training = [
        ("method, precision", f"{t['method']}, {t['precision']}"),
        ("tokens", human(t["tokens"])),
        ("FLOPs", f"{t['flops']:.3g} ({human(t['flops_per_token'])} per token)"),
        ("time", f"{days(t['seconds'])} on {t['count']} × {t['accelerator_label']} at {t['utilisation']:.0%} of "
                 f"{human(t['peak_flops'], 'FLOP/s')}"),
    ]
    memory = [(name, human(mem[name], "B")) for name in ("weights", "gradients", "optimizer", "activations", "total")]
    memory += [("bytes per parameter (before activations)", f"{mem['bytes_per_param']:.3g}"),
               ("sharded across the devices (FSDP / ZeRO-3)", human(mem["per_device_sharded"], "B")),
               (f"fits in {human(mem['device_memory'], 'B')}", mem["fits"])]
    inference = [("weights", human(inf["weights"], "B")), ("KV cache", human(inf["kv_cache"], "B")),
                 ("total", human(inf["total"], "B")), ("fits on one device", inf["fits"])]
    return [("Model", model), ("Scaling (Chinchilla)", scaling), ("Training compute", training),
            ("Training memory per device", memory), ("Inference memory", inference),
            ("Assumptions", [("note", note) for note in result["notes"]])]
