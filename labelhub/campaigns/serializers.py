from datetime import datetime

from django.db import models
from rest_framework import serializers

from labelhub.campaigns import paths
from labelhub.campaigns.models import (
    Campaign,
    Completion,
    GuidelineVersion,
    ImportBatch,
    Invitation,
    Membership,
    Passage,
    Policy,
    Prompt,
    Role,
    content_hash,
)
from labelhub.core.inputs import JsonbField, TextField
from labelhub.core.paths import PathField


class ModelSerializer(serializers.ModelSerializer):
    """JSON and free text within PostgreSQL's means and the per-field size limit."""

    serializer_field_mapping = serializers.ModelSerializer.serializer_field_mapping | {
        models.JSONField: JsonbField, models.TextField: TextField,
    }


#: Slugs that page addresses use (``/campaigns/new/``).
RESERVED_SLUGS = {"new"}


class CampaignSerializer(ModelSerializer):
    """A campaign's settings. The API and the set-up pages (``views.campaign_create`` /
    ``campaign_edit`` / ``guidelines_edit``) validate with this one serializer."""

    my_roles = serializers.SerializerMethodField()
    guidelines_note = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200,
        help_text="What changed in the guidelines, in a line; kept with the new version.",
    )

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "slug", "description", "guidelines", "guidelines_version", "task_kind",
            "completions_per_task", "overlap", "rating_axes", "flag_vocabulary", "status",
            "lease_seconds", "loop_auto", "loop_priority", "gold_rate", "gold_min_answers", "gold_accuracy_threshold",
            "qualification_size", "qualification_threshold", "qualification_max_attempts", "forgetting_threshold",
            "created_at", "updated_at", "my_roles", "guidelines_note",
        ]
        read_only_fields = ["guidelines_version", "created_at", "updated_at"]

    def get_my_roles(self, campaign) -> list[str]:
        roles = self.context.get("roles_by_campaign", {}).get(campaign.id)
        if roles is None:
            roles = campaign.roles_of(self.context["request"].user)
        return sorted(roles)

    def validate_slug(self, slug):
        if slug in RESERVED_SLUGS:
            raise serializers.ValidationError(f"“{slug}” is taken by a page's address; choose another slug.")
        return slug

    def validate_rating_axes(self, axes):
        if not isinstance(axes, list):
            raise serializers.ValidationError("Must be a list of {name, min, max} objects.")
        names = set()
        for i, axis in enumerate(axes):
            if not isinstance(axis, dict) or not isinstance(axis.get("name"), str) or not axis["name"].strip():
                raise serializers.ValidationError(f"Axis {i}: needs a non-empty 'name'.")
            lo, hi = axis.get("min", 1), axis.get("max", 5)
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)) or lo >= hi:
                raise serializers.ValidationError(f"Axis {axis['name']!r}: 'min' and 'max' must be integers with min < max.")
            if axis["name"].strip() in names:
                raise serializers.ValidationError(f"Axis {axis['name']!r} appears twice.")
            names.add(axis["name"].strip())
        return [{"name": a["name"].strip(), "min": a.get("min", 1), "max": a.get("max", 5)} for a in axes]

    def validate_flag_vocabulary(self, flags):
        if not isinstance(flags, list) or not all(isinstance(f, str) and f.strip() for f in flags):
            raise serializers.ValidationError("Must be a list of non-empty strings.")
        flags = [f.strip() for f in flags]
        if len(set(flags)) != len(flags):
            raise serializers.ValidationError("Flags must be distinct.")
        return flags

    def validate(self, attrs):
        kind = attrs.get("task_kind", getattr(self.instance, "task_kind", Campaign.TaskKind.RANK))
        k = attrs.get("completions_per_task", getattr(self.instance, "completions_per_task", 4))
        if kind == Campaign.TaskKind.PAIRWISE and k != 2:
            if "completions_per_task" in attrs:
                raise serializers.ValidationError({"completions_per_task": "Pairwise tasks show exactly 2 completions."})
            attrs["completions_per_task"] = 2
        return attrs


class GuidelinesPreviewSerializer(serializers.Serializer):
    text = TextField(allow_blank=True, trim_whitespace=False, help_text="Guidelines in Markdown.")


