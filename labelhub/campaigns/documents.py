"""Parsing a document-collection upload into passages, before anything is written.

Three formats, told apart by the file name:

* ``.txt`` — one document (named after the file), split into passages at blank lines;
* ``.md`` / ``.markdown`` — one document, split at headings (a passage is a heading with the
  paragraphs under it) and, within a section, at blank lines once a section grows past
  :data:`PASSAGE_TARGET_CHARS`;
* ``.jsonl`` — one passage a line: ``{"text": "…", "title": "…"}`` (``title`` optional; it
  names the document, and is searched with the text).

Every problem is a :class:`~labelhub.campaigns.imports.RowError` naming the line and the
field, and the caller writes nothing unless there are none (all-or-nothing, like prompts).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePath

from labelhub.campaigns.imports import MAX_ERRORS, ImportRejected, RowError
from labelhub.campaigns.models import Passage, content_hash
from labelhub.core.inputs import size_problem, text_problem

FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".jsonl": "jsonl"}
#: A Markdown section longer than this is cut at its blank lines into several passages.
PASSAGE_TARGET_CHARS = 1500
JSONL_FIELDS = {"text", "title"}
_HEADING = re.compile(r"^#{1,6}\s+\S")
TITLE_MAX = Passage._meta.get_field("document").max_length


@dataclass(frozen=True)
class ParsedPassage:
    line: int
    document: str
    position: int
    text: str

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)


def detect_format(filename: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in FORMATS:
        raise ImportRejected([RowError(None, "file", f"unknown format {suffix or '(none)'!r}: use .txt, .md or .jsonl")])
    return FORMATS[suffix]


def parse_documents(data: bytes, filename: str) -> list[ParsedPassage]:
    """The passages of an upload; raises ImportRejected listing every problem found."""
    fmt = detect_format(filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected([RowError(line, "file", "is not UTF-8 text")]) from None
    errors: list[RowError] = []
    document = PurePath(filename).stem[:TITLE_MAX]
    if fmt == "jsonl":
        passages = _jsonl(text, errors)
    else:
        passages = [ParsedPassage(line, document, i, body) for i, (line, body) in enumerate(_blocks(text, fmt))]
    for p in passages:
        if problem := text_problem(p.text) or size_problem(p.text):
            errors.append(RowError(p.line, "text", problem))
    if not passages and not errors:
        errors.append(RowError(None, "file", "holds no passage (no non-empty text)"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line or 0)[:MAX_ERRORS])
    return passages


def _blocks(text: str, fmt: str) -> list[tuple[int, str]]:
    """(first line, text) of each passage of a text or Markdown document."""
    paragraphs: list[tuple[int, str]] = []
    start, lines = 0, []
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if line.strip():
            start = start or number
            lines.append(line.rstrip())
        elif lines:
            paragraphs.append((start, "\n".join(lines).strip()))
            start, lines = 0, []
    return _sections(paragraphs) if fmt == "markdown" else paragraphs


def _sections(paragraphs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Markdown paragraphs joined under their heading, a section cut when it grows long."""
    out: list[tuple[int, str]] = []
    for line, body in paragraphs:
        starts_section = bool(_HEADING.match(body))
        if out and not starts_section and len(out[-1][1]) + len(body) < PASSAGE_TARGET_CHARS:
            out[-1] = (out[-1][0], f"{out[-1][1]}\n\n{body}")
        else:
            out.append((line, body))
    return out


def _jsonl(text: str, errors: list[RowError]) -> list[ParsedPassage]:
    passages: list[ParsedPassage] = []
    positions: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, "line", f"is not valid JSON ({exc.msg})"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(number, "line", "must be a JSON object with 'text'"))
            continue
        if unknown := sorted(set(obj) - JSONL_FIELDS):
            errors.append(RowError(number, unknown[0], f"is not a passage field (use {sorted(JSONL_FIELDS)})"))
            continue
        body, title = obj.get("text"), obj.get("title", "")
        if not isinstance(body, str) or not body.strip():
            errors.append(RowError(number, "text", "is required: a non-empty string"))
            continue
        if not isinstance(title, str) or len(title) > TITLE_MAX or text_problem(title):
            errors.append(RowError(number, "title", f"must be a string of at most {TITLE_MAX} characters"))
            continue
        title = title.strip()
        position = positions.get(title, 0)
        positions[title] = position + 1
        passages.append(ParsedPassage(number, title, position, body.strip()))
    return passages
