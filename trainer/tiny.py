"""The offline default models, built from the recipe and text in ``fixtures/tiny/``.

``python -m trainer tiny-model --out DIR`` writes, from a seed and with no network:

    DIR/lm/   a byte-level BPE tokenizer trained on the fixture text (with a small chat
              template) and a Llama-style causal LM briefly trained on that text
    DIR/rm/   a smaller Llama backbone trained the same way, saved as a sequence
              classifier with one output: the default reward-model base

Method configs refer to them as ``tiny`` (= ``tiny-lm``) and ``tiny-rm``; the first use
builds them into ``$LABELHUB_MODELS_DIR`` (default ``$LABELHUB_VAR_DIR/models``, i.e.
``var/models/``; the platform passes its own setting to the trainer) under a name derived
from the recipe, the corpus and the seed, so a changed recipe never reuses a stale cache.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.config import RunConfig, help_field, path_field
from trainer.runfolder import RunResult, open_run

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "tiny"
FORMAT_VERSION = "1"  # bump when the build code changes what it produces

EOS, PAD = "<|endoftext|>", "<|pad|>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + eos_token }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}"
)


@dataclass
class TinyModelConfig(RunConfig):
    """Build the tiny tokenizer, causal LM and reward backbone into `out`."""

    recipe: str = path_field(
        str(FIXTURES / "recipe.json"), "Recipe JSON: corpus files, tokenizer and model sizes, steps."
    )
    steps_scale: float = help_field(
        1.0, "Multiply the recipe's training steps (e.g. 0.2 for a quick, rougher model).", gt=0, le=100
    )


def models_dir() -> Path:
    """Where the tiny models are cached: the same folder the platform's settings name."""
    if os.environ.get("LABELHUB_MODELS_DIR"):
        return Path(os.environ["LABELHUB_MODELS_DIR"])
    return Path(os.environ.get("LABELHUB_VAR_DIR") or REPO / "var").resolve() / "models"


def fingerprint(recipe_path: Path, seed: int, steps_scale: float) -> str:
    recipe = json.loads(recipe_path.read_text("utf-8"))
    h = hashlib.sha256(f"{FORMAT_VERSION}:{seed}:{steps_scale}".encode())
    h.update(json.dumps(recipe, sort_keys=True).encode())
    for name in recipe["corpus"]:
        h.update((recipe_path.parent / name).read_bytes())
    return h.hexdigest()[:12]


def ensure_tiny_models(seed: int = 0) -> Path:
    """The cached default models folder (lm/ and rm/), built on first use."""
    import fcntl

    recipe = FIXTURES / "recipe.json"
    target = models_dir() / f"tiny-{fingerprint(recipe, seed, 1.0)}"
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".tiny-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same models
        if not _complete(target):
            print(f"trainer: building the tiny models into {target} (once, ~30 s)", file=sys.stderr)
            tmp = target.with_name(f".{target.name}.{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            run(TinyModelConfig(out=str(tmp), seed=seed, recipe=str(recipe), progress="off"))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
    return target


def _complete(folder: Path) -> bool:
    try:
        return json.loads((folder / "summary.json").read_text())["status"] == "succeeded"
    except (OSError, ValueError, KeyError):
        return False


# ---------------------------------------------------------------------------------------------
# Corpus


def corpus_documents(recipe_path: Path) -> list[str]:
    """The fixture text as documents: prose paragraphs, HH-style dialogues, and each Q&A /
    instruction pair in the plain "Question/Answer" layout and the HH layout."""
    recipe = json.loads(recipe_path.read_text("utf-8"))
    docs: list[str] = []
    for name in recipe["corpus"]:
        path = recipe_path.parent / name
        if path.suffix == ".jsonl":
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    docs.append(f"Question: {row['prompt']}\nAnswer: {row['response']}")
                    docs.append(f"\n\nHuman: {row['prompt']}\n\nAssistant: {row['response']}")
        elif name.startswith("dialogues"):
            docs.extend(_dialogues(path.read_text("utf-8")))
        else:
            docs.extend(p.strip() for p in path.read_text("utf-8").split("\n\n") if p.strip())
    return docs


def chat_documents(recipe_path: Path) -> list[list[dict[str, str]]]:
    """Q&A / instruction pairs as chat messages, rendered with the chat template for training."""
    recipe = json.loads(recipe_path.read_text("utf-8"))
    chats = []
    for name in recipe["corpus"]:
        path = recipe_path.parent / name
        if path.suffix == ".jsonl":
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    chats.append(
                        [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["response"]}]
                    )
    return chats


def _dialogues(text: str) -> list[str]:
    """Split "Human: / Assistant:" paragraphs into conversations, HH-RLHF style."""
    convs: list[list[str]] = []
    previous = None
    for para in (p.strip() for p in text.split("\n\n")):
        if not para:
            continue
        speaker = para.split(":", 1)[0]
        if speaker == "Human" and previous != "Human":
            convs.append([])
        if convs:
            convs[-1].append(para)
        previous = speaker
    return ["".join("\n\n" + p for p in conv) for conv in convs]


