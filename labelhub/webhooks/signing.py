"""How deliveries are signed, and how a receiver checks them (docs/leads.md, "Webhooks").

Each attempt is POSTed with

- ``X-LabelHub-Timestamp``: the attempt's time, in whole seconds since the epoch;
- ``X-LabelHub-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the webhook's
  secret, of ``<timestamp>.`` followed by the exact body bytes.

The timestamp is inside the signature, so a receiver that refuses timestamps older than a few
minutes (:data:`TOLERANCE_SECONDS`) cannot be fed a captured delivery again later; the
delivery id (``X-LabelHub-Delivery``, also the body's ``id``) lets it drop a retry it has
already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300
PREFIX = "sha256="


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def verify(*, secret: str, timestamp: str, signature_header: str, body: bytes, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret=secret, timestamp=sent, body=body), signature_header or "")
