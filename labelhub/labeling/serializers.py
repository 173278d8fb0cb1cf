from django.utils import timezone
from rest_framework import serializers

from labelhub.campaigns.models import PRIORITY_HELP, PRIORITY_MAX, PRIORITY_MIN, Prompt
from labelhub.campaigns.templatetags.markdown import render_markdown
from labelhub.core.inputs import INT_MAX, id_field
from labelhub.labeling.models import Assignment, Judgment, Strength, Task


class JudgmentInputSerializer(serializers.Serializer):
    """The shape of a submission; its content is checked against the task by the service."""

    idempotency_key = serializers.CharField(min_length=8, max_length=64)
    ranking = serializers.JSONField(required=False, help_text="Rank tasks: [[best], [tied, tied], [worst]] of completion ids.")
    preferred = id_field(required=False, allow_null=True, help_text="Pairwise: the better completion's id.")
    strength = serializers.ChoiceField(choices=Strength.choices, required=False)
    ratings = serializers.JSONField(required=False, help_text='{"<completion id>": {"<axis>": value}}')
    flags = serializers.JSONField(required=False, help_text='{"<completion id>": ["flag", …]}')
    rationale = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    better_answer = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    time_spent_ms = serializers.IntegerField(required=False, min_value=0, max_value=INT_MAX)
    corrects = id_field(required=False, help_text="Id of your earlier judgment this one corrects.")


class SkipSerializer(serializers.Serializer):
    _SAY_WHY = "required: say why you skip (e.g. 'needs expertise')"
    reason = serializers.CharField(max_length=500, error_messages={"required": _SAY_WHY, "blank": _SAY_WHY})


class JudgmentSerializer(serializers.ModelSerializer):
    labeler = serializers.CharField(source="labeler.username", default=None, read_only=True)

    class Meta:
        model = Judgment
        fields = [
            "id", "task", "assignment", "labeler", "source", "ranking", "preferred", "strength", "ratings",
            "flags", "rationale", "better_answer", "display_order", "time_spent_ms", "guideline_version",
            "idempotency_key", "supersedes", "created_at",
        ]
        read_only_fields = fields


class SkipReadSerializer(serializers.ModelSerializer):
    """A skipped task and the labeler's reason (read-only; for the campaign's leads)."""

    labeler = serializers.CharField(source="labeler.username", read_only=True)
    prompt = serializers.IntegerField(source="task.prompt_id", read_only=True)
    skipped_at = serializers.DateTimeField(source="closed_at", read_only=True)
    reason = serializers.CharField(source="skip_reason", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "task", "prompt", "labeler", "reason", "skipped_at"]
        read_only_fields = fields


def lease_payload(lease: dict) -> dict:
    """The labeling page's view of a lease. The prompt (each chat turn), the completions and the
    guidelines come as raw text and as sanitized HTML, all from the one markdown renderer."""
    campaign = dict(lease["campaign"])
    campaign["guidelines_html"] = render_markdown(campaign.pop("guidelines"))
    prompt = {**lease["prompt"], "html": render_markdown(lease["prompt"]["text"])}
    if isinstance(prompt["messages"], list):
        prompt["messages"] = [_turn_with_html(turn) for turn in prompt["messages"]]
    return {
        **lease,
        "expires_at": lease["expires_at"].isoformat() if lease["expires_at"] else None,
        "campaign": campaign,
        "prompt": prompt,
        "completions": [{**c, "html": render_markdown(c["text"])} for c in lease["completions"]],
    }


def _turn_with_html(turn) -> dict:
    """A chat turn plus ``html``: its content (text, or the text parts of a list) as markdown."""
    if not isinstance(turn, dict):
        return {"role": "", "content": turn, "html": render_markdown(str(turn))}
    content = turn.get("content")
    if isinstance(content, list):
        content = "\n".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
    elif not isinstance(content, str):
        content = "" if content is None else str(content)
    return {**turn, "html": render_markdown(content)}


def assignment_payload(assignment, judgment, lease: dict) -> dict:
    """A lease (any state) with the judgment that counts on it and whether it may still change."""
    correctable = judgment is not None and assignment.expires_at > timezone.now()
    return {
        **lease_payload(lease),
        "state": assignment.state,
        "judgment": None if judgment is None else JudgmentSerializer(judgment).data,
        "correctable": correctable,
    }


class LeaseSerializer(serializers.Serializer):
    """Documents the lease payload for the schema."""

    assignment = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    task = serializers.DictField()
    campaign = serializers.DictField()
    prompt = serializers.DictField()
    completions = serializers.ListField(child=serializers.DictField())


class AssignmentSerializer(LeaseSerializer):
    """Documents the assignment payload for the schema."""

    state = serializers.CharField()
    judgment = JudgmentSerializer(allow_null=True)
    correctable = serializers.BooleanField()


class TaskSerializer(serializers.ModelSerializer):
    completion_ids = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id", "prompt", "kind", "completion_ids", "priority", "overlap", "judgment_count", "lease_count",
            "is_gold", "gold_answer", "is_qualification", "created_at",
        ]
        read_only_fields = ["prompt", "kind", "completion_ids", "overlap", "judgment_count", "lease_count", "created_at"]

    def get_completion_ids(self, task) -> list[int]:
        return [tc.completion_id for tc in task.task_completions.all()]


class ReinstateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                 help_text="Why, in a line; kept in the pause history.")


def pause_event_payload(event) -> dict:
    return {"id": event.id, "labeler": event.labeler.username, "action": event.action,
            "by": event.by.username if event.by_id else None, "automatic": event.by_id is None,
            "reason": event.reason, "figures": event.figures, "created_at": event.created_at}


class GoldImportedSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text="Tasks whose gold answer the file set or cleared.")


class TasksMadeSerializer(serializers.Serializer):
    """What POST …/tasks/generate/ did: tasks made, and per reason the prompts or sets that made none."""

    created = serializers.IntegerField(help_text="New tasks (the same as `made`).")
    made = serializers.IntegerField(help_text="New tasks.")
    already_queued = serializers.IntegerField(help_text="Completion sets that already were a task (not made twice).")
    too_few_completions = serializers.IntegerField(
        help_text="Prompts with fewer completions (from the chosen policies) than a task shows.")
    without_completions = serializers.IntegerField(help_text="Prompts with no completion from the chosen policies.")
    needed = serializers.IntegerField(help_text="Completions a task shows: K, or 2 for pairwise campaigns.")
    message = serializers.CharField(help_text="The same, in one sentence per reason, with the fix.")


class TaskGenerateSerializer(serializers.Serializer):
    policies = serializers.ListField(child=id_field(), required=False, max_length=1000, help_text="Policy ids (default: all).")
    split = serializers.ChoiceField(choices=Prompt.Split.choices, required=False)
    priority = serializers.IntegerField(default=0, min_value=PRIORITY_MIN, max_value=PRIORITY_MAX, help_text=PRIORITY_HELP)
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**32 - 1)
