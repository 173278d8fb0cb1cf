"""Gold answers: a task's expected judgment, checked with the rules a labeler's answer meets
(``validation.validate_judgment``), and files of them (JSONL, all-or-nothing, line errors).

A gold answer is stored in the shape a labeler submits: ``{"ranking": [[3], [1, 4], [2]]}``,
``{"preferred": 7, "strength": "better"}`` or ``{"ratings": {…}}``, with optional ``flags``.
"""

from __future__ import annotations

import json

from labelhub.campaigns.imports import ImportRejected, RowError
from labelhub.campaigns.models import Campaign
from labelhub.labeling.models import Task
from labelhub.labeling.validation import JudgmentInvalid, validate_judgment

MAX_ERRORS = 100
ANSWER_FIELDS = ("ranking", "preferred", "strength", "ratings", "flags")


class GoldInvalid(Exception):
    """``errors``: field → message, fields prefixed ``gold_answer.``."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def clean_gold_answer(*, task: Task, campaign: Campaign, answer) -> dict:
    """The answer as stored, or :class:`GoldInvalid` naming each bad field."""
    if not isinstance(answer, dict):
        raise GoldInvalid({"gold_answer": "must be an object shaped like a labeler's answer, e.g. "
                                          '{"ranking": [[3], [1, 4], [2]]}'})
    if unknown := sorted(set(answer) - set(ANSWER_FIELDS)):
        raise GoldInvalid({f"gold_answer.{unknown[0]}": f"not part of an answer; use {list(ANSWER_FIELDS)}"})
    ids = [tc.completion_id for tc in task.task_completions.all()]
    try:
        cleaned = validate_judgment(campaign=campaign, kind=task.kind, completion_ids=ids, data=answer)
    except JudgmentInvalid as invalid:
        raise GoldInvalid({f"gold_answer.{field}": message for field, message in invalid.errors.items()}) from None
    stored = {"ranking": cleaned["ranking"], "preferred": cleaned["preferred_id"], "strength": cleaned["strength"],
              "ratings": cleaned["ratings"], "flags": cleaned["flags"]}
    return {k: v for k, v in stored.items() if v not in (None, "", {})}


def parse_gold_file(*, campaign: Campaign, data: bytes) -> list[tuple[Task, dict | None]]:
    """``[(task, cleaned answer or None to clear), …]`` from JSONL lines
    ``{"task": <id>, "gold_answer": {…} | null}``; :class:`ImportRejected` with every bad line."""
    errors: list[RowError] = []
    rows: list[tuple[int, int, object]] = []
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if len(errors) >= MAX_ERRORS:
            break
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            errors.append(RowError(number, "file", "not UTF-8"))
            continue
        if not line:
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            errors.append(RowError(number, "json", f"invalid JSON: {getattr(exc, 'msg', exc)}"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(number, "json", 'each line must be an object {"task": id, "gold_answer": {…}}'))
        elif not isinstance(obj.get("task"), int) or isinstance(obj.get("task"), bool):
            errors.append(RowError(number, "task", "required: the id of a task of this campaign"))
        elif "gold_answer" not in obj:
            errors.append(RowError(number, "gold_answer", "required: the expected answer, or null to clear it"))
        else:
            rows.append((number, obj["task"], obj["gold_answer"]))
    tasks = Task.objects.filter(campaign=campaign, pk__in=[t for _, t, _ in rows if 0 < t < 2**63]) \
        .prefetch_related("task_completions").in_bulk()
    parsed, seen = [], {}
    for number, task_id, answer in rows:
        task = tasks.get(task_id)
        if task is None:
            errors.append(RowError(number, "task", f"no task {task_id} in this campaign"))
        elif task_id in seen:
            errors.append(RowError(number, "task", f"task {task_id} is already on line {seen[task_id]}"))
        elif answer is None:
            parsed.append((task, None))
        else:
            try:
                parsed.append((task, clean_gold_answer(task=task, campaign=campaign, answer=answer)))
            except GoldInvalid as invalid:
                errors += [RowError(number, field, message) for field, message in invalid.errors.items()]
        seen.setdefault(task_id, number)
    if not parsed and not errors:
        errors.append(RowError(None, "file", "no lines: the file holds no gold answers"))
    if errors:
        raise ImportRejected(sorted(errors[:MAX_ERRORS], key=lambda e: e.line or 0))
    return parsed
