"""The runs page's "start a run" forms: one per run kind, one input per config field, generated
from the kind's config schema (``kinds.RunKind.config_schema``: the trainer's own fields,
defaults, bounds and help text). Nothing here checks a value: the posted fields become the
run's ``config`` and ``services.run_create`` checks it with the trainer's rules, as it does for
the API, so the form and the API refuse the same things with the same words.

Each field is posted as ``config.<name>``: a number, a choice, a checkbox (a hidden "false"
before it, so an unticked box still says so), text, or a list as comma-separated items. An
empty field takes its default; an empty optional field is null. Fields left at the trainer's
own default are not stored (the run's config stays what was chosen), unless a kind, campaign
or policy default would otherwise replace them: what the form showed is what runs. The
"edit as JSON" box, when filled, overrides the fields it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict

from labelhub.feedback.models import Snapshot
from labelhub.training import planning
from labelhub.training.kinds import KINDS, RunKind

PREFIX = "config."

#: How the fields of a kind are grouped below its basics (``RunKind.basics``): the first group
#: naming a field takes it; the rest are "Advanced". Every group but the basics starts folded.
GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Training", frozenset({"max_steps", "steps", "epochs", "batch_size", "minibatch_size", "grad_accum",
                            "learning_rate", "lr_scheduler", "lr_schedule", "warmup_ratio", "weight_decay",
                            "max_grad_norm", "adam_eps", "ppo_epochs", "num_iterations", "num_generations",
                            "max_length", "eval_fraction", "eval_data", "eval_every", "log_every"})),
    ("LoRA", frozenset({"lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "load_in_4bit"})),
    ("Sampling and prompts", frozenset({"num_samples", "max_new_tokens", "do_sample", "temperature", "top_k",
                                        "top_p", "template", "layout", "examples", "shots"})),
    ("KL control", frozenset({"kl_coef", "kl_target", "kl_horizon", "kl_estimator", "beta", "reference"})),
    ("Rewards", frozenset({"reward_functions", "reward_weights", "missing_eos_penalty", "score_norm",
                           "score_clip", "center_rewards_coefficient", "loss_type", "loss_weights"})),
    ("Guards and evaluation", frozenset({"guard_prompts", "log_samples", "held_out", "score_batch_size"})),
)
ADVANCED = "Advanced"


class RunStartForm(forms.Form):
    """What one start form posts besides its config fields; inputs are limited to the campaign's
    rows. ``clean`` builds the run's ``config`` from the ``config.<name>`` fields and the JSON box."""

    kind = forms.ChoiceField(choices=[(kind.name, kind.label) for kind in KINDS.values()])
    snapshot = forms.ModelChoiceField(queryset=None, required=False)
    policy = forms.ModelChoiceField(queryset=None, required=False)
    reward_model = forms.ModelChoiceField(queryset=None, required=False)
    prompt_split = forms.ChoiceField(choices=[("", "default"), ("train", "train"), ("held_out", "held-out")], required=False)
    config = forms.JSONField(required=False, help_text="Trainer config fields as a JSON object; they override the form's.")

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["snapshot"].queryset = campaign.snapshots.all()
        self.fields["policy"].queryset = campaign.policies.all()
        self.fields["reward_model"].queryset = campaign.reward_models.all()

    def clean(self):
        data = super().clean()
        kind = KINDS.get(data.get("kind") or "")
        typed = data.get("config")
        if kind is None or (typed not in (None, "") and not isinstance(typed, dict)):
            return data  # run_create names what is wrong
        keep = set(kind.defaults_for(campaign=self.campaign, policy=data.get("policy")))
        data["config"] = config_from_post(kind, self.data, keep=keep) | (typed or {})
        return data


