"""Snapshots (judgments → a TRL-ready JSONL file on disk) and imports of pre-judged pairs."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef

from labelhub.campaigns.models import Campaign, Completion, Prompt
from labelhub.core import webhooks
from labelhub.feedback import exports, review_queue, selectors
from labelhub.feedback import pairs as pairs_lib
from labelhub.feedback.models import CompletionScore, Review, Snapshot
from labelhub.labeling import selectors as labeling_selectors
from labelhub.labeling.models import Judgment

logger = logging.getLogger(__name__)
TASK_BATCH = 500
#: Snapshot options' bounds: a margin per A/B strength, the labelers a snapshot may name.
MARGIN_MAX = 10.0
FILTER_LABELERS_MAX = 1000
FILTER_TEXT_MAX = 64


class SnapshotInvalid(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def prompt_as_text(prompt: Prompt) -> str:
    """Text prompts as they are; chat prompts in the HH-RLHF dialogue form the trainer reads."""
    if prompt.messages is None:
        return prompt.text
    names = {"user": "Human", "assistant": "Assistant", "system": "System"}
    turns = "".join(f"\n\n{names[m['role']]}: {m['content']}" for m in prompt.messages)
    return f"{turns}\n\nAssistant:"


@transaction.atomic
def snapshot_create(*, campaign: Campaign, user, kind: str = Snapshot.Kind.PREFERENCE, aggregation: str = "all",
                    keep_ties: bool = False, filters: dict | None = None, strength_margins: dict | None = None) -> Snapshot:
    """Register a new snapshot version (state ``building``); :func:`snapshot_build` writes it.
    Raises :class:`SnapshotInvalid` naming each option at fault (``filters.since``,
    ``strength_margins.better``…)."""
    filters = {} if filters is None else filters
    margins, errors = _margins(strength_margins)
    errors |= _filter_errors(filters)
    if aggregation not in Snapshot.Aggregation.values:
        errors["aggregation"] = f"must be one of {Snapshot.Aggregation.values}"
    if kind not in Snapshot.Kind.values:
        errors["kind"] = f"must be one of {Snapshot.Kind.values}"
    if errors:
        raise SnapshotInvalid(errors)
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()  # versions in order
    version = (campaign.snapshots.aggregate(v=Max("version"))["v"] or 0) + 1
    folder = Path(settings.LABELHUB_DATA_DIR) / "snapshots" / campaign.slug / f"v{version}"
    return Snapshot.objects.create(
        campaign=campaign, version=version, kind=kind, aggregation=aggregation, keep_ties=keep_ties,
        filters=filters, strength_margins=margins, path=str(folder), created_by=user,
    )


def _margins(margins) -> tuple[dict, dict[str, str]]:
    """(the margins to store, errors): a margin in [0, MARGIN_MAX] per A/B strength; strengths
    left out keep their default (none given: all defaults)."""
    defaults = pairs_lib.DEFAULT_STRENGTH_MARGINS
    if margins is None:
        return dict(defaults), {}
    strengths = ", ".join(defaults)
    if not isinstance(margins, dict):
        return {}, {"strength_margins": f"must be an object giving a number to each of {strengths}"}
    errors = {}
    for key, value in margins.items():
        where = f"strength_margins.{key}" if len(str(key)) <= 40 else "strength_margins"
        if key not in defaults:
            errors[where] = f"not a strength with a margin (one of {strengths})"
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MARGIN_MAX:
            errors[where] = f"must be a number from 0 to {MARGIN_MAX:g}"
    return ({} if errors else defaults | {k: float(v) for k, v in margins.items()}), errors


def _filter_errors(filters) -> dict[str, str]:
    if not isinstance(filters, dict):
        return {"filters": "must be an object"}
    allowed = {"since", "until", "labelers", "exclude_flagged", "split", "exclude_rejected", "exclude_paused",
               "min_gold_accuracy"}
    errors = {f"filters.{k}" if len(str(k)) <= 40 else "filters": f"unknown filter (one of {', '.join(sorted(allowed))})"
              for k in filters if k not in allowed}
    moments = {}
    for key in ("since", "until"):
        if filters.get(key) not in (None, ""):
            moments[key] = _moment(filters[key])
            if moments[key] is None:
                errors[f"filters.{key}"] = "must be an ISO date-time, e.g. 2026-11-01T00:00:00Z"
    if moments.get("since") and moments.get("until") and moments["since"] >= moments["until"]:
        errors["filters.until"] = "must be later than since"
    labelers = filters.get("labelers")
    if "labelers" in filters and not (
        isinstance(labelers, list) and len(labelers) <= FILTER_LABELERS_MAX
        and all(isinstance(u, str) and 0 < len(u) <= 150 for u in labelers)
    ):
        errors["filters.labelers"] = f"must be a list of at most {FILTER_LABELERS_MAX} usernames"
    for key in ("exclude_flagged", "exclude_rejected", "exclude_paused"):
        if key in filters and not isinstance(filters[key], bool):
            errors[f"filters.{key}"] = "must be true or false"
    accuracy = filters.get("min_gold_accuracy")
    if "min_gold_accuracy" in filters and (isinstance(accuracy, bool) or not isinstance(accuracy, int | float)
                                           or not 0 <= accuracy <= 1):
        errors["filters.min_gold_accuracy"] = "must be a number from 0 to 1 (a share of gold answers right)"
    if "split" in filters and filters["split"] not in Prompt.Split.values:
        errors["filters.split"] = f"must be one of {', '.join(Prompt.Split.values)}"
    return errors


def _moment(value):
    """An ISO date-time string as an aware datetime (UTC when it names no zone), or None."""
    from datetime import UTC

    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    if not isinstance(value, str) or len(value) > FILTER_TEXT_MAX:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:  # well formed, but no such date (month 13)
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def snapshot_build(*, snapshot_id: int) -> Snapshot:
    """Write ``data.jsonl``, streaming tasks in batches, then the figures about its judgments
    (agreement, docs/quality.md) into ``metadata``. Beside data.jsonl, the folder holds the same
    rows in the formats OpenRLHF and verl read (``exports``, docs/scale.md); ``metadata["exports"]``
    lists those files with their row counts.

    JSONL is the whole snapshot: the trainer reads it (``trainer.data.read_rows``) and so does
    ``datasets.load_dataset("json", data_files=...)``; the web tier needs no training library."""
    snapshot = Snapshot.objects.select_related("campaign").get(pk=snapshot_id)
    folder = Path(snapshot.path)
    folder.mkdir(parents=True, exist_ok=True)
    digest, rows, judgments = hashlib.sha256(), 0, 0
    try:
        with open(folder / "data.jsonl", "w", encoding="utf-8") as out:
            for batch in _judgment_batches(snapshot):
                judgments += sum(len(js) for js in batch.values())
                for row in _rows(snapshot, batch):
                    line = json.dumps(row, ensure_ascii=False) + "\n"
                    out.write(line)
                    digest.update(line.encode())
                    rows += 1
        metadata = _metadata(snapshot) | {"exports": exports.write_exports(snapshot)}
    except Exception as exc:
        logger.exception("snapshot %s failed", snapshot.pk)
        Snapshot.objects.filter(pk=snapshot.pk).update(state=Snapshot.State.FAILED, error=str(exc)[:2000])
        raise
    with transaction.atomic():
        Snapshot.objects.filter(pk=snapshot.pk).update(
            state=Snapshot.State.READY, row_count=rows, judgment_count=judgments, content_hash=digest.hexdigest(),
            metadata=metadata,
        )
        snapshot.refresh_from_db()
        webhooks.emit(snapshot.campaign_id, webhooks.SNAPSHOT_WRITTEN, {"snapshot": {
            "id": snapshot.pk, "version": snapshot.version, "kind": snapshot.kind, "row_count": rows,
            "judgment_count": judgments, "content_hash": snapshot.content_hash,
        }})
    return snapshot


def _metadata(snapshot: Snapshot) -> dict:
    """Agreement among the judgments the snapshot was made from (its filters applied; the
    per-pair ``exclude_flagged`` filter is not a filter of judgments and does not apply), the
    filters it used, and how many judgments a review filter left out."""
    judgments = _filtered(snapshot, Judgment.objects.filter(campaign=snapshot.campaign))
    used = {"applied": dict(snapshot.filters), "excluded_labelers": sorted(_excluded_labelers(snapshot).values())}
    if snapshot.filters.get("exclude_rejected"):
        unfiltered = Judgment.objects.filter(campaign=snapshot.campaign, corrections__isnull=True)
        used["rejected_left_out"] = _filtered(snapshot, unfiltered, reviews=False).filter(_rejected()).count()
    return {"agreement": selectors.agreement_figures(campaign=snapshot.campaign, judgments=judgments), "filters": used}


def _judgments(snapshot: Snapshot):
    """The judgments a snapshot is made of: the latest per labeler and task, never on a gold
    task (gold is not data), its filters applied."""
    judgments = Judgment.objects.filter(campaign=snapshot.campaign, corrections__isnull=True, task__is_gold=False)
    return _filtered(snapshot, judgments)


def _excluded_labelers(snapshot: Snapshot) -> dict[int, str]:
    """Labelers the gold filters leave out, resolved once per build (a labeler paused or
    reinstated during the build does not change it halfway): ``exclude_paused`` — those paused
    now; ``min_gold_accuracy`` — those whose gold accuracy is below it, once they have given
    the campaign's minimum of gold answers (fewer: too little to judge, kept)."""
    if not hasattr(snapshot, "_excluded"):
        f, excluded = snapshot.filters, {}
        if f.get("exclude_paused") or f.get("min_gold_accuracy") is not None:
            campaign = snapshot.campaign
            for row in labeling_selectors.gold_accuracy(campaign=campaign):
                below = (f.get("min_gold_accuracy") is not None and row["answered"] >= campaign.gold_min_answers
                         and row["accuracy"] < f["min_gold_accuracy"])
                if below or (f.get("exclude_paused") and row["paused"]):
                    excluded[row["labeler_id"]] = row["labeler"]
        snapshot._excluded = excluded
    return snapshot._excluded


