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
from collections import Counter

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


#: Pairs written per round of bulk statements: a few queries per chunk, not per pair.
WRITE_CHUNK = 1000


def _write_pairs(campaign: Campaign, rows) -> tuple[int, int]:
    """Write each pair as a task and an imported judgment; (created, skipped as already there,
    in the campaign or earlier in the file). The caller's transaction makes it all-or-nothing."""
    policy, _ = Policy.objects.get_or_create(campaign=campaign, name=IMPORTED_POLICY)
    rows = list(rows)
    created = skipped = 0
    seen_keys: set[str] = set()
    for start in range(0, len(rows), WRITE_CHUNK):
        made, dropped = _write_chunk(campaign, policy, rows[start:start + WRITE_CHUNK], seen_keys)
        created, skipped = created + made, skipped + dropped
    return created, skipped


def _write_chunk(campaign: Campaign, policy: Policy, rows, seen_keys: set[str]) -> tuple[int, int]:
    """One chunk in bulk: prompts, completions and tasks inserted where missing (the unique
    constraints decide), then read back by their keys; the judgments not yet there inserted."""
    prompt_hashes = {content_hash(p): p for p, _, _ in rows}
    Prompt.objects.bulk_create(
        [Prompt(campaign=campaign, content_hash=h, text=text, metadata={"source": "imported-pairs"})
         for h, text in prompt_hashes.items()], ignore_conflicts=True)
    prompts = dict(Prompt.objects.filter(campaign=campaign, content_hash__in=prompt_hashes).values_list("content_hash", "id"))

    wanted = {(prompts[content_hash(p)], content_hash(text)): text for p, chosen, rejected in rows for text in (chosen, rejected)}
    Completion.objects.bulk_create(
        [Completion(prompt_id=prompt_id, policy=policy, content_hash=h, text=text) for (prompt_id, h), text in wanted.items()],
        ignore_conflicts=True)
    completions = {(prompt_id, h): pk for pk, prompt_id, h in Completion.objects.filter(
        policy=policy, prompt_id__in={prompt_id for prompt_id, _ in wanted}, content_hash__in={h for _, h in wanted},
    ).values_list("id", "prompt_id", "content_hash")}

    pairs = []  # (prompt id, chosen id, rejected id, idempotency key, task key)
    for prompt_text, chosen, rejected in rows:
        prompt_id = prompts[content_hash(prompt_text)]
        a, b = completions[(prompt_id, content_hash(chosen))], completions[(prompt_id, content_hash(rejected))]
        key = hashlib.sha256(f"{a},{b}".encode()).hexdigest()[:64]
        task_key = hashlib.sha256(",".join(map(str, sorted((a, b)))).encode()).hexdigest()
        pairs.append((prompt_id, a, b, key, task_key))
    existing = set(Judgment.objects.filter(campaign=campaign, labeler=None, idempotency_key__in=[p[3] for p in pairs])
                   .values_list("idempotency_key", flat=True))
    new_pairs = []
    for pair in pairs:
        if pair[3] in existing or pair[3] in seen_keys:
            continue
        seen_keys.add(pair[3])
        new_pairs.append(pair)
    skipped = len(pairs) - len(new_pairs)
    if not new_pairs:
        return 0, skipped

    Task.objects.bulk_create(
        [Task(campaign=campaign, completion_key=task_key, prompt_id=prompt_id, kind=Campaign.TaskKind.PAIRWISE,
              overlap=campaign.overlap) for prompt_id, _, _, _, task_key in new_pairs], ignore_conflicts=True)
    tasks = dict(Task.objects.filter(campaign=campaign, completion_key__in={p[4] for p in new_pairs}).values_list("completion_key", "id"))
    shown = set(TaskCompletion.objects.filter(task_id__in=tasks.values()).values_list("task_id", flat=True).distinct())
    fresh = {}
    for _, a, b, _, task_key in new_pairs:
        if tasks[task_key] not in shown:
            fresh.setdefault(tasks[task_key], (a, b))  # the first pair shown on a new task sets its order
    TaskCompletion.objects.bulk_create([TaskCompletion(task_id=task_id, completion_id=c, position=i)
                                        for task_id, pair in fresh.items() for i, c in enumerate(pair)])
    Judgment.objects.bulk_create([
        Judgment(task_id=tasks[task_key], campaign=campaign, labeler=None, source=Judgment.Source.IMPORTED, preferred_id=a,
                 strength=Strength.BETTER, display_order=[a, b], guideline_version=campaign.guidelines_version,
                 idempotency_key=key)
        for _, a, b, key, task_key in new_pairs])
    per_task = Counter(tasks[p[4]] for p in new_pairs)
    for n, task_ids in _grouped(per_task).items():
        Task.objects.filter(pk__in=task_ids).update(judgment_count=F("judgment_count") + n)
    return len(new_pairs), skipped


def _grouped(counts: Counter) -> dict[int, list[int]]:
    """{n: the keys counted n times}: one UPDATE per distinct increment."""
    groups: dict[int, list[int]] = {}
    for key, n in counts.items():
        groups.setdefault(n, []).append(key)
    return groups
