"""Parsing and validating prompt/completion uploads (JSONL, CSV, or a Hugging Face dataset:
parquet, Arrow, a zipped save_to_disk folder — see :mod:`dataset_files`), before anything is
written.

JSONL, one object per line::

    {"prompt": "…", "split": "train", "metadata": {…},
     "completions": [{"text": "…", "policy": "name", "metadata": {…}}, …]}

``messages`` (chat turns) may replace ``prompt``. CSV has a header row with the columns
``prompt`` (or ``messages`` as a JSON string), and optionally ``split``, ``metadata`` (a JSON
object), ``completion``, ``policy`` and ``completion_metadata``; rows with the same prompt are
one prompt with several completions.

Every problem is reported as a :class:`RowError` naming the line and the field; the caller
writes nothing unless the list is empty. Each text (prompt, chat turn, completion) and each
metadata object (as JSON) holds at most ``LABELHUB_TEXT_MAX_BYTES``. A caller may follow the
check with ``progress``: it is called with (lines checked, lines in the file) every
:data:`PROGRESS_EVERY` lines.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from labelhub.campaigns import dataset_files
from labelhub.campaigns.models import Prompt, content_hash, unstorable
from labelhub.core.inputs import size_problem

MAX_ERRORS = 100
#: How often (in lines) a check reports its progress.
PROGRESS_EVERY = 1000
Progress = Callable[[int, int], None]
ROLES = {"system", "user", "assistant"}
SPLITS = {choice.value for choice in Prompt.Split}
DEFAULT_POLICY = "imported"


@dataclass(frozen=True)
class RowError:
    line: int | None
    field: str
    message: str

    def __str__(self):
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.field}: {self.message}"

    def as_dict(self):
        return {"line": self.line, "field": self.field, "message": self.message}


class ImportRejected(Exception):
    """The upload was refused; ``errors`` says where and why. Nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:5]))


@dataclass
class ParsedCompletion:
    text: str
    policy: str
    metadata: dict


@dataclass
class ParsedPrompt:
    line: int
    text: str
    messages: list | None
    split: str
    metadata: dict
    completions: list[ParsedCompletion] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return content_hash(self.messages if self.messages is not None else self.text)