def _rejected():
    """A judgment whose current review (the latest: nothing supersedes it) rejects it."""
    return Exists(Review.objects.filter(judgment=OuterRef("pk"), verdict=Review.Verdict.REJECT,
                                        superseded_by__isnull=True))


def _filtered(snapshot: Snapshot, judgments, *, reviews: bool = True):
    f = snapshot.filters
    if reviews and f.get("exclude_rejected"):
        judgments = judgments.filter(~_rejected())
    if excluded := _excluded_labelers(snapshot):
        judgments = judgments.exclude(labeler_id__in=list(excluded))
    if f.get("since"):
        judgments = judgments.filter(created_at__gte=f["since"])
    if f.get("until"):
        judgments = judgments.filter(created_at__lt=f["until"])
    if f.get("labelers"):
        judgments = judgments.filter(labeler__username__in=f["labelers"])
    if f.get("split"):  # e.g. train only: judgments on held-out prompts stay out of training data
        judgments = judgments.filter(task__prompt__split=f["split"])
    if snapshot.kind == Snapshot.Kind.SFT:
        judgments = judgments.exclude(better_answer="")
    return judgments


def _judgment_batches(snapshot: Snapshot):
    """Yield {task_id: [judgment values]} for up to TASK_BATCH tasks at a time (bounded memory)."""
    task_ids = _judgments(snapshot).order_by("task_id").values_list("task_id", flat=True).distinct()
    batch_ids: list[int] = []
    for task_id in task_ids.iterator(chunk_size=2000):
        batch_ids.append(task_id)
        if len(batch_ids) == TASK_BATCH:
            yield _load_batch(snapshot, batch_ids)
            batch_ids = []
    if batch_ids:
        yield _load_batch(snapshot, batch_ids)


