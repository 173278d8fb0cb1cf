"""Files named in API responses: relative to the data directory, never absolute server paths.

Run folders, adapters and snapshots live under ``LABELHUB_DATA_DIR`` and are shown relative to
it (``runs/12/adapter``); the tiny default models live under the models directory and are
shown as ``models/<name>``. A path the client sends back in that form is read as the same
file. Other values (a hub name, a path a user typed) are shown as they were given.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from django.conf import settings
from rest_framework import serializers

MODELS_PREFIX = "models"


def _roots() -> list[tuple[Path, str]]:
    return [(Path(settings.LABELHUB_DATA_DIR), ""), (Path(settings.LABELHUB_MODELS_DIR), MODELS_PREFIX)]


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
