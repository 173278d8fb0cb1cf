"""The delivery job (procrastinate autodiscovers this module). ``services`` queues it by name
(``services.DELIVER_JOB``) in the transaction of the event, and never imports this module."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from labelhub.webhooks import services
from labelhub.webhooks.models import Delivery

#: A failed attempt is tried again after 4, 16, 64, 256 and 1024 s (six attempts in ~23 min).


class DeliveryFailed(Exception):
    """The attempt failed: the job fails, and procrastinate retries it while attempts are left."""


class DeliveryGaveUp(Exception):
    """The last attempt failed (or the webhook was deactivated): the job fails for good."""


DELIVERY_RETRY = RetryStrategy(max_attempts=services.MAX_ATTEMPTS - 1, exponential_wait=4,
                               retry_exceptions={DeliveryFailed})


@app.task(queue="webhooks", name=services.DELIVER_JOB, retry=DELIVERY_RETRY)
def deliver(delivery_id: int) -> str:
    """POST one delivery once (``services.delivery_attempt``); raise so that it is retried."""
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return "nothing to send"
    if delivery.state == Delivery.State.SUCCEEDED:
        return f"delivered (HTTP {delivery.status_code}, attempt {delivery.attempts})"
    what = f"delivery {delivery_id} attempt {delivery.attempts} of {services.MAX_ATTEMPTS}: {delivery.error}"
    if delivery.state == Delivery.State.FAILED:
        raise DeliveryGaveUp(what)
    raise DeliveryFailed(what)