def detect_format(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    for suffix, fmt in dataset_files.FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise ImportRejected([RowError(None, "file", "unknown format: name the file .jsonl, .csv, .parquet, .arrow, "
                                                 "or .zip (a Hugging Face save_to_disk folder)")])


def parse_upload(data: bytes, fmt: str, progress: Progress | None = None) -> list[ParsedPrompt]:
    """Parse and validate a whole upload; raise :class:`ImportRejected` with every error found."""
    if fmt in dataset_files.FORMATS.values():
        return _parse_dataset(data, fmt, progress)
    errors: list[RowError] = []
    lines = _decode_lines(data, errors)
    if errors:
        raise ImportRejected(errors)
    report = Reporter(progress, len(lines) - (lines[-1:] == [""]))  # a final newline ends the last line
    rows = _jsonl_rows(lines, errors, report) if fmt == "jsonl" else _csv_rows(lines, errors, report)
    report.end(stopped_early=len(errors) >= MAX_ERRORS)
    prompts = _merge_csv_rows(rows) if fmt == "csv" else rows
    if not prompts and not errors:
        errors.append(RowError(None, "file", "the file contains no prompts"))
    if errors:
        raise ImportRejected(errors[:MAX_ERRORS])
    return prompts


def _parse_dataset(data: bytes, fmt: str, progress: Progress | None) -> list[ParsedPrompt]:
    """A Hugging Face dataset upload: each row checked as a JSONL line (its number the row's)."""
    try:
        objects = list(dataset_files.rows(data, fmt, max_bytes=settings.LABELHUB_IMPORT_MAX_BYTES))
    except dataset_files.DatasetUnreadable as exc:
        raise ImportRejected([RowError(None, "file", str(exc))]) from None
    errors: list[RowError] = []
    report, prompts = Reporter(progress, len(objects)), []
    for number, obj in enumerate(objects, start=1):
        report(number)
        if "__invalid__" in obj:
            errors.append(RowError(number, "row", obj["__invalid__"]))
        elif (parsed := _prompt_from_object(number, obj, errors)) is not None:
            prompts.append(parsed)
        if len(errors) >= MAX_ERRORS:
            break
    report.end(stopped_early=len(errors) >= MAX_ERRORS)
    if not prompts and not errors:
        errors.append(RowError(None, "file", "the dataset contains no rows"))
    if errors:
        raise ImportRejected(errors[:MAX_ERRORS])
    return prompts


#: Prompts a preview shows.
PREVIEW_ROWS = 10


def preview_upload(data: bytes, fmt: str) -> dict:
    """What importing ``data`` would do, without writing anything: the whole file is checked by
    the same rules, and the first :data:`PREVIEW_ROWS` prompts are shown as they would be read."""
    try:
        parsed = parse_upload(data, fmt)
    except ImportRejected as rejected:
        return {"format": fmt, "ok": False, "prompts": 0, "completions": 0, "first_rows": [],
                "errors": [e.as_dict() for e in rejected.errors]}
    return {"format": fmt, "ok": True, "prompts": len(parsed), "completions": sum(len(p.completions) for p in parsed),
            "first_rows": [{"line": p.line, "prompt": p.text, "messages": p.messages, "split": p.split,
                            "metadata": p.metadata,
                            "completions": [{"text": c.text, "policy": c.policy} for c in p.completions]}
                           for p in parsed[:PREVIEW_ROWS]],
            "errors": []}


class Reporter:
    """``report(line)`` as a check reaches each line: ``progress(lines checked, total)`` at the
    start, every PROGRESS_EVERY lines, and once more at the end."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.line, self.reported = progress, total, 0, 0
        if progress is not None:
            progress(0, total)

    def __call__(self, line: int) -> None:
        self.line = min(line, self.total)
        if self.progress is not None and self.line - self.reported >= PROGRESS_EVERY:
            self.reported = self.line
            self.progress(self.line, self.total)

    def end(self, *, stopped_early: bool) -> None:
        """The check is over: every line was checked, unless it stopped at MAX_ERRORS."""
        if self.progress is not None:
            self.progress(self.line if stopped_early else self.total, self.total)


def _decode_lines(data: bytes, errors: list[RowError]) -> list[str]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as exc:
            errors.append(RowError(number, "file", f"not UTF-8 (byte {exc.start + 1} of the line)"))
            if len(errors) >= MAX_ERRORS:
                break
    return lines


def _jsonl_rows(lines: list[str], errors: list[RowError], report) -> list[ParsedPrompt]:
    prompts = []
    for number, line in enumerate(lines, start=1):
        report(number)
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, "json", f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        except ValueError as exc:
            errors.append(RowError(number, "json", f"invalid JSON: {exc}"))
            continue
        except RecursionError:
            errors.append(RowError(number, "json", "nested too deeply"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(number, "json", "each line must be a JSON object"))
            continue
        parsed = _prompt_from_object(number, obj, errors)
        if parsed is not None:
            prompts.append(parsed)
        if len(errors) >= MAX_ERRORS:
            break
    return prompts


def _prompt_from_object(line: int, obj: dict, errors: list[RowError]) -> ParsedPrompt | None:
    before = len(errors)
    text, messages = "", None
    if "messages" in obj and obj["messages"] is not None:
        messages = _validate_messages(line, obj["messages"], errors)
    elif "prompt" not in obj:
        errors.append(RowError(line, "prompt", "missing: give 'prompt' (text) or 'messages' (chat turns)"))
    elif not isinstance(obj["prompt"], str):
        errors.append(RowError(line, "prompt", f"must be a string, not {_type(obj['prompt'])}"))
    elif not obj["prompt"].strip():
        errors.append(RowError(line, "prompt", "is empty"))
    elif problem := unstorable(obj["prompt"]) or size_problem(obj["prompt"]):
        errors.append(RowError(line, "prompt", problem))
    else:
        text = obj["prompt"]
    split = obj.get("split", Prompt.Split.TRAIN)
    if not isinstance(split, str) or split not in SPLITS:
        errors.append(RowError(line, "split", f"must be one of {sorted(SPLITS)}, not {split!r}"))
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, dict):
        errors.append(RowError(line, "metadata", f"must be an object, not {_type(metadata)}"))
    elif problem := unstorable(metadata) or size_problem(metadata):
        errors.append(RowError(line, "metadata", problem))
    completions = _validate_completions(line, obj.get("completions", []), errors)
    if len(errors) > before:
        return None
    return ParsedPrompt(line, text, messages, split, metadata, completions)


def _validate_messages(line: int, messages, errors: list[RowError]) -> list | None:
    if not isinstance(messages, list) or not messages:
        errors.append(RowError(line, "messages", "must be a non-empty list of {role, content} objects"))
        return None
    before = len(errors)
    for i, turn in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(turn, dict):
            errors.append(RowError(line, where, f"must be an object, not {_type(turn)}"))
        elif turn.get("role") not in ROLES:
            errors.append(RowError(line, f"{where}.role", f"must be one of {sorted(ROLES)}"))
        elif not isinstance(turn.get("content"), str) or not turn["content"].strip():
            errors.append(RowError(line, f"{where}.content", "missing or not a non-empty string"))
        elif problem := unstorable(turn["content"]) or size_problem(turn["content"]):
            errors.append(RowError(line, f"{where}.content", problem))
    if len(errors) > before:
        return None
    return [{"role": t["role"], "content": t["content"]} for t in messages if isinstance(t, dict)]


def _validate_completions(line: int, items, errors: list[RowError]) -> list[ParsedCompletion]:
    if not isinstance(items, list):
        errors.append(RowError(line, "completions", f"must be a list, not {_type(items)}"))
        return []
    completions = []
    for i, item in enumerate(items):
        where = f"completions[{i}]"
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            errors.append(RowError(line, where, f"must be an object or a string, not {_type(item)}"))
            continue
        text, policy = item.get("text"), item.get("policy", DEFAULT_POLICY)
        metadata = item.get("metadata", {})
        if not isinstance(text, str) or not text.strip():
            errors.append(RowError(line, f"{where}.text", "missing or not a non-empty string"))
        elif problem := unstorable(text) or size_problem(text):
            errors.append(RowError(line, f"{where}.text", problem))
        elif not isinstance(policy, str) or not policy.strip() or len(policy) > 120 or unstorable(policy):
            errors.append(RowError(line, f"{where}.policy", "must be a name of 1–120 characters"))
        elif not isinstance(metadata, dict):
            errors.append(RowError(line, f"{where}.metadata", f"must be an object, not {_type(metadata)}"))
        elif problem := unstorable(metadata) or size_problem(metadata):
            errors.append(RowError(line, f"{where}.metadata", problem))
        else:
            completions.append(ParsedCompletion(text, policy.strip(), metadata))
    return completions


def _csv_rows(lines: list[str], errors: list[RowError], report) -> list[ParsedPrompt]:
    reader = csv.DictReader(io.StringIO("\n".join(lines), newline=""))
    header = reader.fieldnames or []
    if "prompt" not in header and "messages" not in header:
        errors.append(RowError(1, "header", "needs a 'prompt' or a 'messages' column"))
        return []
    if twice := sorted({name for name in header if header.count(name) > 1}):
        errors.append(RowError(1, "header", f"column {twice[0]!r} appears more than once"))
        return []
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            report(line)
            if not any((v or "").strip() for v in _cells(record)):
                continue  # a blank line (or a row of empty cells): no data to lose
            if (cells := len(_cells(record))) != len(header):
                errors.append(RowError(line, "csv", f"has {cells} cells, but the header has {len(header)} columns"))
            else:
                obj = _csv_record_to_object(line, record, errors)
                parsed = _prompt_from_object(line, obj, errors) if obj is not None else None
                if parsed is not None:
                    rows.append(parsed)
            if len(errors) >= MAX_ERRORS:
                break
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "csv", str(exc)))
    return rows


def _cells(record: dict) -> list[str]:
    """The cells a CSV row has: DictReader fills missing ones with None and puts extra ones,
    as a list, under the key None."""
    extra = record.get(None) or []
    return [v for k, v in record.items() if k is not None and v is not None] + list(extra)


def _csv_record_to_object(line: int, record: dict, errors: list[RowError]) -> dict | None:
    before = len(errors)
    obj: dict = {}
    if (record.get("messages") or "").strip():
        obj["messages"] = _json_cell(line, "messages", record["messages"], errors)
    elif "prompt" in record:
        obj["prompt"] = record["prompt"] or ""
    if (record.get("split") or "").strip():
        obj["split"] = record["split"].strip()
    if (record.get("metadata") or "").strip():
        obj["metadata"] = _json_cell(line, "metadata", record["metadata"], errors)
    if (record.get("completion") or "").strip():
        completion = {"text": record["completion"]}
        if (record.get("policy") or "").strip():
            completion["policy"] = record["policy"]
        if (record.get("completion_metadata") or "").strip():
            completion["metadata"] = _json_cell(
                line, "completion_metadata", record["completion_metadata"], errors
            )
        obj["completions"] = [completion]
    return obj if len(errors) == before else None


def _json_cell(line: int, name: str, value: str, errors: list[RowError]):
    try:
        return json.loads(value, parse_constant=_refuse_constant)
    except ValueError as exc:  # json.JSONDecodeError, or NaN/Infinity
        errors.append(RowError(line, name, f"invalid JSON: {getattr(exc, 'msg', exc)}"))
    except RecursionError:
        errors.append(RowError(line, name, "nested too deeply"))
    return None


def _refuse_constant(name: str):
    """``json.loads`` accepts NaN and Infinity; PostgreSQL's jsonb does not."""
    raise ValueError(f"{name} is not a JSON value")


def _merge_csv_rows(rows: list[ParsedPrompt]) -> list[ParsedPrompt]:
    """CSV rows repeating a prompt add completions to the first row with that prompt."""
    merged: dict[str, ParsedPrompt] = {}
    for row in rows:
        first = merged.setdefault(row.content_hash, row)
        if first is not row:
            first.completions.extend(row.completions)
    return list(merged.values())


def _type(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