class GuidelinesPreviewAnswerSerializer(serializers.Serializer):
    html = serializers.CharField(help_text="The text rendered and sanitised exactly as the labeling page shows guidelines.")


class GuidelineVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True)

    class Meta:
        model = GuidelineVersion
        fields = ["version", "text", "note", "created_by", "created_at"]
        read_only_fields = fields


class MembershipSerializer(ModelSerializer):
    """A member and one of their roles; ``judgments`` and ``last_activity`` come from the
    labeling app through the context (``activity``: user id → figures)."""

    username = serializers.CharField(source="user.username", read_only=True)
    judgments = serializers.SerializerMethodField(help_text="Their judgments in this campaign (corrections not counted).")
    last_activity = serializers.SerializerMethodField(help_text="Their latest judgment or lease here; null if none.")

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at", "judgments", "last_activity"]
        read_only_fields = ["role", "created_at"]

    def _activity(self, membership) -> dict:
        return self.context.get("activity", {}).get(membership.user_id, {})

    def get_judgments(self, membership) -> int:
        return self._activity(membership).get("judgments", 0)

    def get_last_activity(self, membership) -> datetime | None:
        last = self._activity(membership).get("last_activity")
        return serializers.DateTimeField().to_representation(last) if last else None


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text="The role this membership holds instead.")


class InviteSerializer(serializers.Serializer):
    """Whom to invite, by username or by e-mail address (one of the two), and as what."""

    _ONE = "Give the person's username or their e-mail address (one of the two)."
    username = serializers.CharField(required=False, allow_blank=True, max_length=150,
                                     help_text="The person's username.")
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254,
                                   help_text="Or their e-mail address.")
    role = serializers.ChoiceField(choices=Role.choices)

    def validate(self, attrs):
        username, email = attrs.get("username", "").strip(), attrs.get("email", "").strip()
        if bool(username) == bool(email):
            field = "email" if email else "username"
            raise serializers.ValidationError({field: self._ONE})
        return {"name": username or email, "by_email": bool(email), "role": attrs["role"]}


class InviteAnswerSerializer(serializers.Serializer):
    """The same answer whether or not an account has that name."""

    detail = serializers.CharField()
    invitee = serializers.CharField()
    by = serializers.ChoiceField(choices=["username", "email"])
    role = serializers.CharField()


def invite_answer(*, name: str, by_email: bool, role: str) -> dict:
    return {
        "detail": f"Invited {name} as {Role(role).label.lower()}: if they have an account, they see the "
                  "invitation in their account and join when they accept it.",
        "invitee": name, "by": "email" if by_email else "username", "role": role,
    }


class InvitationSerializer(serializers.ModelSerializer):
    """A campaign's invitation as its leads see it."""

    invitee = serializers.CharField(source="invitee_name", help_text="The username or e-mail address invited.")
    by = serializers.SerializerMethodField(help_text="Whether `invitee` is a username or an e-mail address.")
    invited_by = serializers.CharField(source="invited_by.username", default=None, read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "invitee", "by", "role", "state", "invited_by", "created_at", "answered_at"]
        read_only_fields = fields

    def get_by(self, invitation) -> str:
        return "email" if invitation.by_email else "username"


class InvitationAnsweredSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["accepted", "declined"])
    campaign = serializers.CharField(help_text="The campaign's slug.")
    role = serializers.CharField()


def invitation_answered(invitation: Invitation, state: str) -> dict:
    return {"id": invitation.pk, "state": state, "campaign": invitation.campaign.slug, "role": invitation.role}


class MyInvitationSerializer(serializers.ModelSerializer):
    """An invitation waiting for your answer."""

    campaign = serializers.CharField(source="campaign.slug", read_only=True)
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", default=None, read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "campaign", "campaign_name", "role", "invited_by", "created_at"]
        read_only_fields = fields


