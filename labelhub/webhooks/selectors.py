"""Reads for webhooks, scoped to a campaign the caller may manage (the views check the role)."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from labelhub.campaigns.models import Campaign, Role
from labelhub.webhooks.models import Delivery, DeliveryAttempt, Webhook

#: Who may see and manage a campaign's webhooks: its leads and ML engineers.
MANAGERS = {Role.LEAD, Role.ENGINEER}
#: The delivery log shows this many deliveries, newest first.
LOG_SIZE = 50


def webhook_list(*, campaign: Campaign):
    return Webhook.objects.filter(campaign=campaign).order_by("id")


def webhook_get(*, campaign: Campaign, pk: int) -> Webhook:
    return get_object_or_404(Webhook, campaign=campaign, pk=pk)


def delivery_log(*, webhook: Webhook, limit: int = LOG_SIZE) -> list[Delivery]:
    """The webhook's latest deliveries with their attempts (two queries)."""
    attempts = Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
    return list(Delivery.objects.filter(webhook=webhook).order_by("-id").prefetch_related(attempts)[:limit])
