"""Deliveries reach a real receiver on 127.0.0.1 through the real job worker: signed with the
webhook's secret and a timestamp, retried with back-off after a failure, given up after the
last attempt, every attempt logged. Queued in the event's transaction: a rollback sends nothing."""

import hashlib
import hmac
import json
import socket
import time

import pytest
from django.db import transaction
from django.utils import timezone

from labelhub.core import webhooks
from labelhub.webhooks import services
from labelhub.webhooks.models import Delivery
from labelhub.webhooks.signing import verify
from tests.webhooks.conftest import deliver_jobs, make_due, work

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hook(campaign, lead, receiver):
    return services.webhook_create(campaign=campaign, user=lead, url=receiver.url,
                                   events=[webhooks.SNAPSHOT_WRITTEN, webhooks.RUN_FINISHED])


def emit_snapshot(campaign):
    with transaction.atomic():
        webhooks.emit(campaign, webhooks.SNAPSHOT_WRITTEN, {"snapshot": {"id": 7, "version": 3}})


def test_it_posts_the_event_signed_with_the_secret_and_a_timestamp(campaign, hook, receiver):
    emit_snapshot(campaign)
    work()
    [got] = receiver.received
    assert got.path == "/hooks/labelhub"
    body = json.loads(got.body)
    delivery = Delivery.objects.get()
    assert body == {"id": delivery.pk, "event": "snapshot.written", "created_at": delivery.created_at.isoformat(),
                    "campaign": {"id": campaign.pk, "slug": "helpful", "name": "Helpful answers"},
                    "data": {"snapshot": {"id": 7, "version": 3}}}
    headers = got.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-labelhub-event"] == "snapshot.written"
    assert headers["x-labelhub-delivery"] == str(delivery.pk)
    timestamp = headers["x-labelhub-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(hook.secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert headers["x-labelhub-signature"] == f"sha256={expected}"
    assert verify(secret=hook.secret, timestamp=timestamp, signature_header=headers["x-labelhub-signature"],
                  body=got.body)
    assert not verify(secret="whsec_wrong", timestamp=timestamp, signature_header=headers["x-labelhub-signature"],
                      body=got.body)
    assert not verify(secret=hook.secret, timestamp=timestamp, signature_header=headers["x-labelhub-signature"],
                      body=got.body.replace(b"7", b"8"))
    # a captured delivery replayed later is refused by its timestamp
    assert not verify(secret=hook.secret, timestamp=timestamp, signature_header=headers["x-labelhub-signature"],
                      body=got.body, now=int(timestamp) + 301)
    assert (delivery.state, delivery.attempts, delivery.status_code, delivery.error) == ("succeeded", 1, 200, "")
    [attempt] = delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.duration_ms < 5000
    assert [job.status for job in deliver_jobs()] == ["succeeded"]


def test_it_retries_after_a_500_with_back_off_and_logs_each_attempt(campaign, hook, receiver):
    receiver.answers = [500]
    emit_snapshot(campaign)
    work()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("pending", 1, 500)
    assert delivery.error == "HTTP 500: boom"
    [job] = deliver_jobs()
    assert job.status == "todo" and job.scheduled_at > timezone.now()  # waits out its back-off
    work()
    assert len(receiver.received) == 1  # not due yet: nothing sent
    make_due(job)
    work()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.status_code, delivery.error) == ("succeeded", 2, 200, "")
    assert [(a.number, a.status_code, a.error) for a in delivery.attempt_log.all()] == [
        (1, 500, "HTTP 500: boom"), (2, 200, "")]
    first, second = (json.loads(r.body) for r in receiver.received)
    assert first == second  # the same body each time; each attempt signed afresh
    assert receiver.received[1].headers["x-labelhub-attempt"] == "2"


def test_it_gives_up_after_the_last_attempt(campaign, hook, receiver):
    receiver.answers = [503] * (services.MAX_ATTEMPTS + 2)
    emit_snapshot(campaign)
    work()
    for _ in range(services.MAX_ATTEMPTS - 1):
        [job] = deliver_jobs()
        assert job.status == "todo"
        make_due(job)
        work()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("failed", services.MAX_ATTEMPTS, 503)
    assert delivery.finished_at is not None
    assert [a.number for a in delivery.attempt_log.all()] == list(range(1, services.MAX_ATTEMPTS + 1))
    assert [job.status for job in deliver_jobs()] == ["failed"]
    assert len(receiver.received) == services.MAX_ATTEMPTS


def test_it_logs_a_receiver_that_does_not_answer_and_a_redirect_as_failures(campaign, lead, receiver):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    services.webhook_create(campaign=campaign, user=lead, url=f"http://127.0.0.1:{closed}/x",
                            events=[webhooks.SNAPSHOT_WRITTEN])
    services.webhook_create(campaign=campaign, user=lead, url=receiver.url, events=[webhooks.SNAPSHOT_WRITTEN])
    receiver.answers = [302]
    emit_snapshot(campaign)
    work()
    refused, redirected = Delivery.objects.order_by("webhook_id")
    assert refused.status_code is None and "Connection refused" in refused.error
    assert (redirected.status_code, redirected.error) == (302, "HTTP 302: redirects are not followed")
    assert refused.state == redirected.state == "pending"
    assert len(receiver.received) == 1  # the redirect's target was not asked


def test_it_sends_nothing_when_the_events_transaction_rolls_back(campaign, hook, receiver):
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks.emit(campaign, webhooks.SNAPSHOT_WRITTEN, {"snapshot": {"id": 1}})
        raise RuntimeError("the snapshot failed after all")
    work()
    assert not Delivery.objects.exists() and deliver_jobs() == [] and receiver.received == []


def test_it_sends_only_to_active_webhooks_subscribed_to_the_event(campaign, lead, hook, receiver):
    services.webhook_create(campaign=campaign, user=lead, url=receiver.url + "?off", events=[webhooks.SNAPSHOT_WRITTEN],
                            active=False)
    services.webhook_create(campaign=campaign, user=lead, url=receiver.url + "?other",
                            events=[webhooks.LABELER_PAUSED])
    webhooks.emit(campaign, webhooks.SNAPSHOT_WRITTEN, {})
    work()
    assert [r.path for r in receiver.received] == ["/hooks/labelhub"]
    assert Delivery.objects.get().webhook == hook


def test_a_webhook_deactivated_before_its_delivery_is_sent_nothing(campaign, hook, receiver):
    emit_snapshot(campaign)
    services.webhook_update(webhook=hook, active=False)
    work()
    delivery = Delivery.objects.get()
    assert receiver.received == []
    assert (delivery.state, delivery.error) == ("failed", "the webhook was deactivated; nothing was sent")
    assert [job.status for job in deliver_jobs()] == ["failed"]

