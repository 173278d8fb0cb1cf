"""Writes for webhooks: register, change, rotate the secret, delete; queue a delivery for each
subscribed webhook when an event happens (:func:`deliveries_queue`, connected to
``labelhub.core.webhooks.emit``); make one attempt at a delivery (:func:`delivery_attempt`,
from the job in ``tasks.py``, which retries it with back-off).

Delivery goes where a lead or engineer points it: any http(s) URL, also on the server's own
network. Other schemes are refused, redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from http.client import HTTPException
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labelhub.campaigns.models import Campaign
from labelhub.core.db import job_defer
from labelhub.core.webhooks import EVENTS
from labelhub.webhooks.models import Delivery, DeliveryAttempt, Webhook
from labelhub.webhooks.signing import signature

logger = logging.getLogger(__name__)

#: The delivery job (declared in ``tasks.py``), queued by name in the event's transaction.
DELIVER_JOB = "webhooks.deliver"
#: How many times a delivery is tried in all (the job's retry strategy allows one fewer retries).
MAX_ATTEMPTS = 6
#: The most of a failed answer's body kept in the log.
ERROR_EXCERPT = 500
USER_AGENT = "LabelHub-Webhooks/1"


class WebhookInvalid(Exception):
    """The request cannot make or change a webhook; ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook's address, or None."""
    if not isinstance(url, str) or not url.strip():
        return "Give the URL deliveries are POSTed to."
    if url != url.strip() or any(c.isspace() for c in url):
        return "The URL may not contain spaces."
    if len(url) > 2000:
        return "At most 2000 characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
    except ValueError as exc:
        return f"Not a URL: {exc}."
    if parts.scheme not in ("http", "https"):
        return "Only http:// and https:// URLs are allowed."
    if not parts.hostname:
        return "The URL needs a host, e.g. https://example.org/hooks/labelhub."
    return None


def events_problem(events) -> str | None:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        return "Choose at least one event."
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        return f"Unknown event {unknown[0]!r}; choose from {', '.join(EVENTS)}."
    return None


def _checked(*, url=None, events=None, description=None) -> None:
    errors = {}
    if url is not None and (problem := url_problem(url)):
        errors["url"] = problem
    if events is not None and (problem := events_problem(events)):
        errors["events"] = problem
    if description is not None and len(description) > 200:
        errors["description"] = "At most 200 characters."
    if errors:
        raise WebhookInvalid(errors)


def _ordered(events: list[str]) -> list[str]:
    return [e for e in EVENTS if e in set(events)]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_create(*, campaign: Campaign, user, url: str, events: list[str], description: str = "",
                   active: bool = True) -> Webhook:
    """Register a webhook; its ``secret`` is readable on the returned object (show it once)."""
    _checked(url=url, events=events, description=description)
    return Webhook.objects.create(campaign=campaign, url=url, events=_ordered(events), description=description,
                                  active=active, secret=new_secret(),
                                  created_by=user if user is not None and user.is_authenticated else None)


def webhook_update(*, webhook: Webhook, **fields) -> Webhook:
    """Change ``url``, ``events``, ``description`` or ``active``."""
    _checked(url=fields.get("url"), events=fields.get("events"), description=fields.get("description"))
    if "events" in fields:
        fields["events"] = _ordered(fields["events"])
    changed = [name for name, value in fields.items() if getattr(webhook, name) != value]
    for name in changed:
        setattr(webhook, name, fields[name])
    if changed:
        webhook.save(update_fields=changed)
    return webhook


def webhook_secret_rotate(*, webhook: Webhook) -> Webhook:
    """A new secret (the old one stops working at once; deliveries still to be tried use the new)."""
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete a webhook and its log; its pending deliveries' jobs then find nothing to send."""
    webhook.delete()


# --- events and deliveries --------------------------------------------------------------------


def deliveries_queue(*, campaign_id: int, event: str, payload: dict) -> list[Delivery]:
    """One delivery (and its job) per active webhook of the campaign subscribed to ``event``, in
    the caller's transaction. One query when no webhook listens."""
    hooks = list(Webhook.objects.filter(campaign_id=campaign_id, active=True, events__contains=[event])
                 .select_related("campaign").only("id", "campaign__id", "campaign__slug", "campaign__name"))
    deliveries = []
    for hook in hooks:
        with transaction.atomic():
            delivery = Delivery.objects.create(webhook=hook, event=event, body={})
            delivery.body = {
                "id": delivery.pk, "event": event, "created_at": delivery.created_at.isoformat(),
                "campaign": {"id": hook.campaign.pk, "slug": hook.campaign.slug, "name": hook.campaign.name},
                "data": payload,
            }
            delivery.save(update_fields=["body"])
            job_defer(DELIVER_JOB, delivery_id=delivery.pk)
        deliveries.append(delivery)
    return deliveries


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx comes back as an HTTPError: a failed attempt


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST and return (status code or None, error text; empty for a 2xx answer)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.LABELHUB_WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        try:
            excerpt = exc.read(ERROR_EXCERPT).decode("utf-8", "replace").strip()
        except (OSError, HTTPException):
            excerpt = ""
        what = "redirects are not followed" if 300 <= exc.code < 400 else excerpt
        return exc.code, f"HTTP {exc.code}" + (f": {what}" if what else "")
    except (urllib.error.URLError, OSError, HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return None, f"{type(exc).__name__}: {reason}"[:ERROR_EXCERPT]


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """POST a pending delivery once, log the attempt, and settle the delivery: delivered on a
    2xx answer, given up after :data:`MAX_ATTEMPTS`, else still pending (the job retries).
    None when there is nothing to send (the webhook was deleted, or the delivery is settled)."""
    delivery = Delivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != Delivery.State.PENDING:
        return None
    hook = delivery.webhook
    number = delivery.attempts + 1
    if not hook.active:
        status, error, elapsed = None, "the webhook was deactivated; nothing was sent", 0.0
    else:
        body = json.dumps(delivery.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-LabelHub-Event": delivery.event, "X-LabelHub-Delivery": str(delivery.pk),
            "X-LabelHub-Attempt": str(number), "X-LabelHub-Timestamp": str(timestamp),
            "X-LabelHub-Signature": signature(secret=hook.secret, timestamp=timestamp, body=body),
        }
        started = time.monotonic()
        status, error = _post(hook.url, body, headers)
        elapsed = time.monotonic() - started
    ok = not error and status is not None and 200 <= status < 300
    return _attempt_record(delivery, number=number, status=status, error=error, elapsed=elapsed, ok=ok,
                           give_up=not hook.active)


@transaction.atomic
def _attempt_record(delivery: Delivery, *, number, status, error, elapsed, ok, give_up) -> Delivery:
    DeliveryAttempt.objects.create(delivery=delivery, number=number, status_code=status, error=error,
                                   duration_ms=round(elapsed * 1000))
    delivery.attempts, delivery.status_code, delivery.error = number, status, error
    if ok:
        delivery.state, delivery.finished_at = Delivery.State.SUCCEEDED, timezone.now()
    elif give_up or number >= MAX_ATTEMPTS:
        delivery.state, delivery.finished_at = Delivery.State.FAILED, timezone.now()
    delivery.save(update_fields=["attempts", "status_code", "error", "state", "finished_at"])
    if not ok:
        logger.info("webhook %s: delivery %s attempt %s failed: %s", delivery.webhook_id, delivery.pk, number, error)
    return delivery
