"""Documents of webhooks and of their delivery history (contract B2 and B11)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import UNSET, UnsetType

from workhooks.documents.base import Document, instant_ms
from workhooks.domain.change_version import format_version
from workhooks.domain.deliveries import Delivery as DeliveryRecord
from workhooks.domain.deliveries import DeliveryAttempt as AttemptRecord
from workhooks.domain.deliveries import DeliveryStatus
from workhooks.domain.external_references import references_by_collection
from workhooks.domain.webhooks import Webhook as WebhookRecord
from workhooks.domain.webhooks import WebhookStatus

__all__ = [
    "CreatedWebhook",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryDetail",
    "DeliveryPage",
    "Webhook",
    "WebhookList",
    "attempt_document",
    "created_webhook_document",
    "delivery_detail_document",
    "delivery_document",
    "webhook_document",
]
# ``webhook_fields`` and ``delivery_fields`` are shared with the console's documents.


class Webhook(Document):
    """A webhook; never its key."""

    id: str
    validUntil: str
    status: WebhookStatus
    externalReferences: dict[str, list[str]]
    """The references rendered into every event, keys by collection: ``{"people": [...]}``."""
    destinationUrl: str
    collectionName: str


class CreatedWebhook(Document):
    """A new webhook with its private ``key``, shown this once (right after the ``id``)."""

    id: str
    key: str
    validUntil: str
    status: WebhookStatus
    externalReferences: dict[str, list[str]]
    destinationUrl: str
    collectionName: str


class WebhookList(Document):
    """The tenant's webhooks that are not deleted."""

    value: list[Webhook]


class Delivery(Document):
    """One event's delivery to one webhook."""

    id: str
    changeVersion: str
    recordId: int
    status: DeliveryStatus
    attempts: int
    firstAttemptAt: str
    lastAttemptAt: str
    lastStatusCode: int | None
    lastErrorClass: str | None
    nextAttemptAt: str | None


class DeliveryAttempt(Document):
    """One POST of an event; ``response`` is the start of the answer (or the error):
    256 bytes for a success, up to 64 KiB for the failure that decided a back-off."""

    attemptedAt: str
    succeeded: bool
    statusCode: int | None
    latencyMs: float
    errorClass: str | None
    response: str
    nextAttemptAt: str | None


class DeliveryDetail(Delivery):
    """One delivery with every attempt, oldest first."""

    attemptHistory: list[DeliveryAttempt]


class DeliveryPage(Document):
    """A page of deliveries, newest attempt first."""

    value: list[Delivery]
    nextLink: str | UnsetType = UNSET


def webhook_fields(webhook: WebhookRecord) -> dict[str, Any]:
    """The fields every webhook document starts with, by wire name."""
    return {
        "id": webhook.id,
        "validUntil": webhook.valid_until.isoformat(timespec="seconds"),
        "status": webhook.status,
        "externalReferences": references_by_collection(webhook.external_references),
        "destinationUrl": webhook.destination_url,
        "collectionName": webhook.collection.value,
    }


def webhook_document(webhook: WebhookRecord) -> Webhook:
    """The document of a webhook; it never contains the key."""
    return Webhook(**webhook_fields(webhook))


def created_webhook_document(webhook: WebhookRecord, key: str) -> CreatedWebhook:
    """The answer of a create: the webhook with its private key."""
    return CreatedWebhook(key=key, **webhook_fields(webhook))


def delivery_fields(delivery: DeliveryRecord) -> dict[str, Any]:
    """The fields every delivery document starts with, by wire name."""
    return {
        "id": delivery.id,
        "changeVersion": format_version(delivery.change_version),
        "recordId": delivery.record_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "firstAttemptAt": instant_ms(delivery.first_attempt_at),
        "lastAttemptAt": instant_ms(delivery.last_attempt_at),
        "lastStatusCode": delivery.last_status_code,
        "lastErrorClass": delivery.last_error_class,
        "nextAttemptAt": instant_ms(delivery.next_attempt_at),
    }


def delivery_document(delivery: DeliveryRecord) -> Delivery:
    """The summary of one delivery."""
    return Delivery(**delivery_fields(delivery))


def attempt_document(attempt: AttemptRecord) -> DeliveryAttempt:
    """One attempt, with the start of the receiver's answer."""
    return DeliveryAttempt(
        attemptedAt=instant_ms(attempt.attempted_at),
        succeeded=attempt.succeeded,
        statusCode=attempt.status_code,
        latencyMs=round(attempt.latency_ms, 3),
        errorClass=attempt.error_class,
        response=attempt.response_excerpt,
        nextAttemptAt=instant_ms(attempt.next_attempt_at),
    )


def delivery_detail_document(
    delivery: DeliveryRecord, attempts: Sequence[AttemptRecord]
) -> DeliveryDetail:
    """One delivery with every attempt, oldest first."""
    return DeliveryDetail(
        **delivery_fields(delivery), attemptHistory=[attempt_document(a) for a in attempts]
    )
