"""A campaign's webhooks over the API: leads and ML engineers only (labelers and reviewers 403,
non-members 404)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from labelhub.campaigns.api import CampaignChildViewSet
from labelhub.core.errors import BadRequest
from labelhub.webhooks import selectors, services
from labelhub.webhooks.serializers import (
    DeliverySerializer,
    WebhookInputSerializer,
    WebhookSerializer,
    WebhookWithSecretSerializer,
)


class WebhookViewSet(CampaignChildViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.DestroyModelMixin):
    """URLs told about the campaign's events, signed with a per-webhook secret (shown once)."""

    serializer_class = WebhookSerializer
    role_rules = {"*": selectors.MANAGERS}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def campaign_queryset(self):
        return selectors.webhook_list(campaign=self._campaign).select_related("created_by")

    @extend_schema(request=WebhookInputSerializer, responses={201: WebhookWithSecretSerializer})
    def create(self, request, campaign_slug=None):
        data = _parsed(request.data, partial=False)
        try:
            webhook = services.webhook_create(campaign=self._campaign, user=request.user, **data)
        except services.WebhookInvalid as exc:
            raise BadRequest("Invalid webhook.", exc.errors) from None
        return Response(WebhookWithSecretSerializer(webhook).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookInputSerializer, responses={200: WebhookSerializer})
    def partial_update(self, request, campaign_slug=None, pk=None):
        webhook = self.get_object()
        try:
            services.webhook_update(webhook=webhook, **_parsed(request.data, partial=True))
        except services.WebhookInvalid as exc:
            raise BadRequest("Invalid webhook.", exc.errors) from None
        return Response(WebhookSerializer(webhook).data)

    def perform_destroy(self, instance):
        services.webhook_delete(webhook=instance)

    @extend_schema(request=None, responses={200: WebhookWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, campaign_slug=None, pk=None):
        """A new signing secret, shown this once; the old one stops working at once."""
        webhook = services.webhook_secret_rotate(webhook=self.get_object())
        return Response(WebhookWithSecretSerializer(webhook).data)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, campaign_slug=None, pk=None):
        """The latest deliveries (newest first, at most 50), each with its attempts."""
        log = selectors.delivery_log(webhook=self.get_object())
        return Response(DeliverySerializer(log, many=True).data)


def _parsed(data, *, partial: bool) -> dict:
    serializer = WebhookInputSerializer(data=data, partial=partial)
    if not serializer.is_valid():
        raise BadRequest("Invalid webhook.", {field: " ".join(_messages(problems))
                                              for field, problems in serializer.errors.items()})
    return dict(serializer.validated_data)


def _messages(problems) -> list[str]:
    """A field's messages, also those of a list's items (``{0: ["Not a valid string."]}``)."""
    if isinstance(problems, dict):
        return [f"item {key}: {m}" for key, value in problems.items() for m in _messages(value)]
    return [str(p) for p in problems]
