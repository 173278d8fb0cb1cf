from rest_framework import serializers

from labelhub.campaigns.models import Prompt
from labelhub.core.accelerators import MAX_GPUS
from labelhub.core.inputs import JsonbField, id_field
from labelhub.core.paths import PathField, PathsInJsonField
from labelhub.training.kinds import KINDS, REGISTERS
from labelhub.training.models import RewardModel, Run, RunMetric


class RunSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    guards = serializers.JSONField(read_only=True, help_text="summary.json's guards (PPO/DPO/RLOO), or null.")
    flagged = serializers.BooleanField(read_only=True, help_text="The run broke a guard (see flag_reasons).")
    flag_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    run_dir = PathField(read_only=True, help_text="The run folder, relative to the data directory.")
    summary = PathsInJsonField(read_only=True, help_text="summary.json (files relative to the data directory).")
    config = PathsInJsonField(read_only=True, help_text="The trainer config (files relative to the data directory).")

    class Meta:
        model = Run
        fields = [
            "id", "kind", "state", "config", "snapshot", "policy", "reward_model", "prompt_split", "gpus", "cancel_requested",
            "resumed_from", "run_dir", "produced_policy", "produced_reward_model", "summary", "progress", "guards", "flagged", "flag_reasons",
            "error", "error_tail", "exit_code", "job_id", "created_by", "created_at", "started_at", "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunCreateSerializer(serializers.Serializer):
    """Start a run: the kind, its inputs (ids within the campaign) and config overrides."""

    kind = serializers.ChoiceField(choices=[(kind.name, kind.label) for kind in KINDS.values()])
    config = JsonbField(required=False, default=dict, help_text="Trainer config fields over the kind's defaults "
                        "(GET /api/run-kinds/ gives each kind's fields, defaults and bounds).")
    snapshot = id_field(required=False, allow_null=True)
    policy = id_field(required=False, allow_null=True)
    reward_model = id_field(required=False, allow_null=True)
    prompt_split = serializers.ChoiceField(choices=Prompt.Split.choices, required=False,
                                           help_text="Prompts for generate/evaluate/PPO/RLOO (default: the kind's).")
    gpus = serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_GPUS,
                                    help_text="GPUs the run needs (0: any worker). It waits for a worker with at least "
                                              "this many; more than one starts that many trainer processes.")

    def validate(self, attrs):
        campaign = self.context["campaign"]
        sources = {
            "snapshot": campaign.snapshots, "policy": campaign.policies, "reward_model": campaign.reward_models,
        }
        for name, queryset in sources.items():
            pk = attrs.get(name)
            attrs[name] = queryset.filter(pk=pk).first() if pk is not None else None
            if pk is not None and attrs[name] is None:
                raise serializers.ValidationError({name: f"No {name.replace('_', ' ')} {pk} in this campaign."})
        return attrs


class RunMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunMetric
        fields = ["id", "step", "values", "created_at"]


class RewardModelSerializer(serializers.ModelSerializer):
    base_model = PathField(read_only=True)
    adapter_path = PathField(read_only=True, help_text="Relative to the data directory.")
    flagged = serializers.BooleanField(
        read_only=True, help_text="Its held-out accuracy does not show it learned the preference (see flag_reasons).")
    flag_reasons = serializers.ListField(child=serializers.CharField(), read_only=True,
                                         help_text="Below chance, too few held-out pairs, or no held-out accuracy.")

    class Meta:
        model = RewardModel
        fields = ["id", "name", "base_model", "adapter_path", "snapshot", "run", "held_out_accuracy", "held_out_pairs",
                  "flagged", "flag_reasons", "created_at"]
        read_only_fields = fields


class RunKindInputsSerializer(serializers.Serializer):
    snapshot = serializers.CharField(allow_null=True, help_text="The snapshot kind it trains on (required), or null.")
    policy = serializers.ChoiceField(choices=["required"], allow_null=True, help_text="A policy to start from or sample with.")
    reward_model = serializers.ChoiceField(choices=["required", "optional"], allow_null=True)
    prompts = serializers.ChoiceField(choices=["train", "held_out"], allow_null=True,
                                      help_text="The prompt split it samples by default (prompt_split may change it).")


class RunKindSerializer(serializers.Serializer):
    """A run kind's declaration (labelhub/training/kinds.py) and its config schema."""

    name = serializers.CharField()
    label = serializers.CharField()
    method = serializers.CharField(help_text="The trainer method: python -m trainer <method>.")
    inputs = RunKindInputsSerializer()
    set_by_platform = serializers.ListField(child=serializers.CharField(),
                                            help_text="Trainer fields the platform fills in from the inputs.")
    registers = serializers.ChoiceField(choices=REGISTERS, help_text="What a successful run registers.")
    defaults = serializers.DictField(help_text="The kind's config defaults (over the trainer's own).")
    config_schema = serializers.DictField(
        help_text="JSON Schema of what a run config may set: the trainer's own (python -m trainer <method> --schema) "
        "less the fields the platform sets, with the kind's defaults.")

    def to_representation(self, kind):
        return {
            "name": kind.name, "label": kind.label, "method": kind.method,
            "inputs": {"snapshot": kind.snapshot, "policy": "required" if kind.policy else None,
                       "reward_model": kind.reward_model, "prompts": kind.prompts},
            "set_by_platform": sorted(kind.platform_fields), "registers": kind.registers,
            "defaults": kind.default_config(), "config_schema": kind.config_schema(),
        }
