"""Reading the files the trainer learns from, with errors that name the line.

Preference data (``load_preferences``) comes in three shapes, detected per row:

* TRL pairs: ``prompt``, ``chosen``, ``rejected``, optional ``margin`` — what the platform
  exports, with provenance columns (``task_id``, ``labelers``, ...) that are ignored;
* rankings: ``prompt``, ``completions`` (K texts) and ``ranks`` (1 = best, equal = tie) or
  ``order`` (best first, a list inside the list = a tie), expanded to the K·(K−1)/2 ordered
  pairs, ties left out, all pairs of a prompt kept in one group (as InstructGPT did);
* HH-RLHF dialogues: ``chosen`` and ``rejected`` only, each a whole ``\\n\\nHuman: …``
  dialogue; split into the shared prompt (through the last common ``\\n\\nAssistant:``) and
  the two final answers, each starting with its separating space.

Rows keep a ``group`` (from ``group_id``/``group``/``task_id``, else the prompt), and
``split_by_group`` makes a deterministic held-out split that never cuts a group in two.
Texts may be strings or chat messages (``[{"role": ..., "content": ...}]``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

GROUP_COLUMNS = ("group_id", "group", "task_id")
HH_ASSISTANT = "\n\nAssistant:"


class DataError(ValueError):
    """A data file the user can fix; the message names the file and line."""


# ---------------------------------------------------------------------------------------------
# Rows


def read_rows(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (where, row) from a JSONL / JSONL.gz / JSON-lines file or a `datasets` directory.

    `where` is "file:line" (1-based; blank lines are skipped but counted).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        yield from _read_dataset_dir(path)
        return
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{line_no}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(f"{where}: not valid JSON ({e.msg})") from None
                if not isinstance(row, dict):
                    raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
                yield where, row
    except (OSError, UnicodeDecodeError) as e:  # includes gzip.BadGzipFile
        raise DataError(f"{path}: cannot read ({e})") from None


def _read_dataset_dir(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as e:  # noqa: BLE001 - any failure here means "not a datasets directory"
        raise DataError(f"{path}: not a `datasets` directory saved with save_to_disk ({e})") from None
    if isinstance(ds, datasets.DatasetDict):
        if "train" not in ds:
            raise DataError(f"{path}: a DatasetDict needs a 'train' split (has {list(ds)})")
        ds = ds["train"]
    for i, row in enumerate(ds, start=1):
        yield f"{path}:row {i}", dict(row)


def _text(where: str, row: dict, key: str, required: bool = True) -> Any:
    """A string, or a list of chat messages, from `row[key]`."""
    if key not in row or row[key] is None:
        if required:
            raise DataError(f"{where}: missing field '{key}'")
        return None
    value = row[key]
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"{where}: field '{key}' is empty")
        return value
    if isinstance(value, list) and value and all(_is_message(m) for m in value):
        return [{"role": m["role"], "content": m["content"]} for m in value]
    raise DataError(f"{where}: field '{key}' must be a string or a list of chat messages")


def _is_message(m: Any) -> bool:
    return isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)


def _group(where: str, row: dict, group_column: str | None, fallback: Any) -> str:
    columns = (group_column,) if group_column else GROUP_COLUMNS
    for col in columns:
        if col in row and row[col] is not None:
            return str(row[col])
    if group_column:
        raise DataError(f"{where}: missing group column '{group_column}'")
    return "prompt:" + hashlib.sha1(json.dumps(fallback, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Preferences


def load_preferences(path: str | Path, group_column: str | None = None) -> list[dict[str, Any]]:
    """Pairs as dicts: prompt, chosen, rejected, margin (float or None), group."""
    pairs: list[dict[str, Any]] = []
    for where, row in read_rows(path):
        if "completions" in row:
            pairs.extend(ranking_to_pairs(where, row, group_column))
        elif "chosen" in row and "rejected" in row and "prompt" not in row:
            pairs.append(_hh_pair(where, row, group_column))
        else:
            pairs.append(_explicit_pair(where, row, group_column))
    if not pairs:
        raise DataError(f"{path}: no preference pairs found")
    if any(p["margin"] is not None for p in pairs):
        for p in pairs:
            p["margin"] = 0.0 if p["margin"] is None else p["margin"]
    return pairs


def _margin(where: str, row: dict) -> float | None:
    value = row.get("margin")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"{where}: field 'margin' must be a number, got {value!r}")
    return float(value)


def _explicit_pair(where: str, row: dict, group_column: str | None) -> dict[str, Any]:
    prompt = _text(where, row, "prompt")
    chosen = _text(where, row, "chosen")
    rejected = _text(where, row, "rejected")
    if chosen == rejected:
        raise DataError(f"{where}: 'chosen' and 'rejected' are the same text")
    return {
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "margin": _margin(where, row),
        "group": _group(where, row, group_column, prompt),
    }


def split_dialogue(chosen: str, rejected: str) -> tuple[str, str, str]:
    """HH-RLHF: (shared prompt through the last common "\\n\\nAssistant:", chosen, rejected)."""
    n = 0
    limit = min(len(chosen), len(rejected))
    while n < limit and chosen[n] == rejected[n]:
        n += 1
    cut = chosen[:n].rfind(HH_ASSISTANT)
    if cut < 0:
        raise ValueError("the two dialogues share no '\\n\\nAssistant:' turn")
    cut += len(HH_ASSISTANT)
    return chosen[:cut], chosen[cut:], rejected[cut:]


def _hh_pair(where: str, row: dict, group_column: str | None) -> dict[str, Any]:
    chosen = _text(where, row, "chosen")
    rejected = _text(where, row, "rejected")
    if not isinstance(chosen, str) or not isinstance(rejected, str):
        raise DataError(f"{where}: rows without 'prompt' need dialogue strings in chosen/rejected")
    if chosen == rejected:
        raise DataError(f"{where}: 'chosen' and 'rejected' are the same text")
    try:
        prompt, good, bad = split_dialogue(chosen, rejected)
    except ValueError as e:
        raise DataError(f"{where}: no 'prompt' field, and {e}") from None
    # An empty final answer (" ") is real data in HH-RLHF: saying nothing was sometimes the
    # less harmful choice. It stays a (whitespace) completion.
    return {
        "prompt": prompt,
        "chosen": good,
        "rejected": bad,
        "margin": _margin(where, row),
        "group": _group(where, row, group_column, prompt),
    }


def ranking_to_pairs(where: str, row: dict, group_column: str | None = None) -> list[dict[str, Any]]:
    """Expand one ranking of K completions to its ordered pairs (ties give none)."""
    prompt = _text(where, row, "prompt")
    completions = row["completions"]
    if not isinstance(completions, list) or len(completions) < 2:
        raise DataError(f"{where}: 'completions' must be a list of at least two texts")
    texts = [_text(where, {f"completions[{i}]": c}, f"completions[{i}]") for i, c in enumerate(completions)]
    ranks = _ranks(where, row, len(texts))
    group = _group(where, row, group_column, prompt)
    pairs = []
    for i in range(len(texts)):
        for j in range(len(texts)):
            if ranks[i] < ranks[j]:
                pairs.append(
                    {"prompt": prompt, "chosen": texts[i], "rejected": texts[j], "margin": None, "group": group}
                )
    return pairs


def _ranks(where: str, row: dict, k: int) -> list[int]:
    """Rank per completion (smaller is better) from `ranks` or `order`."""
    if "ranks" in row:
        ranks = row["ranks"]
        if (
            not isinstance(ranks, list)
            or len(ranks) != k
            or not all(isinstance(r, int) and not isinstance(r, bool) for r in ranks)
        ):
            raise DataError(f"{where}: 'ranks' must be {k} integers, one per completion")
        return ranks
    if "order" in row:
        order = row["order"]
        if not isinstance(order, list):
            raise DataError(f"{where}: 'order' must be a list (best first; a nested list is a tie)")
        ranks: list[int | None] = [None] * k
        for position, entry in enumerate(order):
            for index in entry if isinstance(entry, list) else [entry]:
                if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < k:
                    raise DataError(f"{where}: 'order' has {index!r}, not a completion index 0..{k - 1}")
                if ranks[index] is not None:
                    raise DataError(f"{where}: 'order' ranks completion {index} twice")
                ranks[index] = position
        missing = [i for i, r in enumerate(ranks) if r is None]
        if missing:
            raise DataError(f"{where}: 'order' does not rank completions {missing}")
        return ranks  # type: ignore[return-value]
    raise DataError(f"{where}: a ranking needs 'ranks' or 'order'")


# ---------------------------------------------------------------------------------------------
# Splits


def split_by_group(
    rows: list[dict[str, Any]], eval_fraction: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deterministic held-out split by group: a seeded hash orders the groups, the first
    round(n * eval_fraction) go to eval. Row order is kept within each side."""
    if not 0 <= eval_fraction < 1:
        raise DataError(f"eval_fraction must be in [0, 1), got {eval_fraction}")
    groups = sorted({r["group"] for r in rows})
    n_eval = round(len(groups) * eval_fraction)
    if eval_fraction > 0 and len(groups) > 1:
        n_eval = min(max(n_eval, 1), len(groups) - 1)
    ranked = sorted(groups, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
    held_out = set(ranked[:n_eval])
    train = [r for r in rows if r["group"] not in held_out]
    held = [r for r in rows if r["group"] in held_out]
    return train, held


def train_and_held(load: Callable[[str], list[dict[str, Any]]], cfg: Any) -> tuple[list, list]:
    """The training rows and the held-out rows of a training method (reward, sft, dpo):
    ``load(cfg.data)``, and ``load(cfg.eval_data)`` when it is set, else the
    ``cfg.eval_fraction`` of the groups of ``cfg.data`` (:func:`split_by_group`)."""
    rows = load(cfg.data)
    if cfg.eval_data:
        return rows, load(cfg.eval_data)
    return split_by_group(rows, cfg.eval_fraction, cfg.seed)


# ---------------------------------------------------------------------------------------------
# Demonstrations, prompts and texts


def load_demonstrations(path: str | Path) -> list[dict[str, Any]]:
    """SFT rows: {"prompt", "response"} (or "completion"), or {"messages": [...]} (chat).

    Chat rows become prompt = every message before the last, response = the last message,
    which must be the assistant's.
    """
    rows = []
    for where, row in read_rows(path):
        if "messages" in row:
            messages = _text(where, row, "messages")
            if not isinstance(messages, list) or len(messages) < 2:
                raise DataError(f"{where}: 'messages' needs at least a user and an assistant turn")
            if messages[-1]["role"] != "assistant":
                raise DataError(f"{where}: the last message must be the assistant's")
            rows.append({"prompt": messages[:-1], "response": messages[-1]["content"]})
            continue
        key = "response" if "response" in row else "completion"
        prompt = _text(where, row, "prompt")
        response = _text(where, row, key)
        if not isinstance(response, str):
            raise DataError(f"{where}: '{key}' must be a string")
        rows.append({"prompt": prompt, "response": response})
    if not rows:
        raise DataError(f"{path}: no demonstrations found")
    return rows


def load_prompts(path: str | Path) -> list[dict[str, Any]]:
    """Prompts from JSONL ({"prompt", optional "reference", "id", "passages"}) or a text file
    (one a line). ``passages`` (retrieved sources: [{"text", "id", "document"}, …]) go into the
    rendered prompt (:func:`trainer.templates.render_prompt`)."""
    path = Path(path)
    if path.suffix == ".txt":
        if not path.exists():
            raise DataError(f"{path}: no such file")
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [{"id": i, "prompt": line.strip()} for i, line in enumerate(lines) if line.strip()]
    else:
        rows = []
        for where, row in read_rows(path):
            item = {"id": row.get("id", len(rows)), "prompt": _text(where, row, "prompt")}
            if row.get("passages") is not None:
                item["passages"] = _passages(where, row["passages"])
            reference = row.get("reference", row.get("response"))
            if reference is not None:
                if not isinstance(reference, str):
                    raise DataError(f"{where}: 'reference' must be a string")
                item["reference"] = reference
            rows.append(item)
    if not rows:
        raise DataError(f"{path}: no prompts found")
    return rows


def _passages(where: str, value: Any) -> list[dict[str, Any]]:
    """A prompt's retrieved passages: a list of {"text", optional "id" and "document"}."""
    if not isinstance(value, list):
        raise DataError(f"{where}: 'passages' must be a list of {{\"text\": …}} objects")
    out = []
    for i, p in enumerate(value):
        if not isinstance(p, dict) or not isinstance(p.get("text"), str):
            raise DataError(f"{where}: passages[{i}] must be an object with a 'text' string")
        out.append({"id": p.get("id"), "document": str(p.get("document") or ""), "text": p["text"]})
    return out


def load_texts(path: str | Path) -> list[dict[str, Any]]:
    """Texts to score: {"text"} or {"prompt", "completion"} per line, or a .txt (one a line)."""
    path = Path(path)
    if path.suffix == ".txt":
        if not path.exists():
            raise DataError(f"{path}: no such file")
        return [{"prompt": "", "completion": t} for t in path.read_text("utf-8").splitlines() if t.strip()]
    rows = []
    for where, row in read_rows(path):
        if "text" in row:
            rows.append({"prompt": "", "completion": _text(where, row, "text")})
        else:
            rows.append(
                {"prompt": _text(where, row, "prompt"), "completion": _text(where, row, "completion")}
            )
    if not rows:
        raise DataError(f"{path}: no texts found")
    return rows


def load_held_out_text(path: str | Path) -> list[str]:
    """Held-out text for perplexity: a .txt (paragraphs split on blank lines) or JSONL "text"."""
    path = Path(path)
    if path.suffix == ".txt":
        if not path.exists():
            raise DataError(f"{path}: no such file")
        parts = [p.strip() for p in path.read_text("utf-8").split("\n\n")]
        return [p for p in parts if p]
    return [_text(where, row, "text") for where, row in read_rows(path)]
