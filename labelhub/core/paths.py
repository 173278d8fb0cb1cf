"""Files named in API responses: relative to the data directory, never absolute server paths;
and paths users send, confined to the folders they may use.

Run folders, adapters and snapshots live under ``LABELHUB_DATA_DIR`` and are shown relative to
it (``runs/12/adapter``); the tiny default models live under the models directory and are
shown as ``models/<name>``. A path the client sends back in that form is read as the same
file. Other values (a hub name, a path a user typed) are shown as they were given.

:func:`confined` is the one check for a path a user sends: resolved (symlinks and ``..``
followed), it must name an existing file or folder inside one of the roots it may use.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from django.conf import settings
from rest_framework import serializers

MODELS_PREFIX = "models"


def _roots() -> list[tuple[Path, str]]:
    """Each root as configured and, when that differs, as resolved (a data directory reached
    through a symlink: checked paths are stored resolved and must still be shown relative)."""
    roots = []
    for root, prefix in ((Path(settings.LABELHUB_DATA_DIR), ""), (Path(settings.LABELHUB_MODELS_DIR), MODELS_PREFIX)):
        roots.append((root, prefix))
        try:
            real = root.resolve()
        except (OSError, RuntimeError):
            continue
        if real != root:
            roots.append((real, prefix))
    return roots


def shown_path(value):
    """An absolute path under a known root → relative to it; anything else unchanged."""
    if not isinstance(value, str) or not value.startswith("/"):
        return value
    path = Path(value)
    for root, prefix in _roots():
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue
        return str(PurePosixPath(prefix, relative)) if prefix else (relative.as_posix() or ".")
    return value


def shown_paths(value):
    """``shown_path`` over every string in a JSON value (a run's summary)."""
    if isinstance(value, dict):
        return {k: shown_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown_paths(v) for v in value]
    return shown_path(value)


def stored_path(value):
    """The inverse for input: a shown path that names an existing file under a known root →
    the absolute path; anything else unchanged."""
    if not isinstance(value, str) or not value or value.startswith("/"):
        return value
    for root, prefix in _roots():
        parts = PurePosixPath(value).parts
        if prefix and (not parts or parts[0] != prefix):
            continue
        candidate = root.joinpath(*parts[1:]) if prefix else root.joinpath(*parts)
        try:
            exists = ".." not in parts and candidate.exists()
        except (OSError, ValueError):  # too long, or not a path the file system can hold
            exists = False
        if exists:
            return str(candidate)
    return value


class PathRefused(ValueError):
    """A path a user sent that may not be used; the message says why without naming server paths."""


OUTSIDE = "is outside the folders this campaign may use (its run and snapshot folders, the models directory)"


def user_path(value: str) -> Path:
    """A path as a user sends it: absolute, ``models/<…>`` (the models directory) or relative
    to the data directory — never relative to the working directory of whoever reads it."""
    parts = PurePosixPath(value).parts
    if value.startswith("/"):
        return Path(value)
    if parts and parts[0] == MODELS_PREFIX:
        return Path(settings.LABELHUB_MODELS_DIR).joinpath(*parts[1:])
    return Path(settings.LABELHUB_DATA_DIR).joinpath(*parts)


def confined(value: str, roots: Iterable[Path]) -> Path:
    """The file or folder ``value`` names (see :func:`user_path`), resolved — symlinks and
    ``..`` followed — when it exists inside one of ``roots`` (themselves resolved); otherwise
    :class:`PathRefused`. The resolved path is what a reader should be given: it is the one
    that was checked."""
    if not isinstance(value, str) or not value.strip():
        raise PathRefused("must name a file or folder")
    try:
        real = user_path(value).resolve()
        inside = any(real.is_relative_to(Path(root).resolve()) for root in roots if str(root) not in {"", "."})
        exists = inside and real.exists()
    except (OSError, RuntimeError, ValueError):  # too long, a symlink loop, not a path at all
        raise PathRefused("cannot be read as a path on this server") from None
    if not inside:  # checked first: whether a file outside exists is none of the user's business
        raise PathRefused(OUTSIDE)
    if not exists:
        raise PathRefused("names no file or folder on the server")
    return real


class PathField(serializers.CharField):
    """A file path shown relative to the data (or models) directory."""

    def to_representation(self, value):
        return shown_path(super().to_representation(value))

    def to_internal_value(self, data):
        return stored_path(super().to_internal_value(data))


class PathsInJsonField(serializers.JSONField):
    """A JSON value whose strings naming files are shown relative to the data directory."""

    def to_representation(self, value):
        return shown_paths(super().to_representation(value))
