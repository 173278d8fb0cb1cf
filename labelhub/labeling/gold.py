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


def parse_gold_file(*, campaign: Campaign, data: bytes) -> list[tuple[Task, dict | None, bool]]:
    """``[(task, cleaned answer or None to clear, qualification), …]`` from JSONL lines
    ``{"task": <id>, "gold_answer": {…} | null, "qualification": false}`` (``qualification``
    optional: the task joins the qualification set); :class:`ImportRejected` with every bad line."""
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
        elif not isinstance(obj.get("qualification", False), bool):
            errors.append(RowError(number, "qualification", "must be true or false"))
        elif unknown := sorted(set(obj) - {"task", "gold_answer", "qualification"}):
            errors.append(RowError(number, str(unknown[0])[:40], "unknown key (use task, gold_answer, qualification)"))
        else:
            rows.append((number, obj["task"], obj["gold_answer"], obj.get("qualification", False)))
    tasks = Task.objects.filter(campaign=campaign, pk__in=[t for _, t, _, _ in rows if 0 < t < 2**63]) \
        .prefetch_related("task_completions").in_bulk()
    parsed, seen = [], {}
    for number, task_id, answer, qualification in rows:
        task = tasks.get(task_id)
        if task is None:
            errors.append(RowError(number, "task", f"no task {task_id} in this campaign"))
        elif task_id in seen:
            errors.append(RowError(number, "task", f"task {task_id} is already on line {seen[task_id]}"))
        elif answer is None:
            parsed.append((task, None, False))
        else:
            try:
                parsed.append((task, clean_gold_answer(task=task, campaign=campaign, answer=answer), qualification))
            except GoldInvalid as invalid:
                errors += [RowError(number, field, message) for field, message in invalid.errors.items()]
        seen.setdefault(task_id, number)
    if not parsed and not errors:
        errors.append(RowError(None, "file", "no lines: the file holds no gold answers"))
    if errors:
        raise ImportRejected(sorted(errors[:MAX_ERRORS], key=lambda e: e.line or 0))
    return parsed


# --- scoring a labeler's answer against the gold answer (docs/quality.md, "Gold tasks") --------

#: Rank tasks: completion pairs that may differ by a tie (tied on one side, ordered on the other)
#: in an answer that is still right. No pair may be ordered the opposite way.
RANK_TIE_TOLERANCE = 1
#: Rating tasks: how far each rating may be from the expected one.
RATING_TOLERANCE = 1
#: A/B answers with no clear side: the expected "about the same" accepts these, and a slight
#: preference expected accepts them too.
NO_SIDE = {"tie", "both_bad"}
Z_95 = 1.959963984540054


def _places(ranking: list[list[int]]) -> dict[int, int]:
    return {cid: place for place, group in enumerate(ranking) for cid in group}


def score_ranking(answer: list[list[int]], expected: list[list[int]]) -> dict:
    """``{"correct", "opposite", "tie_differences", "pairs"}``: right when no completion pair
    is ordered opposite to the expected ranking and at most :data:`RANK_TIE_TOLERANCE` pairs
    differ only by a tie."""
    mine, gold = _places(answer), _places(expected)
    ids = sorted(gold)
    opposite = ties = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            e = (gold[a] > gold[b]) - (gold[a] < gold[b])
            m = (mine.get(a, -1) > mine.get(b, -1)) - (mine.get(a, -1) < mine.get(b, -1))
            if e and m and e != m:
                opposite += 1
            elif (e == 0) != (m == 0):
                ties += 1
    pairs = len(ids) * (len(ids) - 1) // 2
    return {"correct": opposite == 0 and ties <= RANK_TIE_TOLERANCE, "opposite": opposite,
            "tie_differences": ties, "pairs": pairs}


def score_choice(preferred: int | None, strength: str, expected_preferred: int | None, expected_strength: str) -> dict:
    """A/B: right when the same side is preferred. "About the same" (tie or both bad, no side)
    is right against an expected tie, both bad or *slight* preference, and an expected tie or
    both bad accepts "about the same" or a slight preference either way."""
    no_side = preferred is None or strength in NO_SIDE
    expected_no_side = expected_preferred is None or expected_strength in NO_SIDE
    if expected_no_side:
        correct = no_side or strength == "slightly_better"
    elif no_side:
        correct = expected_strength == "slightly_better"
    else:
        correct = preferred == expected_preferred
    return {"correct": correct}


def score_ratings(ratings: dict, expected: dict) -> dict:
    """Rating tasks: right when every expected rating is given within :data:`RATING_TOLERANCE`."""
    off = 0
    for cid, axes in expected.items():
        for axis, value in axes.items():
            given = ratings.get(str(cid), ratings.get(cid, {})).get(axis) if isinstance(ratings, dict) else None
            if not isinstance(given, int | float) or abs(given - value) > RATING_TOLERANCE:
                off += 1
    return {"correct": off == 0, "ratings_off": off}


def score_answer(*, kind: str, expected: dict, ranking, preferred_id, strength, ratings) -> dict:
    """Score a labeler's cleaned answer (a judgment's fields) against a stored gold answer."""
    if kind == Campaign.TaskKind.PAIRWISE:
        return score_choice(preferred_id, strength or "", expected.get("preferred"), expected.get("strength", ""))
    if kind == Campaign.TaskKind.RATING:
        return score_ratings(ratings or {}, expected.get("ratings") or {})
    return score_ranking(ranking or [], expected.get("ranking") or [])


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score interval of a share ``correct / n`` (95% by default); (None, None) for n = 0."""
    if n <= 0:
        return None, None
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    return (0.0 if correct == 0 else centre - half), (1.0 if correct == n else centre + half)


def accuracy_figures(correct: int, answered: int) -> dict:
    low, high = wilson_interval(correct, answered)
    return {"answered": answered, "correct": correct, "accuracy": correct / answered if answered else None,
            "low": low, "high": high}
