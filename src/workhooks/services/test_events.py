"""Test events: one signed POST to a webhook's destination, on request, kept as a test.

A test event goes out through the same ``Sender`` as deliveries (the SSRF guard at connect
time, no redirects, the same timeout), signed and headed like any delivery, and lands in the
delivery history as a delivery of its own (``msg_<webhook id>_test_<nonce>``, record 0,
change version 0). It never touches the webhook: not its cursor, not its back-off, so it
never counts toward disabling. Each webhook may send a few per minute, counted in the
store so that the limit holds across every API process (``take_test_event_slot``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Protocol

import msgspec

from workhooks.documents import document_of_test_event
from workhooks.domain.deliveries import DeliveryAttempt, excerpt, message_id_of_test
from workhooks.domain.retry import FailureClass
from workhooks.domain.signing import delivery_headers
from workhooks.domain.webhooks import Webhook

__all__ = [
    "TEST_EXCERPT_BYTES",
    "EventSender",
    "SendOutcome",
    "send_test_event",
]

TEST_EXCERPT_BYTES = 4096
"""The most of the receiver's answer kept and shown for a test event."""


class SendOutcome(Protocol):
    """What one POST achieved (the delivery engine's ``SendResult`` has this shape)."""

    @property
    def status_code(self) -> int | None:
        """The HTTP status, None when there was no answer."""

    @property
    def failure(self) -> FailureClass | None:
        """None exactly when the destination answered 2xx."""

    @property
    def latency_ms(self) -> float:
        """How long the attempt took."""

    @property
    def excerpt(self) -> str:
        """The start of the answer."""

    @property
    def error(self) -> str | None:
        """What went wrong without an answer."""


class EventSender(Protocol):
    """Sends one POST as the delivery engine does (the engine's ``Sender`` is one)."""

    async def send(self, url: str, *, headers: Mapping[str, str], body: bytes) -> SendOutcome:
        """POST ``body`` to ``url``; never raises for network trouble."""
        ...


async def send_test_event(
    sender: EventSender, webhook: Webhook, *, now: dt.datetime
) -> DeliveryAttempt:
    """Sign and POST a test event to ``webhook``'s destination; return the attempt made."""
    msg_id = message_id_of_test(webhook.id, secrets.token_hex(8))
    body = msgspec.json.encode(
        document_of_test_event(
            webhook_id=webhook.id,
            collection=webhook.collection.value,
            sent_at=now.isoformat(),
        )
    )
    headers = delivery_headers(
        webhook.secret, msg_id=msg_id, timestamp=int(now.timestamp()), body=body
    )
    result = await sender.send(webhook.destination_url, headers=headers, body=body)
    return DeliveryAttempt(
        webhook_id=webhook.id,
        message_id=msg_id,
        record_id=0,
        change_version=0,
        attempted_at=now,
        succeeded=result.failure is None,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error_class=None if result.failure is None else result.failure.value,
        response_excerpt=excerpt(result.excerpt or (result.error or ""), TEST_EXCERPT_BYTES),
    )
