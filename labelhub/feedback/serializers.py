from rest_framework import serializers

from labelhub.core.inputs import id_field
from labelhub.feedback import disagreement, review_queue
from labelhub.feedback.alarms import Thresholds
from labelhub.feedback.models import Review, Snapshot


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = [
            "id", "version", "kind", "aggregation", "keep_ties", "filters", "strength_margins", "state",
            "judgment_count", "row_count", "content_hash", "error", "metadata", "created_at",
        ]
        read_only_fields = ["version", "state", "judgment_count", "row_count", "content_hash", "error", "metadata",
                            "created_at"]


class PromoteSerializer(serializers.Serializer):
    policy = id_field()
    override = serializers.BooleanField(
        default=False, help_text="Promote a version whose run broke a guard (flagged); needs a note."
    )
    note = serializers.CharField(
        default="", allow_blank=True, max_length=2000, trim_whitespace=True,
        help_text="Why the version is promoted despite its guards (required with override; recorded).",
    )

    def validate(self, attrs):
        if attrs["override"] and not attrs["note"]:
            raise serializers.ValidationError({"note": "An override needs a note saying why the version is promoted despite its guards."})
        return attrs


class PairImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL (or .jsonl.gz) of {chosen, rejected} dialogues or {prompt, chosen, rejected}.")


def leaderboard_payload(board) -> dict:
    return {
        "reference": board.reference.name if board.reference else None,
        "comparisons": board.comparisons,
        "standings": [
            {"policy": s.policy.id, "name": s.policy.name, "is_best": s.policy.is_best, "parent": s.policy.parent_id,
             "strength": round(s.strength, 4), "low": round(s.low, 4), "high": round(s.high, 4),
             "comparisons": s.comparisons, "wins": s.wins,
             "guards": s.policy.guards or None, "flagged": s.policy.flagged, "flag_reasons": s.policy.flag_reasons,
             "override": override_payload(board.overrides.get(s.policy.id)), "retrieval_k": s.policy.retrieval_k,
             "forgetting": s.policy.forgetting or None, "forgets": board.forgets(s.policy)}
            for s in board.standings
        ],
        "retrieval": [retrieval_payload(r) for r in board.retrieval],
        "forgetting_threshold": board.forgetting_threshold,
        "win_rates": {str(a): {str(b): rate for b, rate in row.items()} for a, row in board.win_rates.items()},
        "games": {str(a): {str(b): n for b, n in row.items()} for a, row in board.games.items()},
    }


def retrieval_payload(r) -> dict:
    """A retrieval-augmented version against the same policy without retrieval."""
    return {
        "policy": r.policy.id, "name": r.policy.name, "retrieval_k": r.policy.retrieval_k,
        "strength": round(r.strength, 4),
        "without": r.without.id if r.without else None, "without_name": r.without.name if r.without else None,
        "without_strength": None if r.without_strength is None else round(r.without_strength, 4),
        "gain": None if r.gain is None else round(r.gain, 4), "win_rate": r.win_rate, "games": r.games,
        "unsupported": r.unsupported, "judged": r.judged,
    }


def override_payload(promotion) -> dict | None:
    """Who promoted a flagged version over its guards, when, and why."""
    if promotion is None:
        return None
    return {"by": promotion.promoted_by.username if promotion.promoted_by else None,
            "at": promotion.created_at.isoformat(), "note": promotion.note, "reasons": promotion.flag_reasons}


class AgreementQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=["hour", "day", "week"], default="day", help_text="Length of the periods of the series over time (UTC)."
    )


class AlarmQuerySerializer(serializers.Serializer):
    """Overrides of the alarms' documented defaults (docs/quality.md), for one request."""

    p_value = serializers.FloatField(
        default=Thresholds.p_value, min_value=1e-12, max_value=0.5, help_text="An alarm needs a p-value, Bonferroni-adjusted for the labelers tested, below this."
    )
    min_judgments = serializers.IntegerField(
        default=Thresholds.min_judgments, min_value=1, max_value=1_000_000, help_text="Judgments a labeler needs before an alarm is judged."
    )
    speed_floor = serializers.FloatField(
        default=Thresholds.speed_floor_seconds, min_value=0.1, max_value=3600, help_text="Seconds per task under which a median is too fast."
    )


class ReviewQueueQuerySerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=[], default="sample", help_text="Where the judgments come from.")
    include_reviewed = serializers.BooleanField(default=False, help_text="Also list judgments already reviewed.")
    limit = serializers.IntegerField(default=50, min_value=1, max_value=200, help_text="Judgments to list.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = list(review_queue.SOURCES)


class ReviewSerializer(serializers.Serializer):
    judgment = id_field(help_text="The judgment reviewed (of this campaign).")
    verdict = serializers.ChoiceField(choices=Review.Verdict.choices)
    note = serializers.CharField(default="", allow_blank=True, max_length=2000, trim_whitespace=True,
                                 help_text="Why; required for a rejection.")
    source = serializers.CharField(default="", allow_blank=True, max_length=32,
                                   help_text="The queue it was reviewed from (sample, flagged, disagreement…).")


class ReviewListQuerySerializer(serializers.Serializer):
    judgment = id_field(required=False, help_text="Only this judgment's reviews: its history.")
    limit = serializers.IntegerField(default=100, min_value=1, max_value=1000)


class DisagreementQuerySerializer(serializers.Serializer):
    threshold = serializers.FloatField(default=disagreement.DEFAULT_THRESHOLD, min_value=0, max_value=1,
                                       help_text="List tasks whose pairwise agreement is below this.")
    min_labelers = serializers.IntegerField(default=disagreement.DEFAULT_MIN_LABELERS, min_value=2, max_value=50)
    limit = serializers.IntegerField(default=100, min_value=1, max_value=1000)


class RewardDisagreementQuerySerializer(serializers.Serializer):
    scorer = serializers.CharField(required=False, max_length=120, help_text="A scorer's name (default: the latest).")
    min_votes = serializers.IntegerField(default=disagreement.DEFAULT_MIN_VOTES, min_value=1, max_value=50,
                                         help_text="Human answers a pair needs before its majority counts.")
    margin = serializers.FloatField(default=0.0, min_value=0, max_value=1e6,
                                    help_text="The scorer's gap between the two must exceed this.")
    limit = serializers.IntegerField(default=100, min_value=1, max_value=1000)


class SendBackSerializer(serializers.Serializer):
    task = id_field(help_text="The task to send back to labeling.")
    extra = serializers.IntegerField(default=1, min_value=1, max_value=10,
                                     help_text="Judgments to add to the task's overlap.")
    priority = serializers.IntegerField(required=False, min_value=0, max_value=100,
                                        help_text="A new queue priority for the task (optional).")


class CompletionScoreItemSerializer(serializers.Serializer):
    completion = id_field()
    score = serializers.FloatField()

    def validate_score(self, value):
        if value != value or value in (float("inf"), float("-inf")):
            raise serializers.ValidationError("must be a finite number")
        return value


class CompletionScoresSerializer(serializers.Serializer):
    scorer = serializers.CharField(max_length=120, help_text="What gave the scores, e.g. a reward model's name.")
    scores = CompletionScoreItemSerializer(many=True, allow_empty=False, max_length=100_000)