def config_from_post(kind: RunKind, posted: QueryDict, *, keep: set[str]) -> dict[str, Any]:
    """The config fields a start form posted (``config.<name>``), as the trainer reads a config
    file: text it converts itself, lists split on commas, empty optional fields null. An empty
    field is left out (its default applies), and so is a value equal to the trainer's default,
    unless it is in ``keep`` (fields whose default is the kind's, the campaign's or the policy's)."""
    trainer = kind.trainer_schema()["properties"]
    config: dict[str, Any] = {}
    for name, prop in kind.config_schema()["properties"].items():
        values = posted.getlist(PREFIX + name)
        if not values:
            continue
        text = values[-1].strip()  # a ticked checkbox comes after its hidden "false"
        if name not in keep and text == as_text(trainer[name].get("default")):
            continue
        if _input_type(prop) == "json" and text:
            value = _json_or_text(text)  # compared parsed: a browser posts a textarea's lines with CRLF
            if name not in keep and value == trainer[name].get("default"):
                continue
            config[name] = value
        elif text == "":
            if _nullable(prop):
                config[name] = None
        elif "array" in _types(prop):
            config[name] = [item.strip() for item in text.split(",") if item.strip()]
        else:
            config[name] = text
    return config


def as_text(value: Any) -> str:
    """A config value as a form input shows it (and as posted back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e16 else f"{value:.1f}"
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):  # prompt-lab variants: JSON, one a line
        return "[" + ",\n ".join(json.dumps(item, ensure_ascii=False) for item in value) + "]"
    if isinstance(value, list):
        return ", ".join(as_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _types(prop: dict) -> set[str]:
    return {prop["type"]} if isinstance(prop["type"], str) else set(prop["type"])


def _nullable(prop: dict) -> bool:
    return "null" in _types(prop)


# --- what the page renders --------------------------------------------------------------------


@dataclass
class ConfigInput:
    """One config field of a start form, ready for ``training/_config_field.html``."""

    kind: str
    name: str
    input: str  # number, checkbox, select, text, list
    value: str
    default: str  # the kind's (and campaign's) default as text; a policy's defaults come with its option
    help: str
    bounds: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def id(self) -> str:
        return f"run-{self.kind}-{self.name}"

    @property
    def checked(self) -> bool:
        return self.value == "true"

    @property
    def html_attrs(self) -> list[tuple[str, Any]]:
        return sorted(self.attrs.items())


@dataclass
class ConfigGroup:
    title: str
    fields: list[ConfigInput]
    folded: bool

    @property
    def open(self) -> bool:
        return not self.folded or any(f.error for f in self.fields)


def config_inputs(kind: RunKind, *, campaign, policy=None, values: QueryDict | None = None,
                  errors: dict[str, str] | None = None) -> list[ConfigGroup]:
    """The kind's config fields as form inputs, grouped: its basics first, then the groups of
    :data:`GROUPS`. Each shows the default a run would take (the kind's, the campaign's, then
    ``policy``'s, over the trainer's), or what was posted (``values``, shown again with ``errors``).
    ``default`` is the value without the policy's: run-form.js puts it back when the policy changes."""
    schema, errors = kind.config_schema()["properties"], errors or {}
    base, with_policy = kind.defaults_for(campaign=campaign), kind.defaults_for(campaign=campaign, policy=policy)
    inputs = {}
    for name, prop in schema.items():
        item = ConfigInput(kind=kind.name, name=name, input=_input_type(prop),
                           value=as_text(with_policy.get(name, prop.get("default"))),
                           default=as_text(base.get(name, prop.get("default"))), help=prop.get("description", ""),
                           bounds=bounds_text(prop), error=errors.get(PREFIX + name, ""))
        if values is not None and PREFIX + name in values:
            item.value = values[PREFIX + name]
        item.choices, item.attrs = _choices(prop), _attrs(prop)
        inputs[name] = item
    groups = [ConfigGroup("Basics", [inputs.pop(n) for n in kind.basics if n in inputs], folded=False)]
    for title, names in GROUPS:
        members = [inputs[n] for n in list(inputs) if n in names]
        if len(members) > 1:  # a group of one joins Advanced (generate's batch_size is no training field)
            groups.append(ConfigGroup(title, [inputs.pop(f.name) for f in members], folded=True))
    if inputs:
        groups.append(ConfigGroup(ADVANCED, list(inputs.values()), folded=True))
    return groups


#: The planner page's groups of fields (``python -m trainer plan``'s, but out and format).
PLAN_GROUPS = (
    ("Model", ("model", "params", "layers", "hidden", "heads", "kv_heads", "vocab", "intermediate", "gated_mlp",
               "tie_embeddings")),
    ("Training", ("tokens", "flop_budget", "method", "precision", "lora_r", "lora_targets", "batch_size",
                  "sequence_length", "gradient_checkpointing")),
    ("Accelerator", ("accelerator", "count", "utilisation", "peak_tflops", "memory_gb")),
)
PLAN_MODEL_HELP = "tiny or tiny-rm (the built tiny models), or empty: give params and/or the shape."


