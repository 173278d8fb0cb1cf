"""``trainer score``: score texts with a saved reward model, and the scoring code itself.

The same ``encode_reward_input`` turns (prompt, completion) into token ids for training
(``trainer reward``) and for scoring (here, in ``evaluate`` and in PPO), so EOS handling is
identical everywhere: plain text gets the tokenizer's EOS appended (as TRL's RewardTrainer
does), chat messages are rendered by the chat template as they are; sequences longer than
``max_length`` keep their end (the answer and its EOS). Scoring works on decoded text, so
a policy and its reward model may use different tokenizers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trainer.config import MAX_BATCH, RunConfig, help_field, path_field
from trainer.runfolder import RunResult, open_run


@dataclass
class ScoreConfig(RunConfig):
    """Score every text of a file with a reward model."""

    model: str | None = path_field(
        None, "Reward model: a `trainer reward` run folder (or adapter folder). Required.", required=True
    )
    data: str | None = path_field(
        None, "Texts: JSONL with 'text' or 'prompt' + 'completion' per line, or a .txt (one a line). Required.",
        required=True,
    )
    batch_size: int = help_field(32, "Texts per forward pass (sorted by length to cut padding).", ge=1, le=MAX_BATCH)
    max_length: int = help_field(
        0, "Longest input in tokens (0: the length the model was trained with).", ge=0, le=1_048_576
    )


def encode_reward_input(tokenizer, prompt: Any, completion: Any, max_length: int) -> list[int]:
    """Token ids the reward model reads for (prompt, completion); see the module doc."""
    if isinstance(prompt, list) or isinstance(completion, list):
        messages = _as_messages(prompt, "user") + _as_messages(completion, "assistant")
        ids = list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
    else:
        text = prompt + completion
        if not text.endswith(tokenizer.eos_token):
            text += tokenizer.eos_token
        ids = list(tokenizer(text)["input_ids"])
    return ids[-max_length:] if max_length and len(ids) > max_length else ids


def _as_messages(value: Any, role: str) -> list[dict]:
    if isinstance(value, list):
        return value
    return [{"role": role, "content": value}] if value else []


def join_for_reward(prompts: list[Any], completions: list[str]) -> tuple[list[Any], list[str]]:
    """Generated text as reward-model input: raw prompt + completion, with one separating
    space when neither side has one (as in exported pairs: " answer" after the prompt)."""
    joined = []
    for p, c in zip(prompts, completions, strict=True):
        needs_space = isinstance(p, str) and p and not p[-1].isspace() and c and not c[0].isspace()
        joined.append(" " + c if needs_space else c)
    return prompts, joined


def score_ids(model, sequences: list[list[int]], pad_id: int, batch_size: int, device: str) -> list[float]:
    """One scalar per sequence; batches of similar length, right-padded."""
    import torch

    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    scores = [0.0] * len(sequences)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(sequences[i]) for i in idx)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                ids[row, : len(sequences[i])] = torch.tensor(sequences[i])
                mask[row, : len(sequences[i])] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            for row, i in enumerate(idx):
                scores[i] = float(logits[row, 0])
    return scores


def pair_metrics(chosen: list[float], rejected: list[float]) -> dict[str, float]:
    """Held-out pairwise accuracy (ties count half) and mean margin."""
    n = len(chosen)
    wins = sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected, strict=True))
    return {"accuracy": wins / n, "margin": sum(c - r for c, r in zip(chosen, rejected, strict=True)) / n}


class RewardScorer:
    """A loaded reward model that scores (prompt, completion) texts. Reused by evaluate and PPO."""

    def __init__(self, spec: str, device: str = "cpu", batch_size: int = 32, max_length: int = 0):
        from trainer.models import load_reward_model, load_tokenizer, resolve_model
        from trainer.runtime import inference_dtype

        self.ref = resolve_model(spec)
        self.tokenizer = load_tokenizer(self.ref)
        self.model = load_reward_model(self.ref, self.tokenizer, device, inference_dtype(device))
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length or _trained_max_length(spec) or 1024

    def encode(self, prompts: list[Any], completions: list[Any]) -> list[list[int]]:
        return [
            encode_reward_input(self.tokenizer, p, c, self.max_length)
            for p, c in zip(prompts, completions, strict=True)
        ]

    def score(self, prompts: list[Any], completions: list[Any]) -> list[float]:
        ids = self.encode(prompts, completions)
        return score_ids(self.model, ids, self.tokenizer.pad_token_id, self.batch_size, self.device)


def _trained_max_length(spec: str) -> int | None:
    from pathlib import Path

    path = Path(spec) / "model.json"
    if path.is_file():
        return json.loads(path.read_text("utf-8")).get("max_length")
    return None


def run(cfg: ScoreConfig) -> RunResult:
    with open_run("score", cfg) as folder:
        from trainer.data import load_texts

        rows = load_texts(cfg.data)
        scorer = RewardScorer(cfg.model, cfg.device, cfg.batch_size, cfg.max_length)
        folder.resolve(base=scorer.ref.base, adapter=scorer.ref.adapter, max_length=scorer.max_length)
        scores = scorer.score([r["prompt"] for r in rows], [r["completion"] for r in rows])
        with open(folder.artifact("scores.jsonl"), "w", encoding="utf-8") as fh:
            for i, (row, s) in enumerate(zip(rows, scores, strict=True)):
                fh.write(json.dumps({"index": i, **row, "score": s}, ensure_ascii=False) + "\n")
        folder.log(0, scored=len(scores))
        mean = sum(scores) / len(scores)
        return folder.finish(
            count=len(scores), mean_score=mean, min_score=min(scores), max_score=max(scores),
            scores=str(folder.artifact("scores.jsonl")),
        )
