"""Importing pre-judged pairs (HH-RLHF's chosen/rejected, or prompt/chosen/rejected) as judgments.

Each pair becomes a prompt (deduplicated by content hash), two completions from the policy
``imported``, a two-completion task and a judgment with source ``imported`` preferring the
chosen side. All-or-nothing; errors name the line and field. Each text holds at most
``LABELHUB_TEXT_MAX_BYTES`` (the pair's prompt, chosen and rejected sides). A large file (over
``LABELHUB_IMPORT_JOB_BYTES``, a gzip file by its unpacked size) is imported by a job
(``campaigns.import_jobs``): :func:`pairs_import_queue`, then :func:`pairs_import_run`.
"""

from __future__ import annotations

import hashlib
import json
import zlib

from django.conf import settings
from django.db import transaction
from django.db.models import F

from labelhub.campaigns import import_jobs
from labelhub.campaigns.imports import ImportRejected, Reporter, RowError
from labelhub.campaigns.models import (
    Campaign,
    Completion,
    ImportBatch,
    Policy,
    Prompt,
    content_hash,
    unstorable,
)
from labelhub.core.inputs import size_problem
from labelhub.labeling.models import Judgment, Strength, Task, TaskCompletion

HH_ASSISTANT = "\n\nAssistant:"
IMPORTED_POLICY = "imported"


def split_dialogue(chosen: str, rejected: str) -> tuple[str, str, str] | None:
    """The shared prompt (through the last common "Assistant:") and the two final answers."""
    cut = 0
    while True:
        at = chosen.find(HH_ASSISTANT, cut)
        if at < 0 or not rejected.startswith(chosen[: at + len(HH_ASSISTANT)]):
            break
        cut = at + len(HH_ASSISTANT)
    if cut == 0:
        return None
    return chosen[:cut], chosen[cut:], rejected[cut:]


def gunzip(data: bytes, limit: int) -> bytes:
    """A gzip file's content, at most ``limit`` bytes of it (a small file can unpack to
    gigabytes); a corrupt or oversized one is an import error."""
    unpacker = zlib.decompressobj(wbits=31)
    try:
        content = unpacker.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ImportRejected([RowError(None, "file", f"not a valid gzip file ({exc})")]) from None
    if len(content) > limit:
        raise ImportRejected([RowError(None, "file", f"unpacks to more than the limit of {limit:,} bytes")])
    if not unpacker.eof:
        raise ImportRejected([RowError(None, "file", "the gzip file is truncated")])
    return content


def unpacked(data: bytes) -> bytes:
    """The file's content: a gzip file unpacked (at most ``LABELHUB_IMPORT_MAX_BYTES``)."""
    return gunzip(data, settings.LABELHUB_IMPORT_MAX_BYTES) if data[:2] == b"\x1f\x8b" else data


def parse_pairs(data: bytes, progress=None) -> list[tuple[str, str, str]]:
    """Every pair of the file, or :class:`ImportRejected` naming each bad line. ``progress``
    as in ``campaigns.imports.parse_upload``."""
    lines = unpacked(data).split(b"\n")
    report = Reporter(progress, len(lines) - (lines[-1:] == [b""]))
    errors, rows = [], []
    for number, raw in enumerate(lines, start=1):
        report(number)
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            errors.append(RowError(number, "file", "not UTF-8"))
            continue
        except (json.JSONDecodeError, RecursionError) as exc:
            errors.append(RowError(number, "json", f"invalid JSON: {getattr(exc, 'msg', 'nested too deeply')}"))
            continue
        row = _pair(number, obj, errors)
        if row:
            rows.append(row)
    report.end(stopped_early=False)
    if not rows and not errors:
        errors.append(RowError(None, "file", "the file contains no pairs"))
    if errors:
        raise ImportRejected(errors[:100])
    return rows


