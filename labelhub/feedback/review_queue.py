"""Where the review queue's judgments come from: named sources, each a queryset of a
campaign's judgments in the order a reviewer meets them (docs/quality.md, "Reviews").

Every source starts from the judgments that count — each labeler's latest judgment of a
task (a corrected one is replaced by its correction), from a labeler (imported pairs have
none) — and adds its own condition and order. A new source is one :func:`register` call; the
API, the page and the docs list what is registered here.

Gold failures (a labeler's answer to a gold task that missed the expected answer) are a
source where gold scoring exists: it keeps one score per gold answer (``labeling.GoldScore``,
``Judgment.gold_score``). Without it the source is not offered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import BooleanField, CharField, Exists, F, Func, OuterRef, QuerySet, Value
from django.db.models.functions import MD5, Cast, Concat

from labelhub.campaigns.models import Campaign
from labelhub.labeling.models import Judgment


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    description: str
    judgments: Callable[[Campaign], QuerySet[Judgment]]


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


def current_judgments(campaign: Campaign) -> QuerySet[Judgment]:
    """The campaign's judgments that count: from labelers, not corrected since."""
    corrected = Judgment.objects.filter(supersedes=OuterRef("pk"))
    return Judgment.objects.filter(campaign=campaign, labeler__isnull=False).filter(~Exists(corrected))


def _sample(campaign: Campaign) -> QuerySet[Judgment]:
    """Data judgments in a fixed pseudo-random order (md5 of the id and the campaign): any
    first n of them are a uniform random sample, the same for every reviewer and reload."""
    salt = Concat(Cast("id", CharField()), Value(f"/{campaign.pk}"))
    return current_judgments(campaign).filter(task__is_gold=False).order_by(MD5(salt), "id")


def _flagged(campaign: Campaign) -> QuerySet[Judgment]:
    """Data judgments in which the labeler flagged at least one completion, oldest first."""
    any_flag = Func(F("flags"), Value("$.*[*]"), function="jsonb_path_exists", output_field=BooleanField())
    return current_judgments(campaign).filter(task__is_gold=False).alias(flagged=any_flag).filter(flagged=True) \
        .order_by("id")


register(Source("sample", "Random sample", "Judgments in a fixed random order: the first n are a random sample.", _sample))
register(Source("flagged", "Flagged", "Judgments in which the labeler flagged a completion.", _flagged))


def _gold_failures(campaign: Campaign) -> QuerySet[Judgment]:
    """Answers to gold tasks (qualification ones included) scored wrong, newest first."""
    return current_judgments(campaign).filter(task__is_gold=True, gold_score__correct=False).order_by("-id")


if hasattr(Judgment, "gold_score"):  # gold scoring is part of this code base
    register(Source("gold_failures", "Gold failures", "Answers to gold tasks that missed the expected answer.",
                    _gold_failures))
