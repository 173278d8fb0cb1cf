"""A snapshot in the formats the distributed RLHF engines read, written beside its data.jsonl.

LabelHub trains on one machine; a team with models beyond one node trains on OpenRLHF or verl
(docs/scale.md). Each ready snapshot therefore also holds, in its folder:

``openrlhf/preference.jsonl`` (preference snapshots)
    One pair per line: ``prompt`` (chat messages), ``chosen`` and ``rejected`` (the answer as a
    one-message list, role ``assistant``), ``margin`` where the snapshot gives one. These are
    OpenRLHF's default ``--prompt_key``/``--chosen_key``/``--rejected_key`` for
    ``openrlhf.cli.train_rm`` and ``train_dpo`` with ``--apply_chat_template`` (it reads
    ``margin`` for its margin loss).
``openrlhf/prompts.jsonl`` (preference and SFT snapshots)
    The snapshot's distinct prompts: ``context_messages`` (chat messages; ``--input_key
    context_messages --apply_chat_template`` for ``train_ppo_ray``), ``prompt`` (the text form)
    and ``datasource`` (the campaign's slug, the key OpenRLHF groups rewards by).
``openrlhf/sft.jsonl`` (SFT snapshots)
    ``messages`` (the prompt's turns and the labeler's answer; ``--input_key messages
    --apply_chat_template`` for ``train_sft``), ``input`` and ``output`` (text forms).
``verl/rm.parquet`` (preference snapshots)
    ``prompt``, ``chosen``, ``rejected`` as text: verl's ``RMDataset`` defaults.
``verl/ppo.parquet`` (preference and SFT snapshots)
    verl's RLHF prompt rows: ``data_source``, ``prompt`` (chat messages), ``ability``,
    ``reward_model`` ``{"style": "model", "ground_truth": ""}`` (scored by a reward model, not a
    rule) and ``extra_info`` ``{"split", "index", "prompt_id", "group_id"}``.
``verl/sft.parquet`` (SFT snapshots)
    ``prompt``, ``response`` (``data.prompt_key`` / ``data.response_key`` of verl's SFT trainer)
    and ``messages``.

Everything is derived from data.jsonl as written (the same rows, filters and aggregation), so
the formats cannot disagree with it; a ratings snapshot has no counterpart in either engine and
gets none. pyarrow writes the parquet files (a web-tier dependency already, for imports).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from labelhub.campaigns.models import Prompt
from labelhub.feedback.models import Snapshot

PARQUET_ROW_GROUP = 10_000
VERL_ABILITY = "chat"


def write_exports(snapshot: Snapshot) -> dict[str, int]:
    """Write the engines' files into the snapshot's folder; returns {relative path: rows}."""
    writer = {Snapshot.Kind.PREFERENCE: _preference, Snapshot.Kind.SFT: _sft}.get(snapshot.kind)
    if writer is None:
        return {}
    folder = Path(snapshot.path)
    (folder / "openrlhf").mkdir(exist_ok=True)
    (folder / "verl").mkdir(exist_ok=True)
    prompts = _distinct_prompts(snapshot)
    written = writer(snapshot, folder, prompts) | _prompt_files(snapshot, folder, prompts)
    # a parquet file needs rows to have a schema: an empty snapshot gets its JSONL files only
    return {path: rows for path, rows in written.items() if (folder / path).exists()}


def _rows(snapshot: Snapshot) -> Iterator[dict]:
    with open(snapshot.jsonl_path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _distinct_prompts(snapshot: Snapshot) -> dict[int, dict]:
    """The snapshot's prompts in first-seen order (one pass over data.jsonl, one query): each
    with its text as the rows give it, its group, its split, and its chat messages — its own
    turns, or its text as one user turn."""
    seen: dict[int, dict] = {}
    for row in _rows(snapshot):
        seen.setdefault(row["prompt_id"], {"text": row["prompt"], "group_id": row["group_id"]})
    found = Prompt.objects.filter(pk__in=seen).values_list("pk", "text", "messages", "split")
    for pk, text, messages, split in found.iterator(chunk_size=2000):
        seen[pk] |= {"split": split, "messages": messages if messages is not None else [{"role": "user", "content": text}]}
    return seen


def _assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def _preference(snapshot: Snapshot, folder: Path, prompts: dict[int, dict]) -> dict[str, int]:
    pairs = 0
    with open(folder / "openrlhf" / "preference.jsonl", "w", encoding="utf-8") as out, \
            _ParquetWriter(folder / "verl" / "rm.parquet") as rm:
        for row in _rows(snapshot):
            pair = {"prompt": prompts[row["prompt_id"]]["messages"], "chosen": _assistant(row["chosen"]),
                    "rejected": _assistant(row["rejected"])}
            if "margin" in row:
                pair["margin"] = row["margin"]
            out.write(json.dumps(pair, ensure_ascii=False) + "\n")
            rm.add({"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]})
            pairs += 1
    return {"openrlhf/preference.jsonl": pairs, "verl/rm.parquet": pairs}


def _sft(snapshot: Snapshot, folder: Path, prompts: dict[int, dict]) -> dict[str, int]:
    n = 0
    with open(folder / "openrlhf" / "sft.jsonl", "w", encoding="utf-8") as out, \
            _ParquetWriter(folder / "verl" / "sft.parquet") as sft:
        for row in _rows(snapshot):
            turns = prompts[row["prompt_id"]]["messages"] + _assistant(row["response"])
            out.write(json.dumps({"messages": turns, "input": row["prompt"], "output": row["response"]},
                                 ensure_ascii=False) + "\n")
            sft.add({"prompt": row["prompt"], "response": row["response"], "messages": turns})
            n += 1
    return {"openrlhf/sft.jsonl": n, "verl/sft.parquet": n}


def _prompt_files(snapshot: Snapshot, folder: Path, prompts: dict[int, dict]) -> dict[str, int]:
    """The snapshot's distinct prompts, in first-seen order, for the engines' PPO trainers."""
    source = snapshot.campaign.slug
    with open(folder / "openrlhf" / "prompts.jsonl", "w", encoding="utf-8") as out, \
            _ParquetWriter(folder / "verl" / "ppo.parquet") as ppo:
        for index, (prompt_id, prompt) in enumerate(prompts.items()):
            out.write(json.dumps({"context_messages": prompt["messages"], "prompt": prompt["text"],
                                  "datasource": source}, ensure_ascii=False) + "\n")
            ppo.add({"data_source": source, "prompt": prompt["messages"], "ability": VERL_ABILITY,
                     "reward_model": {"style": "model", "ground_truth": ""},
                     "extra_info": {"split": prompt["split"], "index": index, "prompt_id": prompt_id,
                                    "group_id": prompt["group_id"]}})
    return {"openrlhf/prompts.jsonl": len(prompts), "verl/ppo.parquet": len(prompts)}


class _ParquetWriter:
    """Rows to a parquet file in row groups, so a large snapshot is never held whole."""

    def __init__(self, path: Path):
        self.path, self.buffer, self.writer = path, [], None

    def __enter__(self):
        return self

    def add(self, row: dict) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa  # deferred like the dataset imports: only snapshot builds need it
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self.buffer, schema=self.writer.schema if self.writer else None)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)
        self.buffer = []

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.buffer:
            self._flush()
        if self.writer is not None:
            self.writer.close()
        return False
