"""Paths in run configs: every file or model a run's trainer is told to read lies inside the
roots the campaign may use (``campaigns.paths``: its run and snapshot folders, the models
directory), checked when the run is created, after symlinks and ``..`` are resolved.

The platform sets the inputs (``data``, ``prompts``, ``model``/``adapter`` from the policy,
``reward_model``) and the run folder (``out``) itself; the fields below are the ones a user's
config may set that name something on disk. Their names are the trainer's
(``python -m trainer <kind> --help``); a test checks that every text field of every trainer
config is either listed here, set by the platform, or known to name no file.
"""

from __future__ import annotations

from typing import Any

from labelhub.campaigns import paths
from labelhub.training.models import Run

Kind = Run.Kind

#: Fields naming a file (or a ``datasets`` folder) the trainer reads.
FILE_FIELDS: dict[str, frozenset[str]] = {
    Kind.REWARD: frozenset({"eval_data"}),
    Kind.SFT: frozenset({"eval_data"}),
    Kind.DPO: frozenset({"eval_data"}),
    Kind.PPO: frozenset({"examples"}),
    Kind.RLOO: frozenset({"examples"}),
    Kind.GENERATE: frozenset({"examples"}),
    Kind.EVALUATE: frozenset({"examples", "held_out"}),
    Kind.PROMPT_LAB: frozenset({"examples"}),
    Kind.FORGETTING: frozenset({"examples"}),  # its prompts and held-out text are the platform's general set
    Kind.PRETRAIN: frozenset({"eval_data"}),  # its data is the campaign's documents
}
#: Fields naming a model: a tiny model, a hub id, or a folder (``campaigns.paths.model_spec``).
MODEL_FIELDS: dict[str, frozenset[str]] = {
    Kind.REWARD: frozenset({"model"}),
    Kind.EVALUATE: frozenset({"reference"}),
    Kind.FORGETTING: frozenset({"reference"}),
}
#: Values of a model field that are a choice of the trainer's, not a model.
MODEL_CHOICES: dict[str, frozenset[str]] = {"reference": frozenset({"base"})}


def config_paths(*, campaign, kind: str, config: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(each path field of ``config`` as the resolved path that was checked, the errors as
    ``{"config.<field>": message}``). Unset fields (absent or null) are left alone."""
    if not isinstance(config, dict):
        return {}, {}
    files, models = FILE_FIELDS.get(kind, frozenset()), MODEL_FIELDS.get(kind, frozenset())
    wanted = {name: value for name, value in config.items() if name in files | models and value is not None}
    if not wanted:
        return {}, {}
    roots = paths.campaign_roots(campaign)
    checked, errors = {}, {}
    for name, value in wanted.items():
        if not isinstance(value, str):
            errors[f"config.{name}"] = "must be a path (a string)"
            continue
        if value in MODEL_CHOICES.get(name, ()):
            continue
        try:
            if name in models:
                checked[name] = paths.model_spec(campaign, value, roots=roots)
            else:
                checked[name] = paths.confined_path(campaign, value, roots=roots)
        except paths.PathRefused as exc:
            errors[f"config.{name}"] = str(exc)
    return checked, errors
