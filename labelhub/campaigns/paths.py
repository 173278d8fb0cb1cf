"""What a campaign's policies and runs may name on the server's disk.

A policy's base model and adapter, and every file or model a run's trainer config names, must
resolve — symlinks and ``..`` followed — inside the roots the campaign may use: the registered
models directory (``LABELHUB_MODELS_DIR``) and the campaign's own data, that is the folders of
its snapshots and of its runs. Another campaign's snapshots, ``/etc`` or a symlink out of a
run folder are refused with a message naming no server path (``core.paths.confined``).

A model may also be named without a path: a built-in tiny model (``tiny``, ``tiny-lm``,
``tiny-rm``) or a hub id (``gpt2``, ``org/name``). The trainer reads a name as a path when one
exists relative to its working directory (the checkout, ``settings.BASE_DIR``), so a name
whose first part is something there (``var``, ``labelhub``…) or in the data directory
(``runs``, ``snapshots``…) is taken as the path it would be, and checked as one.

The snapshots and runs of a campaign are read through its reverse relations (``snapshots``,
``runs``), which the feedback and training apps declare; nothing here imports them.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from labelhub.core.paths import MODELS_PREFIX, PathRefused, confined

#: The offline default models the trainer builds on first use (trainer/models.py ``TINY``).
TINY_MODELS = frozenset({"tiny", "tiny-lm", "tiny-rm"})
#: A Hugging Face hub id: ``name`` or ``owner/name`` (letters, digits, ``-``, ``_``, ``.``), 96 characters at most.
_HUB_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?"
HUB_ID = re.compile(rf"{_HUB_PART}(?:/{_HUB_PART})?")

__all__ = ["PathRefused", "campaign_roots", "confined_path", "model_spec"]


def campaign_roots(campaign) -> list[Path]:
    """The models directory and the folders of the campaign's snapshots and runs."""
    roots = [Path(settings.LABELHUB_MODELS_DIR)]
    roots += [Path(p) for p in campaign.snapshots.exclude(path="").values_list("path", flat=True)]
    roots += [Path(d) for d in campaign.runs.exclude(run_dir="").values_list("run_dir", flat=True)]
    return roots


def confined_path(campaign, value: str, *, roots: list[Path] | None = None) -> str:
    """The absolute, resolved path ``value`` names inside the campaign's roots, or :class:`PathRefused`."""
    return str(confined(value, campaign_roots(campaign) if roots is None else roots))


def model_spec(campaign, value: str, *, roots: list[Path] | None = None) -> str:
    """A model as a policy or a run config may name it: a tiny model or a hub id, unchanged;
    otherwise a folder inside the campaign's roots, as its resolved path. Raises :class:`PathRefused`."""
    if value in TINY_MODELS or (len(value) <= 96 and HUB_ID.fullmatch(value) and not _names_a_server_path(value)):
        return value
    return confined_path(campaign, value, roots=roots)


#: What the data directory holds (or will): a name starting with one of these is a shown path.
DATA_DIR_NAMES = frozenset({MODELS_PREFIX, "runs", "snapshots", "imports", "simulations"})


def _names_a_server_path(value: str) -> bool:
    """Whether the trainer (working in ``BASE_DIR``) or a user (``runs/…``) would take ``value``
    for a path: its first part is a name the data directory holds, or something in the data
    directory or the checkout, or the first part of where the data and models live there."""
    first = value.split("/", 1)[0]
    base, data = Path(settings.BASE_DIR), Path(settings.LABELHUB_DATA_DIR)
    if first in DATA_DIR_NAMES or first in _first_parts_under(base, data, Path(settings.LABELHUB_MODELS_DIR)):
        return True
    try:
        return any((place / first).exists() or (place / first).is_symlink() for place in (base, data))
    except OSError:
        return True


def _first_parts_under(base: Path, *folders: Path) -> set[str]:
    """``var`` for a data directory ``<checkout>/var/data``: not there yet, it will be."""
    parts = set()
    for folder in folders:
        if folder.is_absolute() and folder.is_relative_to(base) and folder != base:
            parts.add(folder.relative_to(base).parts[0])
        elif not folder.is_absolute() and folder.parts:
            parts.add(folder.parts[0])
    return parts