class CompletionSerializer(ModelSerializer):
    policy_name = serializers.CharField(source="policy.name", read_only=True)

    class Meta:
        model = Completion
        fields = [
            "id", "prompt", "policy", "policy_name", "text", "generation_settings", "token_count",
            "seed", "metadata", "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        campaign = self.context["campaign"]
        if attrs["prompt"].campaign_id != campaign.id:
            raise serializers.ValidationError({"prompt": "Not a prompt of this campaign."})
        if attrs["policy"].campaign_id != campaign.id:
            raise serializers.ValidationError({"policy": "Not a policy of this campaign."})
        recorded = Completion.objects.filter(
            prompt=attrs["prompt"], policy=attrs["policy"], content_hash=content_hash(attrs["text"])
        )
        if recorded.exists():
            raise serializers.ValidationError({"text": "Already recorded for this prompt and policy."})
        return attrs


class PromptSerializer(ModelSerializer):
    completion_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Prompt
        fields = ["id", "text", "messages", "metadata", "split", "content_hash", "completion_count", "created_at"]
        read_only_fields = ["content_hash", "created_at"]


class PolicySerializer(ModelSerializer):
    completion_count = serializers.IntegerField(read_only=True, default=0)  # a new policy has none
    base_model = PathField(max_length=500, required=False, allow_blank=True,
                           help_text="tiny, tiny-lm, a hub name, or a model folder in this campaign's run folders "
                                     "or the models directory (models/<name>); empty for an external source.")
    adapter_path = PathField(max_length=500, required=False, allow_blank=True,
                             help_text="A LoRA adapter folder in one of this campaign's run folders, relative to the "
                                       "data directory (runs/<id>/adapter).")

    class Meta:
        model = Policy
        fields = [
            "id", "name", "base_model", "adapter_path", "parent", "generation_settings",
            "prompt_template_kind", "prompt_template", "retrieval_k", "forgetting", "completion_count", "created_at",
        ]
        read_only_fields = ["created_at", "forgetting"]

    def validate_name(self, name):
        taken = self.context["campaign"].policies.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("This campaign already has a policy with this name.")
        return name

    def validate_base_model(self, value):
        return value and self._confined(paths.model_spec, value, "The model")

    def validate_adapter_path(self, value):
        return value and self._confined(paths.confined_path, value, "The adapter folder")

    def _confined(self, check, value: str, what: str) -> str:
        try:
            return check(self.context["campaign"], value)
        except paths.PathRefused as exc:
            raise serializers.ValidationError(f"{what} {exc}.") from None

    def validate_parent(self, parent):
        if parent is not None and parent.campaign_id != self.context["campaign"].id:
            raise serializers.ValidationError("The parent must be a policy of the same campaign.")
        ancestor = parent
        while ancestor is not None and self.instance is not None:
            if ancestor.pk == self.instance.pk:
                raise serializers.ValidationError("A policy cannot descend from itself.")
            ancestor = ancestor.parent
        return parent

    def validate_generation_settings(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object.")
        return value


class PassageSerializer(serializers.ModelSerializer):
    rank = serializers.FloatField(read_only=True, required=False,
                                  help_text="Full-text rank for the query (only in a ?q= search).")

    class Meta:
        model = Passage
        fields = ["id", "document", "position", "text", "rank", "created_at"]
        read_only_fields = fields


class PassageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A document: .txt (passages split at blank lines), .md (at headings) "
                                           "or .jsonl ({\"text\", \"title\"} a line).")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A file of prompts (and completions): .jsonl, .csv, or a Hugging Face dataset — "
                                  ".parquet, .arrow, or a .zip of a save_to_disk folder.")


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="The file's line; null for the file as a whole.")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportSerializer(serializers.ModelSerializer):
    """An import: a small one once written (201); a large one as its job gets on (202, then
    ``GET …/imports/<id>/`` until its state is succeeded, rejected or failed)."""

    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, default=None)
    progress = serializers.FloatField(read_only=True, help_text="Share of the lines checked (1 once it has ended).")
    errors = ImportErrorSerializer(many=True, read_only=True,
                                   help_text="A rejected import's errors, as a small one's 400 lists them.")

    class Meta:
        model = ImportBatch
        fields = [
            "id", "kind", "filename", "format", "size", "state", "lines_total", "lines_checked", "progress", "errors",
            "prompts_created", "prompts_skipped", "completions_created", "completions_skipped", "policies_created",
            "judgments_created", "judgments_skipped", "uploaded_by", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields
