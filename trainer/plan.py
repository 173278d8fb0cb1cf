"""``trainer plan``: how many tokens a model wants, what a run costs, and whether it fits.

Arithmetic only — no model is loaded and nothing is trained; a model folder is read for its
``config.json`` and nothing else. Standard library only (and ``trainer.config``), so the web
tier imports this module for the run form's estimate and the planner page (a named
import-linter exception in pyproject.toml, as ``trainer.schema`` is).

What it computes, and from which paper:

* **Compute-optimal data** (Hoffmann et al. 2022, "Training Compute-Optimal Large Language
  Models", the Chinchilla paper): about :data:`TOKENS_PER_PARAM` = 20 training tokens per
  parameter (Chinchilla: 70 B parameters, 1.4 T tokens). With training compute C ≈ 6·N·D that
  gives, for a FLOP budget C, N = √(C / 120) parameters and D = 20·N tokens.
* **Training FLOPs**: 6·N·D for full training (forward 2·N·D, backward 4·N·D; Kaplan et al.
  2020). With LoRA the frozen weights need no weight gradients, only the gradients that flow
  through them: ≈ 4·N·D. Gradient checkpointing runs the forward pass twice: + 2·N·D.
* **Time**: FLOPs / (devices × peak FLOP/s × utilisation). The peak is the accelerator's dense
  (no sparsity) figure for the precision the matrix multiplies run in (:data:`ACCELERATORS`).
* **Training memory** (bytes per parameter as in the ZeRO paper, Rajbhandari et al. 2020):
  full fp32: weights 4 + gradients 4 + Adam m, v 8 = 16; full mixed precision (bf16): weights 2
  + gradients 2 + fp32 master weights, m and v 12 = 16 (18 where gradients are kept in fp32).
  LoRA / QLoRA: the frozen base at its precision (int8: 1 byte, 4-bit: 0.5) plus 16 bytes per
  trainable adapter parameter. Activations: Korthikanti et al. 2022 ("Reducing Activation
  Recomputation in Large Transformer Models"), s·b·h·(34 + 5·a·s/h) bytes per layer in 16-bit
  (twice that in fp32), 2·s·b·h per layer with gradient checkpointing (plus one layer's worth
  recomputed), and the fp32 logits b·s·V·4 for the loss.
* **Inference memory**: the weights at their precision plus the KV cache,
  2 · layers · kv_heads · head_dim · s · b · bytes (16-bit cache; fp32 with fp32 weights).

Each figure is an estimate: frameworks add workspace, fragmentation and CUDA context (often
1–3 GB per GPU); the summary's ``notes`` say what was assumed.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.config import (
    ConfigError,
    check_config,
    field_error,
    help_field,
    load_config,
    path_field,
)

#: Chinchilla: compute-optimal training uses about 20 tokens per parameter.
TOKENS_PER_PARAM = 20.0
#: Training FLOPs per parameter per token: full training, and LoRA (no weight gradients for the base).
FLOPS_PER_PARAM_TOKEN = {"full": 6.0, "lora": 4.0, "qlora": 4.0}

GB = 1e9  # memory is reported in decimal gigabytes, as accelerators are sold

#: Dense peak FLOP/s (no structured sparsity) by the precision the matrix multiplies run in, and
#: memory in bytes. A100: NVIDIA A100 datasheet (fp32 19.5 T, bf16 312 T, int8 624 T); H100 and
#: H200 SXM: 67 T, 989 T, 1,979 T; L4: 30.3 T, 121 T, 242 T. "cpu" is a nominal many-core
#: server: set peak_tflops and memory_gb for yours.
ACCELERATORS: dict[str, dict[str, Any]] = {
    "a100-40gb": {"label": "NVIDIA A100 40 GB", "memory": 40 * GB, "fp32": 19.5e12, "bf16": 312e12, "int8": 624e12},
    "a100-80gb": {"label": "NVIDIA A100 80 GB", "memory": 80 * GB, "fp32": 19.5e12, "bf16": 312e12, "int8": 624e12},
    "h100": {"label": "NVIDIA H100 SXM 80 GB", "memory": 80 * GB, "fp32": 67e12, "bf16": 989e12, "int8": 1979e12},
    "h200": {"label": "NVIDIA H200 SXM 141 GB", "memory": 141 * GB, "fp32": 67e12, "bf16": 989e12, "int8": 1979e12},
    "l4": {"label": "NVIDIA L4 24 GB", "memory": 24 * GB, "fp32": 30.3e12, "bf16": 121e12, "int8": 242e12},
    "cpu": {"label": "CPU (nominal: 1 TFLOP/s, 64 GB)", "memory": 64 * GB, "fp32": 1e12, "bf16": 1e12, "int8": 2e12},
}
#: Bytes per weight by precision (4-bit: NF4/FP4 without the small per-block scales).
WEIGHT_BYTES = {"fp32": 4.0, "bf16": 2.0, "int8": 1.0, "4bit": 0.5}
PRECISIONS = ("auto", *WEIGHT_BYTES)
METHODS = ("full", "lora", "qlora")
#: Model types whose MLP is gated (gate, up and down projections: three matrices, not two).
GATED_MODEL_TYPES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3", "olmo", "olmo2",
    "granite", "smollm3", "cohere", "starcoder2_gated",
}
#: config.json keys for each part of the shape (Llama-style first, then GPT-2 / GPT-NeoX / others).
CONFIG_KEYS = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden": ("hidden_size", "n_embd", "d_model"),
    "heads": ("num_attention_heads", "n_head", "num_heads"),
    "kv_heads": ("num_key_value_heads", "num_kv_heads", "multi_query_group_num"),
    "vocab": ("vocab_size",),
    "intermediate": ("intermediate_size", "n_inner", "ffn_dim", "d_ff"),
}
MAX_PARAMS = 1e15
MAX_TOKENS = 1e16
MAX_FLOPS = 1e32
SHAPE = ("layers", "hidden", "heads", "vocab")


@dataclass
class PlanConfig:
    """Estimate compute-optimal tokens, training FLOPs and time, and training and inference memory."""

    model: str | None = path_field(
        None, "A model folder (its config.json is read, nothing else) or 'tiny'. Or give params and/or the shape."
    )
    params: float | None = help_field(
        None, "Parameters (e.g. 7e9). Computed from the shape when unset.", gt=0, le=MAX_PARAMS
    )
    layers: int | None = help_field(None, "Transformer layers.", ge=1, le=100_000)
    hidden: int | None = help_field(None, "Hidden size (d_model).", ge=1, le=1_000_000)
    heads: int | None = help_field(None, "Attention heads.", ge=1, le=100_000)
    kv_heads: int | None = help_field(None, "Key/value heads (grouped-query attention; default: heads).", ge=1, le=100_000)
    vocab: int | None = help_field(None, "Vocabulary size.", ge=1, le=100_000_000)
    intermediate: int | None = help_field(
        None, "MLP inner size (default: 4 x hidden).", ge=1, le=10_000_000
    )
    gated_mlp: bool = help_field(False, "The MLP is gated (Llama: gate, up, down). A config.json decides it itself.")
    tie_embeddings: bool = help_field(True, "Input and output embeddings share one matrix. A config.json decides it itself.")
    tokens: float | None = help_field(
        None, "Training tokens (default: the compute-optimal 20 per parameter).", gt=0, le=MAX_TOKENS
    )
    flop_budget: float | None = help_field(
        None, "A training FLOP budget (e.g. 5.76e23): the compute-optimal size and tokens for it.", gt=0, le=MAX_FLOPS
    )
    accelerator: str = help_field("a100-80gb", f"Accelerator: {', '.join(ACCELERATORS)}.", choices=tuple(ACCELERATORS))
    count: int = help_field(1, "How many accelerators.", ge=1, le=1_000_000)
    utilisation: float = help_field(
        0.4, "Share of the peak FLOP/s a run achieves (model FLOPs utilisation; 0.3-0.5 is typical).", ge=0.001, le=1
    )
    peak_tflops: float | None = help_field(
        None, "Override the accelerator's peak TFLOP/s (e.g. for a CPU).", ge=0.001, le=1e9
    )
    memory_gb: float | None = help_field(None, "Override the accelerator's memory in GB.", gt=0, le=1e9)
    precision: str = help_field(
        "auto", "Weight precision: fp32, bf16, int8, 4bit; auto = bf16, or 4bit for qlora.", choices=PRECISIONS
    )
    method: str = help_field(
        "full", "full (every weight trained, AdamW), lora (frozen base + adapters) or qlora (4-bit base + adapters).",
        choices=METHODS,
    )
    lora_r: int = help_field(8, "LoRA rank.", ge=1, le=65536)
    lora_targets: str = help_field(
        "all-linear", "Adapted layers: all-linear (attention and MLP) or attention (q and v).",
        choices=("all-linear", "attention"),
    )
    batch_size: int = help_field(8, "Sequences per device per step (training) or in flight (inference).", ge=1, le=1_000_000)
    sequence_length: int = help_field(512, "Tokens per sequence.", ge=1, le=100_000_000)
    gradient_checkpointing: bool = help_field(False, "Recompute activations in the backward pass (less memory, +1 forward).")
    out: str | None = path_field(None, "Also write the estimate to OUT/summary.json.")
    format: str = help_field("text", "What to print: text or json.", choices=("text", "json"))

    def check(self) -> None:
        if self.model is None and self.params is None and self.layers is None:
            raise field_error("model", "is needed: a model folder, or params, or the shape (layers, hidden, heads, vocab)")
        if self.model is None and self.layers is not None:
            missing = [name for name in SHAPE if getattr(self, name) is None]
            if missing:
                raise field_error(missing[0], f"is required with {', '.join(n for n in SHAPE if n != missing[0])} (the shape)")
        if self.method == "full" and self.precision in ("int8", "4bit"):
            raise field_error("precision", f"is {self.precision}: full fine-tuning needs fp32 or bf16 weights "
                              "(with int8 or 4-bit weights train adapters: method lora or qlora)")
        if self.method == "qlora" and self.precision not in ("auto", "4bit"):
            raise field_error("precision", f"is {self.precision}: qlora trains adapters on a 4-bit base (4bit or auto)")
        if self.method == "lora" and self.precision == "4bit":
            raise field_error("method", "is lora with 4-bit weights: that is qlora")


# --- the model's shape ------------------------------------------------------------------------


@dataclass
class Shape:
    params: float
    source: str  # config.json, shape, given
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    vocab: int | None = None
    intermediate: int | None = None
    gated_mlp: bool = False
    tie_embeddings: bool = True

    @property
    def known(self) -> bool:
        return self.layers is not None


def model_config_path(model: str) -> Path:
    """The config.json of a model folder, of a run folder (its model.json names the base), or
    of the tiny default model ('tiny', 'tiny-lm', 'tiny-rm'; built on first use)."""
    if model in ("tiny", "tiny-lm", "tiny-rm"):
        from trainer.tiny import ensure_tiny_models

        return ensure_tiny_models() / ("rm" if model == "tiny-rm" else "lm") / "config.json"
    folder = Path(model)
    if (folder / "config.json").is_file():
        return folder / "config.json"
    if (folder / "model.json").is_file():
        try:
            base = json.loads((folder / "model.json").read_text("utf-8")).get("base")
        except (OSError, ValueError):
            base = None
        if isinstance(base, str) and base and base != model:
            return model_config_path(base)
    if not folder.exists():
        raise field_error("model", f"{model!r} is not a folder on this machine (give params and the shape instead)")
    raise field_error("model", f"{model!r} has no config.json")


def read_model_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise field_error("model", f"{path} cannot be read as JSON: {e}") from None
    if not isinstance(data, dict):
        raise field_error("model", f"{path} is not a JSON object")
    return data


def shape_from_config(data: dict[str, Any], where: str = "config.json") -> Shape:
    """The shape a Hugging Face config.json describes (text models; a multimodal config's
    text_config when it has one)."""
    if isinstance(data.get("text_config"), dict):
        data = data["text_config"]
    found: dict[str, int | None] = {}
    for part, keys in CONFIG_KEYS.items():
        found[part] = next((data[k] for k in keys if isinstance(data.get(k), int) and data[k] > 0), None)
    missing = [part for part in SHAPE if found[part] is None]
    if missing:
        raise field_error("model", f"{where} does not say {', '.join(missing)} ({' / '.join(CONFIG_KEYS[missing[0]])})")
    act = str(data.get("hidden_act") or data.get("activation_function") or "")
    gated = str(data.get("model_type", "")) in GATED_MODEL_TYPES or act in ("silu", "swish", "swiglu")
    head_dim = data.get("head_dim") if isinstance(data.get("head_dim"), int) else None
    return make_shape(
        layers=found["layers"], hidden=found["hidden"], heads=found["heads"], kv_heads=found["kv_heads"],
        vocab=found["vocab"], intermediate=found["intermediate"], gated_mlp=gated, head_dim=head_dim,
        tie_embeddings=bool(data.get("tie_word_embeddings", True)), source="config.json",
    )


def make_shape(*, layers: int, hidden: int, heads: int, vocab: int, kv_heads: int | None = None,
               intermediate: int | None = None, gated_mlp: bool = False, head_dim: int | None = None,
               tie_embeddings: bool = True, params: float | None = None, source: str = "shape") -> Shape:
    """A shape and its parameter count: per layer the attention projections (q, k, v, o),
    the MLP (two matrices, three when gated) and two norms; the embeddings (twice when the
    output head is not tied) and the final norm. Biases and learned position embeddings are
    left out (well under 1% for models of a billion parameters)."""
    kv_heads = kv_heads or heads
    if head_dim is None:
        if hidden % heads:
            raise field_error("heads", f"must divide hidden ({hidden} is not a multiple of {heads})")
        head_dim = hidden // heads
    if heads % kv_heads:
        raise field_error("kv_heads", f"must divide heads ({heads} is not a multiple of {kv_heads})")
    intermediate = intermediate or 4 * hidden
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2
    mlp = (3 if gated_mlp else 2) * hidden * intermediate
    counted = layers * (attention + mlp + 2 * hidden) + vocab * hidden * (1 if tie_embeddings else 2) + hidden
    return Shape(
        params=float(params if params is not None else counted), source="given" if params is not None else source,
        layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads, head_dim=head_dim, vocab=vocab,
        intermediate=intermediate, gated_mlp=gated_mlp, tie_embeddings=tie_embeddings,
    )


def resolve_shape(cfg: PlanConfig) -> Shape:
    if cfg.model is not None:
        shape = shape_from_config(read_model_config(model_config_path(cfg.model)), f"{cfg.model}/config.json")
        if cfg.params is not None:
            shape.params, shape.source = cfg.params, "given"
        return shape
    if cfg.layers is not None:
        return make_shape(layers=cfg.layers, hidden=cfg.hidden, heads=cfg.heads, kv_heads=cfg.kv_heads,
                          vocab=cfg.vocab, intermediate=cfg.intermediate, gated_mlp=cfg.gated_mlp,
                          tie_embeddings=cfg.tie_embeddings, params=cfg.params)
    return Shape(params=float(cfg.params), source="given")


def lora_parameters(shape: Shape, r: int, targets: str) -> float:
    """Trainable parameters of rank-r adapters: r·(d_in + d_out) per adapted matrix."""
    h, q, kv = shape.hidden, shape.heads * shape.head_dim, shape.kv_heads * shape.head_dim
    if targets == "attention":  # q_proj and v_proj
        per_layer = r * (h + q) + r * (h + kv)
    else:
        ff = shape.intermediate
        per_layer = r * (h + q) + 2 * r * (h + kv) + r * (q + h) + (3 if shape.gated_mlp else 2) * r * (h + ff)
    return float(shape.layers * per_layer)


# --- the figures ------------------------------------------------------------------------------


def chinchilla(params: float, flop_budget: float | None) -> dict[str, Any]:
    """Compute-optimal tokens for ``params``, and size and tokens for a FLOP budget (C = 6·N·D, D = 20·N)."""
    out: dict[str, Any] = {"tokens_per_param": TOKENS_PER_PARAM, "optimal_tokens": TOKENS_PER_PARAM * params}
    if flop_budget is not None:
        n = math.sqrt(flop_budget / (6 * TOKENS_PER_PARAM))
        out["budget"] = {"flops": flop_budget, "params": n, "tokens": TOKENS_PER_PARAM * n}
    return out


def estimate(cfg: PlanConfig) -> dict[str, Any]:
    """Every figure for a checked config (``check_config(cfg)`` first)."""
    shape = resolve_shape(cfg)
    precision = cfg.precision if cfg.precision != "auto" else ("4bit" if cfg.method == "qlora" else "bf16")
    device = ACCELERATORS[cfg.accelerator]
    memory = cfg.memory_gb * GB if cfg.memory_gb is not None else device["memory"]
    notes: list[str] = []
    n = shape.params
    trainable = n
    if cfg.method != "full":
        if not shape.known:
            raise field_error("method", f"{cfg.method} needs the model's shape (layers, hidden, heads, vocab) "
                              "to count its adapter parameters")
        trainable = lora_parameters(shape, cfg.lora_r, cfg.lora_targets)

    tokens = cfg.tokens
    if tokens is None:
        tokens = TOKENS_PER_PARAM * n
        notes.append("tokens not given: the compute-optimal 20 per parameter")
    per_token = FLOPS_PER_PARAM_TOKEN[cfg.method] + (2.0 if cfg.gradient_checkpointing else 0.0)
    flops = per_token * n * tokens
    compute = "fp32" if precision == "fp32" else "bf16"  # int8 / 4-bit weights are dequantized to bf16 to multiply
    peak = cfg.peak_tflops * 1e12 if cfg.peak_tflops is not None else device[compute]
    seconds = flops / (cfg.count * peak * cfg.utilisation)

    weights = n * WEIGHT_BYTES[precision]
    state_bytes = 4.0 if precision == "fp32" else 2.0  # trained weights' own copy and their gradients
    optimizer_bytes = 8.0 if precision == "fp32" else 12.0  # Adam m, v (+ fp32 master weights in mixed precision)
    if cfg.method != "full":
        weights += trainable * state_bytes
    gradients = trainable * state_bytes
    optimizer = trainable * optimizer_bytes
    activations = activation_bytes(shape, cfg, precision)
    if activations is None:
        notes.append("activations and the KV cache need the shape (layers, hidden, heads, vocab)")
    states = weights + gradients + optimizer
    total = states + (activations or 0.0)
    sharded = states / cfg.count + (activations or 0.0)
    kv = kv_cache_bytes(shape, cfg, precision)
    inference = n * WEIGHT_BYTES[precision] + (kv or 0.0)
    notes.append("memory is per device: batch_size sequences each; frameworks add 1-3 GB of workspace")
    if precision in ("int8", "4bit"):
        notes.append(f"{precision} weights are dequantized to bf16 to multiply: the bf16 peak applies")
    return {
        "model": {
            "params": n, "params_source": shape.source, "trainable_params": trainable,
            "layers": shape.layers, "hidden": shape.hidden, "heads": shape.heads, "kv_heads": shape.kv_heads,
            "head_dim": shape.head_dim, "vocab": shape.vocab, "intermediate": shape.intermediate,
            "gated_mlp": shape.gated_mlp if shape.known else None,
            "tie_embeddings": shape.tie_embeddings if shape.known else None,
        },
        "chinchilla": chinchilla(n, cfg.flop_budget),
        "training": {
            "method": cfg.method, "precision": precision, "tokens": tokens, "flops_per_token": per_token * n,
            "flops": flops, "accelerator": cfg.accelerator, "accelerator_label": device["label"], "count": cfg.count,
            "peak_flops": peak, "utilisation": cfg.utilisation, "seconds": seconds,
        },
        "training_memory": {
            "weights": weights, "gradients": gradients, "optimizer": optimizer, "activations": activations,
            "total": total, "per_device_sharded": sharded, "device_memory": memory,
            "bytes_per_param": states / n, "fits": _fits(total, sharded, memory, cfg.count, activations),
        },
        "inference_memory": {
            "weights": n * WEIGHT_BYTES[precision], "kv_cache": kv, "total": inference,
            "fits": _fits(inference, inference, memory, 1, kv),
        },
        "notes": notes,
    }


def activation_bytes(shape: Shape, cfg: PlanConfig, precision: str) -> float | None:
    """Activations kept for the backward pass (Korthikanti et al. 2022) plus the fp32 logits."""
    if not shape.known:
        return None
    s, b, h, a = cfg.sequence_length, cfg.batch_size, shape.hidden, shape.heads
    scale = 2.0 if precision == "fp32" else 1.0  # the formula counts 16-bit activations
    full_layer = s * b * h * (34 + 5 * a * s / h) * scale
    if cfg.gradient_checkpointing:
        layers = shape.layers * 2 * s * b * h * scale + full_layer  # layer inputs, one layer recomputed
    else:
        layers = shape.layers * full_layer
    return layers + 4.0 * b * s * shape.vocab


def kv_cache_bytes(shape: Shape, cfg: PlanConfig, precision: str) -> float | None:
    if not shape.known:
        return None
    per_value = 4.0 if precision == "fp32" else 2.0
    return 2.0 * shape.layers * shape.kv_heads * shape.head_dim * cfg.sequence_length * cfg.batch_size * per_value


def _fits(total: float, sharded: float, memory: float, count: int, partial: float | None) -> str:
    """yes / sharded (only with the states split across the devices: FSDP, ZeRO-3) / no, or
    unknown when a part that needs the shape is missing and what is known fits."""
    complete = partial is not None
    if total <= memory:
        return "yes" if complete else "unknown"
    if count > 1 and sharded <= memory:
        return "sharded" if complete else "unknown"
    return "no"


def plan(values: dict[str, Any]) -> dict[str, Any]:
    """The estimate for ``values`` (config fields, as in a --config file), checked first;
    raises ConfigError naming each field at fault."""
    cfg = load_config(PlanConfig, overrides=values)
    check_config(cfg)
    return estimate(cfg)


# --- text -------------------------------------------------------------------------------------


def human(value: float | None, unit: str = "") -> str:
    """1.4e12 -> '1.4 T', 3.2e9 bytes -> '3.2 G'."""
    if value is None:
        return "—"
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def duration(seconds: float) -> str:
    for size, name in ((86400 * 365, "years"), (86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds >= size:
            return f"{seconds / size:.3g} {name}"
    return f"{seconds:.3g} seconds"


def report_lines(result: dict[str, Any]) -> list[str]:
    m, c, t = result["model"], result["chinchilla"], result["training"]
    mem, inf = result["training_memory"], result["inference_memory"]
    lines = [f"model: {human(m['params'])} parameters ({m['params_source']})"]
    if m["layers"] is not None:
        lines[-1] += f", {m['layers']} layers, hidden {m['hidden']}, {m['heads']} heads ({m['kv_heads']} kv), vocab {m['vocab']}"
    lines.append(f"compute-optimal tokens (Chinchilla, 20/param): {human(c['optimal_tokens'])}")
    if "budget" in c:
        lines.append(f"for {c['budget']['flops']:.3g} FLOPs: {human(c['budget']['params'])} parameters "
                     f"on {human(c['budget']['tokens'])} tokens")
    lines.append(f"training ({t['method']}, {t['precision']}): {human(t['tokens'])} tokens, {t['flops']:.3g} FLOPs; "
                 f"{duration(t['seconds'])} on {t['count']} x {t['accelerator_label']} at {t['utilisation']:.0%} of "
                 f"{human(t['peak_flops'], 'FLOP/s')}")
    if t["method"] != "full":
        lines.append(f"trainable (adapter) parameters: {human(m['trainable_params'])}")
    lines.append(
        f"training memory per device: {human(mem['total'], 'B')} = weights {human(mem['weights'], 'B')} + gradients "
        f"{human(mem['gradients'], 'B')} + optimizer {human(mem['optimizer'], 'B')} + activations "
        f"{human(mem['activations'], 'B')} ({mem['bytes_per_param']:.3g} bytes/param before activations); "
        f"fits in {human(mem['device_memory'], 'B')}: {mem['fits']}"
    )
    lines.append(f"inference memory: {human(inf['total'], 'B')} = weights {human(inf['weights'], 'B')} + KV cache "
                 f"{human(inf['kv_cache'], 'B')}; fits: {inf['fits']}")
    lines += [f"note: {note}" for note in result["notes"]]
    return lines


@dataclass
class PlanResult:
    """What ``run`` returns (the CLI prints the report itself; ``out`` is None unless asked for)."""

    out: Path | None
    summary: dict[str, Any]


def run(cfg: PlanConfig) -> PlanResult:
    check_config(cfg)
    result = estimate(cfg)
    if cfg.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print("\n".join(report_lines(result)))
    out = None
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps({"method": "plan", "status": "succeeded"} | result, indent=2) + "\n")
    sys.stdout.flush()
    return PlanResult(out=out, summary={"status": "succeeded"})


__all__ = ["ACCELERATORS", "ConfigError", "PlanConfig", "estimate", "plan", "report_lines"]
