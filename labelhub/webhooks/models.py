"""A campaign's webhooks and the log of what was sent to them."""

from django.conf import settings
from django.db import models

from labelhub.campaigns.models import Campaign


class Webhook(models.Model):
    """A URL that is sent the campaign's events it subscribes to, signed with its secret."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000, help_text="Where deliveries are POSTed (http or https).")
    events = models.JSONField(default=list, help_text="The event names it subscribes to.")
    description = models.CharField(max_length=200, blank=True)
    #: HMAC-SHA256 key of the signature header; shown once, when made or rotated.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True, help_text="Inactive webhooks are sent nothing.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "id"]
        indexes = [models.Index(fields=["campaign", "active"])]

    def __str__(self):
        return f"{self.campaign} → {self.url}"


class Delivery(models.Model):
    """One event for one webhook: the body (the same bytes on every attempt), and how it went."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    body = models.JSONField(help_text="What is POSTed: id, event, campaign, created_at, data.")
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Of the latest attempt.")
    error = models.TextField(blank=True, help_text="Of the latest attempt; empty when it succeeded.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["webhook", "-id"])]

    def __str__(self):
        return f"{self.event} → webhook {self.webhook_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: its answer's status code (none when no answer came), the error,
    and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_unique")]

    def __str__(self):
        return f"delivery {self.delivery_id} attempt {self.number}: {self.status_code or self.error[:40]}"
