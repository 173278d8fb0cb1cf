from rest_framework import serializers

from labelhub.feedback.models import Snapshot


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = [
            "id", "version", "kind", "aggregation", "keep_ties", "filters", "strength_margins", "state",
            "judgment_count", "row_count", "content_hash", "error", "created_at",
        ]
        read_only_fields = ["version", "state", "judgment_count", "row_count", "content_hash", "error", "created_at"]


class PromoteSerializer(serializers.Serializer):
    policy = serializers.IntegerField()


class PairImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL (or .jsonl.gz) of {chosen, rejected} dialogues or {prompt, chosen, rejected}.")


def leaderboard_payload(board) -> dict:
    return {
        "reference": board.reference.name if board.reference else None,
        "comparisons": board.comparisons,
        "standings": [
            {"policy": s.policy.id, "name": s.policy.name, "is_best": s.policy.is_best, "parent": s.policy.parent_id,
             "strength": round(s.strength, 4), "low": round(s.low, 4), "high": round(s.high, 4),
             "comparisons": s.comparisons, "wins": s.wins}
            for s in board.standings
        ],
        "win_rates": {str(a): {str(b): rate for b, rate in row.items()} for a, row in board.win_rates.items()},
        "games": {str(a): {str(b): n for b, n in row.items()} for a, row in board.games.items()},
    }
