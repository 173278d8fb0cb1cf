"""Validating a judgment against its task before anything is written.

Errors are collected per field (``{"ranking": "…", "flags.12": "…"}``) and raised together.
"""

from __future__ import annotations

from labelhub.campaigns.models import Campaign
from labelhub.labeling.models import Strength

MAX_RATIONALE = 10_000
MAX_BETTER_ANSWER = 50_000
PREFERENCE_STRENGTHS = {Strength.MUCH_BETTER, Strength.BETTER, Strength.SLIGHTLY_BETTER}


class JudgmentInvalid(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def validate_judgment(*, campaign: Campaign, kind: str, completion_ids: list[int], data: dict) -> dict:
    """Return the cleaned fields of a judgment or raise :class:`JudgmentInvalid`."""
    errors: dict[str, str] = {}
    ids = set(completion_ids)
    cleaned = {
        "ranking": None, "preferred_id": None, "strength": "",
        "ratings": _ratings(campaign, ids, data.get("ratings"), errors, required=kind == Campaign.TaskKind.RATING),
        "flags": _flags(campaign, ids, data.get("flags"), errors),
        "rationale": _text(data, "rationale", MAX_RATIONALE, errors),
        "better_answer": _text(data, "better_answer", MAX_BETTER_ANSWER, errors),
        "time_spent_ms": _time_spent(data.get("time_spent_ms"), errors),
    }
    if kind == Campaign.TaskKind.RANK:
        cleaned["ranking"] = _ranking(ids, data.get("ranking"), errors)
    elif kind == Campaign.TaskKind.PAIRWISE:
        cleaned["preferred_id"], cleaned["strength"] = _pairwise(ids, data.get("preferred"), data.get("strength"), errors)
    if errors:
        raise JudgmentInvalid(errors)
    return cleaned


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _completion_key(key, ids: set[int]) -> int | None:
    """A JSON object key naming one of the task's completions ("12"), or None. ASCII digits
    only: "²".isdigit() is true, but int("²") fails."""
    key = str(key)
    if not (key.isascii() and key.isdigit() and len(key) <= 19):
        return None
    return int(key) if int(key) in ids else None


def _ranking(ids: set[int], ranking, errors) -> list[list[int]] | None:
    if not isinstance(ranking, list) or not ranking:
        errors["ranking"] = "required: a list of groups of completion ids, best first, e.g. [[3], [1, 4], [2]]"
        return None
    seen: list[int] = []
    for i, group in enumerate(ranking):
        if not isinstance(group, list) or not group or not all(_is_int(c) for c in group):
            errors["ranking"] = f"group {i} must be a non-empty list of completion ids (ties share a group)"
            return None
        seen.extend(group)
    unknown = sorted(set(seen) - ids)
    repeated = sorted({c for c in seen if seen.count(c) > 1})
    missing = sorted(ids - set(seen))
    if unknown:
        errors["ranking"] = f"completions {unknown} are not in this task"
    elif repeated:
        errors["ranking"] = f"completions {repeated} are ranked more than once"
    elif missing:
        errors["ranking"] = f"completions {missing} are not ranked: rank each exactly once"
    return [list(group) for group in ranking]


def _pairwise(ids: set[int], preferred, strength, errors):
    if strength not in Strength.values:
        errors["strength"] = f"must be one of {Strength.values}"
        return None, ""
    if strength in PREFERENCE_STRENGTHS:
        if not _is_int(preferred) or preferred not in ids:
            errors["preferred"] = f"must be the id of one of this task's completions {sorted(ids)}"
            return None, strength
        return preferred, strength
    if preferred is not None:
        errors["preferred"] = f"must be empty when strength is {strength!r}"
    return None, strength


def _ratings(campaign, ids, ratings, errors, *, required: bool) -> dict:
    if ratings in (None, {}):
        if required and campaign.rating_axes:
            errors["ratings"] = "required: rate every completion on every axis"
        return {}
    if not isinstance(ratings, dict):
        errors["ratings"] = "must be an object {completion id: {axis: value}}"
        return {}
    axes = {axis["name"]: axis for axis in campaign.rating_axes}
    cleaned = {}
    for key, values in ratings.items():
        field = f"ratings.{key}"
        if _completion_key(key, ids) is None:
            errors[field] = "not a completion of this task"
            continue
        if not isinstance(values, dict):
            errors[field] = "must be an object {axis: value}"
            continue
        for name, value in values.items():
            axis = axes.get(name)
            if axis is None:
                errors[f"{field}.{name}"] = f"unknown axis; the campaign's axes are {sorted(axes)}"
            elif not _is_int(value) or not axis["min"] <= value <= axis["max"]:
                errors[f"{field}.{name}"] = f"must be an integer from {axis['min']} to {axis['max']}"
        if required and set(values) != set(axes):
            errors.setdefault(field, f"rate every axis: {sorted(axes)}")
        cleaned[str(int(key))] = values
    if required and {str(i) for i in ids} - set(cleaned):
        errors.setdefault("ratings", "rate every completion of the task")
    return cleaned


def _flags(campaign, ids, flags, errors) -> dict:
    if flags in (None, {}):
        return {}
    if not isinstance(flags, dict):
        errors["flags"] = "must be an object {completion id: [flag, …]}"
        return {}
    vocabulary = set(campaign.flag_vocabulary)
    cleaned = {}
    for key, values in flags.items():
        field = f"flags.{key}"
        if _completion_key(key, ids) is None:
            errors[field] = "not a completion of this task"
        elif not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            errors[field] = "must be a list of flags"
        elif unknown := sorted(set(values) - vocabulary):
            errors[field] = f"{unknown} not in the campaign's flags {sorted(vocabulary)}"
        elif values:
            cleaned[str(int(key))] = sorted(set(values))
    return cleaned


def _text(data, name, limit, errors) -> str:
    value = data.get(name) or ""
    if not isinstance(value, str):
        errors[name] = "must be text"
        return ""
    if len(value) > limit:
        errors[name] = f"is {len(value):,} characters; the limit is {limit:,}"
    return value


def _time_spent(value, errors):
    if value is None:
        return None
    if not _is_int(value) or value < 0 or value > 86_400_000:
        errors["time_spent_ms"] = "must be a whole number of milliseconds (0 to one day)"
        return None
    return value