def _load_batch(snapshot: Snapshot, task_ids: list[int]) -> dict[int, list[dict]]:
    batch: dict[int, list[dict]] = defaultdict(list)
    fields = ["id", "task_id", "task__prompt_id", "labeler__username", "source", "ranking", "preferred_id", "strength",
              "flags", "ratings", "rationale", "display_order", "guideline_version", "better_answer"]
    for j in _judgments(snapshot).filter(task_id__in=task_ids).order_by("task_id", "id").values(*fields):
        batch[j["task_id"]].append(j)
    return batch


def _rows(snapshot: Snapshot, batch: dict[int, list[dict]]):
    prompt_ids = {js[0]["task__prompt_id"] for js in batch.values()}
    prompts = {p.id: p for p in Prompt.objects.filter(id__in=prompt_ids)}
    if snapshot.kind == Snapshot.Kind.SFT:
        yield from _sft_rows(batch, prompts)
        return
    completion_ids = {c for js in batch.values() for j in js for c in j["display_order"]}
    completions = {c.id: c for c in Completion.objects.filter(id__in=completion_ids).select_related("policy")}
    if snapshot.kind == Snapshot.Kind.RATINGS:
        yield from _rating_rows(batch, prompts, completions)
        return
    by_id = {j["id"]: j for js in batch.values() for j in js}
    for task_id, judgments in batch.items():
        prompt = prompts[judgments[0]["task__prompt_id"]]
        for pair in pairs_lib.aggregate(_pairs(snapshot, task_id, judgments), snapshot.aggregation):
            if pair.tie and not snapshot.keep_ties:
                continue
            yield _pair_row(pair, prompt, completions) | _pair_notes(pair, by_id)


