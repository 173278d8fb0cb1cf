"""Finding and loading models: tiny defaults, local folders, run folders, hub names.

A model is named by a *spec*:

* ``tiny`` / ``tiny-lm`` / ``tiny-rm`` — the offline default models (built on first use);
* a run folder written by this package (it has ``model.json``: base + adapter + kind);
* a bare PEFT adapter folder (``adapter_config.json``; base taken from it unless given);
* any local Hugging Face model folder (``config.json``);
* a hub name, only where a hub is reachable (``HF_HUB_OFFLINE=1`` is honoured).

Adapters are always loaded onto an explicitly loaded base, never through the absolute
path that ``adapter_config.json`` records, so run folders stay movable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer import runtime
from trainer.config import ConfigError

TINY = {"tiny": "lm", "tiny-lm": "lm", "tiny-rm": "rm"}


class ModelError(ConfigError):
    """A model spec that cannot be resolved or loaded (the user can fix it: exit code 2)."""


@dataclass
class ModelRef:
    spec: str  # as the user wrote it
    base: str  # folder or hub id holding the base weights
    adapter: str | None  # LoRA adapter folder, if any
    tokenizer: str  # folder or hub id holding the tokenizer
    kind: str | None = None  # "causal-lm" or "reward" for run folders
    base_name: str = ""  # the portable name of the base: a tiny name, an absolute path or a hub id

    def __post_init__(self) -> None:
        self.base_name = self.base_name or self.base


def resolve_model(spec: str, adapter: str | None = None) -> ModelRef:
    """Turn a spec (and an optional explicit adapter folder) into base / adapter / tokenizer."""
    if not spec:
        raise ModelError("no model given")
    if spec in TINY:
        from trainer.tiny import ensure_tiny_models

        path = str(ensure_tiny_models() / TINY[spec])
        ref = ModelRef(spec, path, None, path, base_name=spec)
    else:
        ref = _resolve_path_or_hub(spec)
    if adapter:
        adapter_ref = _resolve_path_or_hub(adapter)
        if adapter_ref.adapter is None:
            raise ModelError(f"adapter '{adapter}' is not an adapter folder or run folder")
        if ref.adapter is not None:
            raise ModelError(f"model '{spec}' already has an adapter; give its base as the model")
        ref = ModelRef(
            spec, ref.base, adapter_ref.adapter, adapter_ref.tokenizer, adapter_ref.kind, ref.base_name
        )
    return ref


def _resolve_path_or_hub(spec: str) -> ModelRef:
    path = Path(spec).expanduser()
    if (path / "model.json").is_file():  # a run folder
        info = json.loads((path / "model.json").read_text("utf-8"))
        base_path = info.get("base_path")
        if base_path and Path(base_path).is_dir():
            base = base_path
        else:
            base = resolve_model(info["base"]).base
        adapter = str(path / info["adapter"]) if info.get("adapter") else None
        tok = path / info.get("tokenizer", "tokenizer")
        tok_dir = str(tok if tok.is_dir() else base)
        return ModelRef(spec, base, adapter, tok_dir, info.get("kind"), info["base"])
    if (path / "adapter_config.json").is_file():  # a bare adapter folder
        base_name = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"]
        base_ref = resolve_model(base_name)
        tok = str(path) if (path / "tokenizer_config.json").is_file() else base_ref.tokenizer
        return ModelRef(spec, base_ref.base, str(path), tok, base_name=base_ref.base_name)
    if (path / "config.json").is_file():
        return ModelRef(spec, str(path.resolve()), None, str(path.resolve()))
    if path.exists():
        raise ModelError(f"'{spec}' is a folder but not a model (no config.json, model.json or adapter)")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelError(f"model folder '{spec}' does not exist")
    return ModelRef(spec, spec, None, spec)  # a hub name


def _load_error(spec: str, exc: Exception) -> ModelError:
    hint = " (HF_HUB_OFFLINE is set: only local folders and cached hub models load)" if runtime.hub_offline() else ""
    return ModelError(f"cannot load model '{spec}': {' '.join(str(exc).split())[:300]}{hint}")


def load_tokenizer(ref: ModelRef, padding_side: str = "right"):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(ref.tokenizer)
    except (OSError, ValueError) as e:
        raise _load_error(ref.tokenizer, e) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = padding_side
    return tok


def load_causal_lm(ref: ModelRef, device: str = "cpu", dtype: Any = None, trainable: bool = False,
                   quantize_4bit: bool = False):
    """Base (+ adapter, trainable or frozen) as a causal LM on `device`; ``quantize_4bit``: the
    base in 4-bit NF4 for QLoRA (a CUDA device; open_run refuses it elsewhere)."""
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(ref.base, **_weights(device, dtype, quantize_4bit))
    except (OSError, ValueError) as e:
        raise _load_error(ref.base, e) from None
    model = _with_adapter(model, ref, trainable)
    return model if quantize_4bit else model.to(device)


def _weights(device: str, dtype: Any, quantize_4bit: bool) -> dict:
    """from_pretrained's weight options: float32 (or ``dtype``), or 4-bit NF4 with bf16 compute
    placed on ``device`` at load (a quantized model cannot be moved after). The trainers hand
    TRL a 4-bit base with a LoRA config; TRL prepares it for k-bit training."""
    import torch

    if not quantize_4bit:
        return {"dtype": dtype or torch.float32}
    from transformers import BitsAndBytesConfig

    return {"quantization_config": BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                      bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16),
            "device_map": {"": device}}


def load_reward_model(ref: ModelRef, tokenizer, device: str = "cpu", dtype: Any = None, trainable: bool = False,
                      quantize_4bit: bool = False):
    """A one-output sequence classifier (+ adapter). A causal-LM base gets a new, seeded head."""
    from transformers import AutoModelForSequenceClassification

    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            ref.base, num_labels=1, **_weights(device, dtype, quantize_4bit)
        )
    except (OSError, ValueError) as e:
        raise _load_error(ref.base, e) from None
    model.config.pad_token_id = tokenizer.pad_token_id  # batch scoring needs it to find the last token
    model = _with_adapter(model, ref, trainable)
    return model if quantize_4bit else model.to(device)


def _with_adapter(model, ref: ModelRef, trainable: bool):
    if ref.adapter is None:
        return model
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, ref.adapter, is_trainable=trainable)
    except (OSError, ValueError, KeyError) as e:
        raise _load_error(ref.adapter, e) from None


def lora_config(cfg: Any, task_type: str):
    """LoRA settings from a config's lora_* fields. task_type: "CAUSAL_LM" or "SEQ_CLS"."""
    from peft import LoraConfig

    targets = cfg.lora_target_modules
    target_modules: Any = "all-linear" if targets == ["all-linear"] else list(targets)
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=target_modules,
        task_type=task_type,
        modules_to_save=["score"] if task_type == "SEQ_CLS" else None,
    )


def save_model(folder, model, tokenizer, ref: ModelRef, kind: str) -> None:
    """Save the trained adapter (only the 'default' one) and tokenizer; write model.json.
    Only the main process saves, after checking that every process holds the same weights."""
    from trainer.distributed import check_same_weights

    check_same_weights(p for p in model.parameters() if p.requires_grad)
    if not folder.main:
        return
    model.save_pretrained(folder.artifact("adapter"), selected_adapters=["default"])
    tokenizer.save_pretrained(folder.artifact("tokenizer"))
    folder.write_model_json(
        base=ref.base_name,
        base_path=ref.base,
        adapter="adapter",
        tokenizer="tokenizer",
        kind=kind,
    )


def count_parameters(model) -> dict[str, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"params_total": total, "params_trainable": trainable}