def _pair(line, obj, errors):
    if not isinstance(obj, dict):
        errors.append(RowError(line, "json", "each line must be a JSON object"))
        return None
    for field in ("chosen", "rejected"):
        if not isinstance(obj.get(field), str) or not obj[field].strip():
            errors.append(RowError(line, field, "missing or not a non-empty string"))
            return None
    for field in ("prompt", "chosen", "rejected"):
        if isinstance(obj.get(field), str) and (problem := unstorable(obj[field]) or size_problem(obj[field])):
            errors.append(RowError(line, field, problem))
            return None
    if isinstance(obj.get("prompt"), str) and obj["prompt"].strip():
        return obj["prompt"], obj["chosen"], obj["rejected"]
    split = split_dialogue(obj["chosen"], obj["rejected"])
    if split is None:
        errors.append(RowError(line, "chosen", "no shared '\\n\\nAssistant:' prefix: give a 'prompt' field"))
        return None
    if split[1] == split[2]:
        errors.append(RowError(line, "rejected", "the two final answers are identical"))
        return None
    return split


@transaction.atomic
def pairs_import(*, campaign: Campaign, data: bytes) -> dict:
    """Import pre-judged pairs into a pairwise campaign; return counts."""
    created, skipped = _write_pairs(campaign, parse_pairs(data))
    return {"judgments_created": created, "judgments_skipped": skipped}


def pairs_import_queue(*, campaign: Campaign, user, upload, data: bytes) -> ImportBatch:
    """A large upload (``data``, read already to size a gzip file by its content): its pairs
    are checked and written by the job (:func:`pairs_import_run`)."""
    return import_jobs.import_queue(campaign=campaign, user=user, kind=ImportBatch.Kind.PAIRS,
                                    filename=upload.name or "upload", fmt="jsonl", chunks=[data])


def pairs_import_run(*, batch_id: int) -> ImportBatch | None:
    """The job of a queued pairs import (``import_jobs.import_run``)."""
    return import_jobs.import_run(batch_id=batch_id, parse=lambda data, fmt, progress: parse_pairs(data, progress),
                                  write=_write_batch)


def _write_batch(batch: ImportBatch, rows) -> None:
    batch.judgments_created, batch.judgments_skipped = _write_pairs(batch.campaign, rows)


def _write_pairs(campaign: Campaign, rows) -> tuple[int, int]:
    """Write each pair as a task and an imported judgment; (created, skipped as already there)."""
    policy, _ = Policy.objects.get_or_create(campaign=campaign, name=IMPORTED_POLICY)
    created = skipped = 0
    for prompt_text, chosen, rejected in rows:
        prompt, _ = Prompt.objects.get_or_create(
            campaign=campaign, content_hash=content_hash(prompt_text),
            defaults={"text": prompt_text, "metadata": {"source": "imported-pairs"}},
        )
        a = _completion(prompt, policy, chosen)
        b = _completion(prompt, policy, rejected)
        key = hashlib.sha256(f"{a.id},{b.id}".encode()).hexdigest()[:64]
        if Judgment.objects.filter(campaign=campaign, labeler=None, idempotency_key=key).exists():
            skipped += 1
            continue
        task, _ = Task.objects.get_or_create(
            campaign=campaign, completion_key=hashlib.sha256(",".join(map(str, sorted((a.id, b.id)))).encode()).hexdigest(),
            defaults={"prompt": prompt, "kind": Campaign.TaskKind.PAIRWISE, "overlap": campaign.overlap},
        )
        if not task.task_completions.exists():
            TaskCompletion.objects.bulk_create([TaskCompletion(task=task, completion=a, position=0),
                                                TaskCompletion(task=task, completion=b, position=1)])
        Judgment.objects.create(
            task=task, campaign=campaign, labeler=None, source=Judgment.Source.IMPORTED, preferred=a,
            strength=Strength.BETTER, display_order=[a.id, b.id], guideline_version=campaign.guidelines_version,
            idempotency_key=key,
        )
        Task.objects.filter(pk=task.pk).update(judgment_count=F("judgment_count") + 1)
        created += 1
    return created, skipped


def _completion(prompt, policy, text):
    completion, _ = Completion.objects.get_or_create(
        prompt=prompt, policy=policy, content_hash=content_hash(text), defaults={"text": text},
    )
    return completion