# ---------------------------------------------------------------------------------------------
# Building


def build_tokenizer(docs: list[str], vocab_size: int, min_frequency: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOS, PAD, *ROLE_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(docs, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=ROLE_TOKENS,
        model_max_length=2048,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def token_stream(tokenizer, docs: list[str], chats: list[list[dict]], seed: int) -> list[int]:
    """Every document (and every chat rendered with the template) followed by EOS, shuffled."""
    texts = [d + EOS for d in docs]
    texts += [tokenizer.apply_chat_template(c, tokenize=False) for c in chats]
    random.Random(seed).shuffle(texts)
    ids: list[int] = []
    for t in texts:
        ids.extend(tokenizer(t)["input_ids"])
    return ids


def train_lm(model, ids: list[int], spec: dict[str, Any], steps: int, seed: int, log, progress) -> float:
    """A plain next-token loop on random windows of the token stream; returns the last loss."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    data = torch.tensor(ids, dtype=torch.long)
    seq, bs = spec["seq_len"], spec["batch_size"]
    opt = torch.optim.AdamW(model.parameters(), lr=spec["learning_rate"], weight_decay=0.01, betas=(0.9, 0.95))
    warm = spec.get("warmup_steps", 0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (s + 1) / warm if s < warm else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))),
    )
    model.train()
    loss_value = float("nan")
    for step in range(1, steps + 1):
        starts = torch.randint(0, len(data) - seq - 1, (bs,), generator=gen)
        batch = torch.stack([data[s : s + seq] for s in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        loss_value = loss.item()
        progress.update(1)
        if step % 10 == 0 or step == steps:
            log(step, loss=loss_value, lr=sched.get_last_lr()[0])
    model.eval()
    return loss_value


def llama_config(tokenizer, spec: dict[str, Any], **extra):
    from transformers import LlamaConfig

    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "intermediate_size", "max_position_embeddings")
    return LlamaConfig(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        **{k: spec[k] for k in keys},
        **extra,
    )


def run(cfg: TinyModelConfig) -> RunResult:
    import torch
    from transformers import LlamaForCausalLM, LlamaForSequenceClassification

    with open_run("tiny-model", cfg) as folder:
        recipe_path = Path(cfg.recipe)
        recipe = json.loads(recipe_path.read_text("utf-8"))
        docs = corpus_documents(recipe_path)
        chats = chat_documents(recipe_path)
        tokenizer = build_tokenizer(docs, **recipe["tokenizer"])
        ids = token_stream(tokenizer, docs, chats, cfg.seed)
        folder.resolve(documents=len(docs) + len(chats), corpus_tokens=len(ids), vocab_size=len(tokenizer))

        out: dict[str, Any] = {"corpus_tokens": len(ids), "vocab_size": len(tokenizer)}
        steps = {k: max(1, round(recipe[k]["steps"] * cfg.steps_scale)) for k in ("lm", "rm")}
        bar = folder.progress(steps["lm"] + steps["rm"], "tiny models")
        for offset, kind in ((0, "lm"), (steps["lm"], "rm")):
            spec = recipe[kind]
            torch.manual_seed(cfg.seed)
            model = LlamaForCausalLM(llama_config(tokenizer, spec))
            loss = train_lm(
                model, ids, spec, steps[kind], cfg.seed,
                lambda s, offset=offset, kind=kind, **m: folder.log(offset + s, model=kind, **m), bar,
            )
            target = folder.artifact(kind)
            if kind == "rm":
                # The reward backbone: the trained body under a one-output score head (seeded).
                torch.manual_seed(cfg.seed)
                rm = LlamaForSequenceClassification(llama_config(tokenizer, spec, num_labels=1))
                rm.model.load_state_dict(model.model.state_dict())
                model = rm
            else:
                model.generation_config.eos_token_id = tokenizer.eos_token_id
                model.generation_config.pad_token_id = tokenizer.pad_token_id
            model.save_pretrained(target)
            tokenizer.save_pretrained(target)
            out[f"{kind}_params"] = sum(p.numel() for p in model.parameters())
            out[f"{kind}_final_loss"] = loss
            out[f"{kind}_steps"] = steps[kind]
        bar.close()
        out["sample"] = _sample(folder.artifact("lm"), cfg.seed)
        return folder.finish(**out, lm=str(folder.artifact("lm")), rm=str(folder.artifact("rm")))


def _sample(lm_dir: Path, seed: int) -> str:
    """One sampled answer, recorded in the summary to show the LM's text is word-like."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(lm_dir)
    model = AutoModelForCausalLM.from_pretrained(lm_dir)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "What is a good way to spend a rainy day?"}],
        tokenize=False, add_generation_prompt=True,
    )
    enc = tok(text, return_tensors="pt")
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=40, do_sample=True, top_k=50, pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