def _pairs(snapshot: Snapshot, task_id: int, judgments: list[dict]) -> list[pairs_lib.Pair]:
    out = []
    for j in judgments:
        flagged = {int(c) for c, flags in (j["flags"] or {}).items() if flags}
        labeler = j["labeler__username"] or j["source"]
        if j["ranking"]:
            raw = [(a, b, tie, None) for a, b, tie in pairs_lib.pairs_from_ranking(j["ranking"], keep_ties=snapshot.keep_ties)]
        elif j["strength"]:
            one = pairs_lib.pair_from_choice(sorted(j["display_order"]), j["preferred_id"], j["strength"], snapshot.strength_margins)
            raw = [one] if one else []
        else:  # a rating-only judgment orders nothing: it is in the "ratings" kind of snapshot
            raw = []
        for chosen, rejected, tie, margin in raw:
            if snapshot.filters.get("exclude_flagged") and {chosen, rejected} & flagged:
                continue
            out.append(pairs_lib.Pair(task_id=task_id, chosen=chosen, rejected=rejected, margin=margin, tie=tie,
                                      labelers=[labeler], guideline_versions=[j["guideline_version"]],
                                      judgment_ids=[j["id"]]))
    return out


def group_id(prompt: Prompt) -> str:
    """Pairs of one prompt stay together in train/held-out splits (InstructGPT). Named by the
    prompt's content, not its row id, so the same judgments split the same way on any database."""
    return f"prompt-{prompt.content_hash[:16]}"


def _pair_row(pair: pairs_lib.Pair, prompt: Prompt, completions: dict[int, Completion]) -> dict:
    chosen, rejected = completions[pair.chosen], completions[pair.rejected]
    row = {"prompt": prompt_as_text(prompt), "chosen": chosen.text, "rejected": rejected.text}
    if pair.margin is not None:
        row["margin"] = pair.margin
    return row | {
        "tie": pair.tie, "group_id": group_id(prompt), "task_id": pair.task_id, "prompt_id": prompt.id,
        "chosen_id": chosen.id, "rejected_id": rejected.id,
        "chosen_policy": chosen.policy.name, "rejected_policy": rejected.policy.name,
        "labelers": pair.labelers, "votes": pair.votes, "guideline_versions": pair.guideline_versions,
    }


def _pair_notes(pair: pairs_lib.Pair, judgments: dict[int, dict]) -> dict:
    """What the labelers behind a pair wrote besides their order, one entry per judgment in
    ``judgment_ids`` order: their ratings and flags of each side (null / [] where none), their
    rationale and better answer ("" where none). Lists of equal length, so a column of a
    dataset holds them and no labeler's words are dropped by aggregation."""
    notes = [judgments[i] for i in pair.judgment_ids]

    def side(field, completion_id, empty):
        return [(j[field] or {}).get(str(completion_id)) or empty for j in notes]

    return {
        "judgment_ids": pair.judgment_ids,
        "chosen_ratings": side("ratings", pair.chosen, None), "rejected_ratings": side("ratings", pair.rejected, None),
        "chosen_flags": side("flags", pair.chosen, []), "rejected_flags": side("flags", pair.rejected, []),
        "rationales": [j["rationale"] for j in notes], "better_answers": [j["better_answer"] for j in notes],
    }


def _judgment_notes(j: dict) -> dict:
    """One judgment's ratings and flags as lists of ``{completion_id, …}`` (a dataset column
    with the same fields on every row, whatever completions were shown) and its rationale."""
    return {
        "ratings": [{"completion_id": int(c), "ratings": r} for c, r in sorted((j["ratings"] or {}).items(), key=_by_id)],
        "flags": [{"completion_id": int(c), "flags": f} for c, f in sorted((j["flags"] or {}).items(), key=_by_id) if f],
        "rationale": j["rationale"],
    }


def _by_id(item):
    return int(item[0])


def _sft_rows(batch, prompts):
    for task_id, judgments in batch.items():
        for j in judgments:
            prompt = prompts[j["task__prompt_id"]]
            yield {"prompt": prompt_as_text(prompt), "response": j["better_answer"], "group_id": group_id(prompt),
                   "task_id": task_id, "prompt_id": prompt.id, "judgment_id": j["id"], "labeler": j["labeler__username"],
                   "guideline_version": j["guideline_version"]} | _judgment_notes(j)


