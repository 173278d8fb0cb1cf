"""One declaration per run kind: its trainer method, the config it starts from, the inputs it
takes, and what it registers when it succeeds. The API, the run form, the services, the
runner and the loop read these declarations; nothing else knows what a kind is.

The config schema and its checks come from the trainer itself (``trainer.schema``, what
``python -m trainer <method> --schema`` prints): a config the trainer would refuse is refused
here, with the trainer's words, before anything is queued. That module is the one part of the
trainer the platform imports (an import-linter exception in pyproject.toml): standard library
only, so the web tier stays free of torch (tests/config/test_web_tier_without_training_libraries).
Everything else still goes through the CLI and the run folder.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from labelhub.training.models import Run
from trainer import schema as trainer_schema

Kind = Run.Kind
#: What the trainer's checks raise: ``problems`` lists (field, message) pairs.
ConfigError = trainer_schema.ConfigError

#: Stands in for an input the platform fills in when the run starts (paths of this machine).
PLATFORM_VALUE = "<set by the platform>"
#: What a successful run registers.
REGISTERS = ("reward_model", "policy", "completions", "forgetting", "nothing")
#: Policy.prompt_template_kind → the trainer's ``template``. One/few-shot need an examples file: a
#: kind with ``campaign_examples`` draws it from the campaign (train prompts with a reference answer);
#: a kind whose trainer offers no such template (sft, dpo: zero-shot, cot, raw) keeps its own default.
TEMPLATES = {"zero_shot": "zero-shot", "one_shot": "one-shot", "few_shot": "few-shot", "chain_of_thought": "cot"}
SAMPLING_KEYS = ("max_new_tokens", "do_sample", "temperature", "top_k", "top_p")


@dataclass(frozen=True)
class RunKind:
    """A run kind. ``snapshot``: the snapshot kind it trains on (it needs one); ``policy``: it
    needs a policy to start from or sample with; ``reward_model``: "required", "optional" or
    None; ``prompts``: the campaign's prompt split it samples by default; ``samples_per_task``:
    the config field that defaults to the campaign's K (completions per task), so that what
    the run makes is what "Make tasks" needs; ``basics``: the fields the run form shows first
    (the rest are grouped and folded away)."""

    name: str
    method: str
    defaults: dict[str, Any]
    registers: str
    snapshot: str | None = None
    policy: bool = False
    reward_model: str | None = None
    prompts: str | None = None
    model_field: str = "model"  # the trainer field that takes the policy's base model
    sampling_from_policy: bool = False  # the policy's generation settings are defaults
    samples_per_task: str | None = None
    basics: tuple[str, ...] = ()
    campaign_examples: bool = False  # one/few-shot examples come from the campaign when the config names none
    general_set: bool = False  # it reads the forgetting report's fixed general set (settings), not the campaign's prompts
    corpus: bool = False  # it trains on the campaign's document collection (its passages as a text corpus)
    unused: tuple[str, ...] = ()  # trainer fields this kind leaves unset: a config may not set them

    @property
    def label(self) -> str:
        return Kind(self.name).label

    @property
    def uses(self) -> set[str]:
        """The inputs a run of this kind reads (others are refused rather than ignored)."""
        used = {"snapshot"} if self.snapshot else set()
        used |= {"policy"} if self.policy else set()
        return used | ({"reward_model"} if self.reward_model else set())

    @property
    def platform_fields(self) -> set[str]:
        """Trainer fields the platform sets from the run's inputs; a config may not set them."""
        fields = {"out"} | ({"data"} if self.snapshot else set())
        fields |= {self.model_field, "adapter"} if self.policy else set()
        fields |= {"reward_model"} if self.reward_model else set()
        fields |= {"prompts", "held_out"} if self.general_set else set()
        fields |= {"data"} if self.corpus else set()
        fields |= set(self.unused)
        return fields | ({"prompts"} if self.prompts else set())

    def default_config(self) -> dict[str, Any]:
        return copy.deepcopy(self.defaults)

    def campaign_defaults(self, campaign) -> dict[str, Any]:
        """Defaults that follow the campaign: K samples per prompt for a kind that samples tasks."""
        if campaign is None or not self.samples_per_task:
            return {}
        return {self.samples_per_task: campaign.completions_per_task}

    def defaults_for(self, *, campaign=None, policy=None) -> dict[str, Any]:
        """The config a run starts from before the request's fields: the kind's defaults, then
        the campaign's, then the starting policy's."""
        return self.default_config() | self.campaign_defaults(campaign) | self.policy_defaults(policy)

    @property
    def aliases(self) -> dict[str, str]:
        """Old spelling -> field name of the trainer's renamed fields (the trainer still reads them)."""
        return trainer_schema.aliases(self.method)

    def policy_defaults(self, policy) -> dict[str, Any]:
        """Defaults that follow the starting policy: its prompt template and sampling settings."""
        if policy is None or not self.policy:
            return {}
        out: dict[str, Any] = {}
        template = TEMPLATES.get(policy.prompt_template_kind)
        offered = self.trainer_schema()["properties"].get("template", {}).get("enum", ())
        if template in offered:
            out["template"] = template
            shots = (policy.generation_settings or {}).get("shots")
            if template == "few-shot" and isinstance(shots, int) and not isinstance(shots, bool):
                out["shots"] = shots
        if self.sampling_from_policy:
            settings = policy.generation_settings or {}
            out |= {k: settings[k] for k in SAMPLING_KEYS if k in settings}
        return out

    def trainer_schema(self) -> dict[str, Any]:
        """The trainer's JSON Schema for this kind's method (``--schema``)."""
        return _schema(self.method)

    def config_schema(self) -> dict[str, Any]:
        """What a run config of this kind may set: the trainer's schema less the fields the
        platform sets, with the kind's defaults where it has its own."""
        schema = copy.deepcopy(self.trainer_schema())
        for name in self.platform_fields:
            schema["properties"].pop(name, None)
        schema["required"] = [name for name in schema["required"] if name not in self.platform_fields]
        for name, value in self.defaults.items():
            schema["properties"][name]["default"] = value
        if self.samples_per_task:
            prop = schema["properties"][self.samples_per_task]
            prop["description"] += " A run's default is its campaign's K (completions per task)."
        schema["title"] = f"{self.name} run config"
        return schema

    def check_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` as the trainer will read it (its values in their types), checked by the
        trainer's own rules with the inputs the platform adds standing in; raises ConfigError
        naming each field at fault."""
        stand_ins = dict.fromkeys(self.platform_fields, PLATFORM_VALUE)
        if self.campaign_examples and not config.get("examples"):
            stand_ins["examples"] = PLATFORM_VALUE  # the campaign's (services checks it has enough)
        cfg = trainer_schema.validate(self.method, config | stand_ins)
        return {name: getattr(cfg, name) for name in config}

    def check_processes(self, config: dict[str, Any], processes: int) -> None:
        """Raise ConfigError when the batch does not split over ``processes`` trainer processes
        (a run with several GPUs starts one per GPU, each taking batch_size / N)."""
        trainer_schema.check_processes(self.method, config, processes)

    def trainer_inputs(self, run: Run, *, prompts_file: str | None, corpus_file: str | None = None) -> dict[str, Any]:
        """The platform's fields of the trainer config, from the run's rows (paths on this machine)."""
        values: dict[str, Any] = {}
        if self.snapshot and run.snapshot is not None:
            values["data"] = run.snapshot.jsonl_path
        if self.policy and run.policy is not None:
            values[self.model_field] = run.policy.base_model
            values["adapter"] = run.policy.adapter_path or None
        if self.reward_model and run.reward_model is not None:
            values["reward_model"] = run.reward_model.trainer_spec
        if prompts_file is not None:
            values["prompts"] = prompts_file
        if corpus_file is not None:
            values["data"] = corpus_file
        values |= dict.fromkeys(self.unused)
        if self.general_set:
            values["prompts"] = str(settings.LABELHUB_FORGETTING_PROMPTS)
            values["held_out"] = str(settings.LABELHUB_FORGETTING_TEXT)
        return values


def method_schema(method: str) -> dict[str, Any]:
    """The JSON Schema of any trainer method's config (the planner page draws ``plan``'s)."""
    return _schema(method)


@functools.cache
def _schema(method: str) -> dict[str, Any]:
    return trainer_schema.json_schema(method)


#: The kinds. Defaults: a few steps on the tiny CPU models, one metrics line per step. A generate
#: run started by hand makes completions to label: K per train prompt (the loop's own generate
#: runs ask for one per held-out prompt: ``loop.send_to_labeling``).
KINDS: dict[str, RunKind] = {k.name: k for k in (
    RunKind(
        Kind.REWARD, "reward", registers="reward_model", snapshot="preference",
        defaults={"model": "tiny-rm", "max_steps": 30, "batch_size": 8, "learning_rate": 1e-3,
                  "eval_fraction": 0.2, "log_every": 1, "seed": 0},
        basics=("model", "max_steps", "epochs", "batch_size", "learning_rate", "eval_fraction", "seed"),
    ),
    RunKind(
        Kind.SFT, "sft", registers="policy", snapshot="sft", policy=True,
        defaults={"max_steps": 30, "batch_size": 8, "learning_rate": 1e-3, "log_every": 1, "seed": 0},
        basics=("max_steps", "epochs", "batch_size", "learning_rate", "template", "seed"),
    ),
    RunKind(
        Kind.DPO, "dpo", registers="policy", snapshot="preference", policy=True,
        defaults={"max_steps": 30, "batch_size": 8, "learning_rate": 5e-4, "beta": 0.1, "log_every": 1, "seed": 0},
        basics=("max_steps", "epochs", "batch_size", "learning_rate", "beta", "loss_type", "template", "seed"),
    ),
    RunKind(
        Kind.PPO, "ppo", registers="policy", policy=True, reward_model="required", prompts="train",
        defaults={"steps": 20, "batch_size": 8, "minibatch_size": 8, "kl_coef": 0.05, "seed": 0},
        basics=("steps", "batch_size", "minibatch_size", "learning_rate", "kl_coef", "kl_target", "seed"),
    ),
    RunKind(
        Kind.RLOO, "rloo", registers="policy", policy=True, reward_model="required", prompts="train",
        defaults={"steps": 20, "batch_size": 4, "num_generations": 4, "kl_coef": 0.05, "seed": 0},
        basics=("steps", "batch_size", "num_generations", "learning_rate", "kl_coef", "seed"),
    ),
    RunKind(
        Kind.GENERATE, "generate", registers="completions", policy=True, prompts="train",
        sampling_from_policy=True, samples_per_task="num_samples",
        defaults={"num_samples": 4, "max_new_tokens": 48, "seed": 0},
        basics=("num_samples", "max_new_tokens", "temperature", "template", "seed"), campaign_examples=True,
    ),
    RunKind(
        Kind.EVALUATE, "evaluate", registers="nothing", policy=True, reward_model="optional", prompts="held_out",
        model_field="policy", sampling_from_policy=True, defaults={"max_new_tokens": 48, "seed": 0},
        basics=("max_new_tokens", "temperature", "reference", "held_out", "seed"), campaign_examples=True,
    ),
    RunKind(
        Kind.PROMPT_LAB, "prompt-lab", registers="nothing", policy=True, prompts="held_out", sampling_from_policy=True,
        defaults={"max_new_tokens": 48, "seed": 0, "variants": [
            {"name": "zero-shot", "template": "zero-shot"}, {"name": "chain-of-thought", "template": "cot"},
            {"name": "zero-shot, greedy", "template": "zero-shot", "do_sample": False}]},
        basics=("variants", "max_new_tokens", "temperature", "top_k", "top_p", "seed"), campaign_examples=True,
    ),
    # Continued pre-training on the campaign's documents (their passages as the corpus).
    RunKind(
        Kind.PRETRAIN, "pretrain", registers="policy", policy=True, corpus=True,
        defaults={"max_steps": 30, "batch_size": 8, "learning_rate": 1e-3, "eval_fraction": 0.2, "log_every": 1,
                  "seed": 0},
        basics=("max_steps", "epochs", "batch_size", "learning_rate", "full", "max_length", "eval_fraction", "seed"),
    ),
    # The forgetting report: every new policy version against its base (the adapter switched
    # off), greedy, on a general set no campaign trains on (``loop.advance`` queues it).
    RunKind(
        Kind.FORGETTING, "evaluate", registers="forgetting", policy=True, model_field="policy", general_set=True,
        unused=("reward_model",),
        defaults={"do_sample": False, "max_new_tokens": 32, "seed": 0},
        basics=("max_new_tokens", "seed"),
    ),
)}


def get(name: str) -> RunKind:
    return KINDS[name]


def registering(what: str) -> set[str]:
    """The kinds whose success registers ``what`` (one of :data:`REGISTERS`)."""
    return {name for name, kind in KINDS.items() if kind.registers == what}
