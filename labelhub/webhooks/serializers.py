from rest_framework import serializers

from labelhub.core.webhooks import EVENTS
from labelhub.webhooks.models import Delivery, DeliveryAttempt, Webhook

EVENTS_HELP = "Event names: " + ", ".join(f"`{name}` ({what})" for name, what in EVENTS.items())


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook as it is read: never its secret (shown once, by create and rotate-secret)."""

    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True)

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "description", "active", "created_by", "created_at"]
        read_only_fields = fields


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing key. Shown this once: store it now.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    """The body of create (``url`` and ``events`` required) and of PATCH (any of the fields).
    Types are checked here; what a URL or an event may be, by ``services`` (the page's rules too)."""

    url = serializers.CharField(trim_whitespace=False, help_text="http:// or https:// URL deliveries are POSTed to.")
    events = serializers.ListField(child=serializers.CharField(), help_text=EVENTS_HELP)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                        help_text="A note for people, at most 200 characters.")
    active = serializers.BooleanField(required=False, help_text="Inactive webhooks are sent nothing (default true).")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "status_code", "error", "duration_ms", "at"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event", "state", "attempts", "status_code", "error", "created_at", "finished_at", "body",
                  "attempt_log"]
        read_only_fields = fields