def _rating_rows(batch, prompts, completions):
    """One row per judgment and completion shown: the completion's ratings on each axis, its
    flags, and the judgment's rationale (rating campaigns; scores for a reward regression)."""
    for task_id, judgments in batch.items():
        for j in judgments:
            prompt = prompts[j["task__prompt_id"]]
            for completion_id in j["display_order"]:
                completion = completions[completion_id]
                yield {"prompt": prompt_as_text(prompt), "completion": completion.text,
                       "ratings": (j["ratings"] or {}).get(str(completion_id)),
                       "flags": (j["flags"] or {}).get(str(completion_id)) or [], "rationale": j["rationale"],
                       "group_id": group_id(prompt), "task_id": task_id, "prompt_id": prompt.id,
                       "completion_id": completion_id, "policy": completion.policy.name, "judgment_id": j["id"],
                       "labeler": j["labeler__username"] or j["source"], "guideline_version": j["guideline_version"]}


# --- reviews and machine scores ----------------------------------------------------------------

REVIEW_NOTE_MAX = 2000


class ReviewInvalid(Exception):
    """``errors``: field → message; nothing was written."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@transaction.atomic
def review_record(*, campaign: Campaign, reviewer, judgment_id: int, verdict: str, note: str = "",
                  source: str = "") -> Review:
    """A reviewer's verdict on a judgment, as a new row that supersedes the judgment's current
    review (if any): the judgment and earlier reviews are never changed. A rejection needs a
    note; nobody reviews their own judgment; a corrected judgment is reviewed through its
    correction. Raises :class:`ReviewInvalid` naming the field."""
    judgment = Judgment.objects.select_for_update().filter(campaign=campaign, pk=judgment_id).first()
    note = (note or "").strip()
    errors = {}
    if judgment is None:
        errors["judgment"] = f"no judgment {judgment_id} in this campaign"
    elif judgment.labeler_id is not None and judgment.labeler_id == reviewer.pk:
        errors["judgment"] = "you made this judgment: someone else reviews it"
    elif (correction := Judgment.objects.filter(supersedes=judgment).values_list("pk", flat=True).first()) is not None:
        errors["judgment"] = f"judgment {judgment_id} was corrected by judgment {correction}: review that one"
    if verdict not in Review.Verdict.values:
        errors["verdict"] = f"must be one of {', '.join(Review.Verdict.values)}"
    elif verdict == Review.Verdict.REJECT and not note:
        errors["note"] = "a rejection needs a note saying what is wrong"
    if len(note) > REVIEW_NOTE_MAX:
        errors["note"] = f"at most {REVIEW_NOTE_MAX} characters"
    if source and source not in review_queue.SOURCES and source != "disagreement":
        errors["source"] = f"must be one of {', '.join([*review_queue.SOURCES, 'disagreement'])} (or empty)"
    if errors:
        raise ReviewInvalid(errors)
    current = Review.objects.filter(judgment=judgment, superseded_by__isnull=True).first()
    return Review.objects.create(campaign=campaign, judgment=judgment, reviewer=reviewer, verdict=verdict, note=note,
                                 source=source, supersedes=current)


@transaction.atomic
def completion_scores_record(*, campaign: Campaign, scorer: str, scores: list[tuple[int, float]]) -> int:
    """Store a scorer's (a reward model's) score of each listed completion of the campaign,
    replacing that scorer's earlier score of it. All or nothing: a completion of another
    campaign, or listed twice, refuses the lot (:class:`ReviewInvalid` naming ``scores[i]``)."""
    ids = [completion for completion, _ in scores]
    known = set(Completion.objects.filter(prompt__campaign=campaign, pk__in=ids).values_list("pk", flat=True))
    errors, seen = {}, set()
    for i, completion in enumerate(ids):
        if completion not in known:
            errors[f"scores[{i}].completion"] = f"no completion {completion} in this campaign"
        elif completion in seen:
            errors[f"scores[{i}].completion"] = f"completion {completion} is listed twice"
        seen.add(completion)
        if len(errors) >= 20:
            break
    if errors:
        raise ReviewInvalid(errors)
    CompletionScore.objects.bulk_create(
        [CompletionScore(completion_id=c, scorer=scorer, score=s) for c, s in scores],
        update_conflicts=True, unique_fields=["scorer", "completion"], update_fields=["score", "created_at"],
    )
    return len(scores)