def plan_inputs(schema: dict, *, values: dict[str, str], errors: dict[str, str]) -> list[ConfigGroup]:
    """The planner page's fields (the trainer's plan schema), showing what was asked (``values``)."""
    props = schema["properties"]
    groups = []
    for title, names in PLAN_GROUPS:
        fields = []
        for name in names:
            prop = props[name]
            item = ConfigInput(kind="plan", name=name, input=_input_type(prop), value=as_text(prop.get("default")),
                               default=as_text(prop.get("default")), help=prop.get("description", ""),
                               bounds=bounds_text(prop), error=errors.get(name, ""))
            if name in values:
                item.value = values[name]
            item.choices, item.attrs = _choices(prop), _attrs(prop)
            if name == "model":
                item.help, item.bounds = PLAN_MODEL_HELP, ""
            fields.append(item)
        groups.append(ConfigGroup(title, fields, folded=False))
    return groups


def _json_or_text(text: str) -> Any:
    """A JSON field as posted: parsed when it is JSON, else the text (the trainer's check names the field)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _input_type(prop: dict) -> str:
    types = _types(prop) - {"null"}
    if "array" in types and (prop.get("items") or {}).get("type") == "object":
        return "json"
    if "array" in types:
        return "list"
    if "boolean" in types:
        return "checkbox"
    if "enum" in prop:
        return "select"
    if types & {"integer", "number"}:
        return "number"
    return "text"


def _choices(prop: dict) -> list[tuple[str, str]]:
    if "enum" not in prop or "array" in _types(prop):
        return []
    return [("", "none") if value is None else (as_text(value), as_text(value)) for value in prop["enum"]]


def _attrs(prop: dict) -> dict[str, Any]:
    """HTML attributes that describe the bounds (the server checks them; the form does not stop
    a value outside them, so the trainer's message is what the user sees)."""
    attrs: dict[str, Any] = {}
    if _input_type(prop) == "number":
        integer = "integer" in _types(prop)
        attrs["step"] = "1" if integer else "any"
        attrs["inputmode"] = "numeric" if integer else "decimal"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in prop:
                attrs[attr] = as_text(prop[key])
    elif "maxLength" in prop:
        attrs["maxlength"] = prop["maxLength"]
    if _input_type(prop) == "list":
        attrs["placeholder"] = "comma-separated"
    if _input_type(prop) == "json":
        attrs["placeholder"] = "a JSON list of objects"
    return attrs


def bounds_text(prop: dict) -> str:
    """What a field allows, in words: "1 – 1,024", "> 0, ≤ 1", "at most 4,096 characters"."""
    target = prop.get("items") or prop
    parts = []
    low = next(((op, target[key]) for key, op in (("minimum", "≥"), ("exclusiveMinimum", ">")) if key in target), None)
    high = next(((op, target[key]) for key, op in (("maximum", "≤"), ("exclusiveMaximum", "<")) if key in target), None)
    parts += [f"{op} {value:,}" if isinstance(value, int) else f"{op} {value:g}" for op, value in filter(None, (low, high))]
    if "enum" in target and "array" in _types(prop):
        parts.append("each one of " + ", ".join(as_text(v) for v in target["enum"]))
    if "maxLength" in target:
        parts.append(f"at most {target['maxLength']:,} characters" + (" each" if "items" in prop else ""))
    if "maxItems" in prop:
        parts.append(f"at most {prop['maxItems']:,} items")
    return "; ".join(parts)


# --- the forms of a campaign's runs page --------------------------------------------------------


def start_forms(campaign, *, posted=None, errors: dict[str, str] | None = None, open_kind: str = "") -> list[dict]:
    """One start form per kind for the runs page: its inputs (the campaign's rows it may use), its
    prompt split, its config fields with their defaults (or what was posted, with the errors
    next to their fields), and the JSON box. ``open_kind``: the form shown unfolded."""
    rows = {
        "snapshot": list(campaign.snapshots.filter(state=Snapshot.State.READY).order_by("-version")),
        "policy": list(campaign.policies.exclude(base_model="").order_by("-id")),
        "reward_model": list(campaign.reward_models.select_related("run", "snapshot").order_by("-id")),
    }
    posted_kind = posted.get("kind") if posted is not None else ""
    forms_ = []
    for kind in KINDS.values():
        mine = posted_kind == kind.name
        kind_errors = (errors or {}) if mine else {}
        chosen = {name: str(posted.get(name) or "") for name in INPUTS} if mine else {}
        policies = rows["policy"]
        policy = next((p for p in policies if str(p.pk) == chosen.get("policy")), None) if mine else (
            policies[0] if policies else None)
        forms_.append({
            "kind": kind.name, "label": kind.label, "method": kind.method, "open": kind.name == (posted_kind or open_kind),
            "inputs": [_input_select(kind, name, rows, chosen.get(name, ""), kind_errors.get(name, ""))
                       for name in INPUTS[:3] if name in kind.uses],
            "prompts": _prompt_select(kind, chosen.get("prompt_split", ""),
                                      kind_errors.get("prompts") or kind_errors.get("prompt_split", "")),
            "groups": config_inputs(kind, campaign=campaign, policy=policy, values=posted if mine else None,
                                    errors=kind_errors),
            "config_json": posted.get("config", "") if mine else "", "config_error": kind_errors.get("config", ""),
            "error_list": _error_list(kind, kind_errors),
        })
    return forms_


INPUTS = ("snapshot", "policy", "reward_model", "prompt_split")


def _input_select(kind: RunKind, name: str, rows: dict[str, list], chosen: str, error: str) -> dict:
    """A select of the campaign's rows for one of the run's inputs. A policy's option carries the
    config defaults it brings (its template, its sampling settings) for run-form.js."""
    options = [{"value": "", "text": "None", "selected": chosen == ""}] if name == "reward_model" and (
        kind.reward_model == "optional") else []
    candidates = [r for r in rows[name] if name != "snapshot" or r.kind == kind.snapshot]
    for row in candidates:
        if name == "snapshot":
            text = f"v{row.version} · {row.get_aggregation_display()} · {row.row_count} rows"
        elif name == "reward_model":
            text = row.choice_label
        else:
            text = row.name + (" (best)" if row.is_best else "")
        option = {"value": str(row.pk), "text": text, "selected": chosen == str(row.pk)}
        if name == "policy":
            option["defaults"] = json.dumps({k: as_text(v) for k, v in kind.policy_defaults(row).items()})
            option["plan"] = planning.run_form_estimate(
                kind=kind.name, policy=row, config=kind.default_config() | kind.policy_defaults(row))
            option["plan_json"] = json.dumps(option["plan"])
        options.append(option)
    if not candidates and not options:
        options.append({"value": "", "text": "none available", "selected": True})
    label = {"reward_model": "Reward model"}.get(name, name.capitalize())
    plans = [o["plan"] for o in options if "plan" in o and (o["selected"] or not chosen)]
    return {"name": name, "label": label, "id": f"run-{kind.name}-{name}", "options": options, "error": error,
            "flagged": [r for r in candidates if name == "reward_model" and r.flagged],
            "plan": plans[0] if plans else None}


def _prompt_select(kind: RunKind, chosen: str, error: str) -> dict | None:
    if not kind.prompts:
        return None
    chosen = chosen or kind.prompts
    options = [{"value": value, "text": f"{text} prompts" + (" (default)" if value == kind.prompts else ""),
                "selected": value == chosen} for value, text in (("train", "train"), ("held_out", "held-out"))]
    return {"name": "prompt_split", "label": "Prompts", "id": f"run-{kind.name}-prompt_split", "options": options,
            "error": error}


def _error_list(kind: RunKind, errors: dict[str, str]) -> list[dict[str, str]]:
    """The errors for the summary at the top of a form, each linking to its input when it has one."""
    schema = kind.config_schema()["properties"]
    out = []
    for key, message in errors.items():
        name = key.removeprefix(PREFIX)
        if key.startswith(PREFIX) and name in schema:
            anchor = f"run-{kind.name}-{name}"
        elif key in (*INPUTS, "prompts", "config"):
            anchor = f"run-{kind.name}-{'prompt_split' if key == 'prompts' else key}"
        else:
            anchor = ""
        out.append({"field": key, "message": message, "anchor": anchor})
    return out
