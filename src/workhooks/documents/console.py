"""Documents of the console's API routes: webhooks and deliveries across tenants, the audit
log, recover, resend, test events and portal links."""

from __future__ import annotations

import datetime as dt

from msgspec import UNSET, UnsetType

from workhooks.documents.base import Document, instant, instant_ms
from workhooks.documents.webhooks import Delivery, Webhook, delivery_fields, webhook_fields
from workhooks.domain.deliveries import DeliveryAttempt as AttemptRecord
from workhooks.domain.operators import AuditAction, AuditEntry
from workhooks.domain.search import FoundDelivery, WebhookState

__all__ = [
    "AuditItem",
    "AuditList",
    "OperatorDelivery",
    "OperatorDeliveryPage",
    "OperatorWebhook",
    "OperatorWebhookPage",
    "PortalLink",
    "Recovered",
    "SentTestEvent",
    "audit_document",
    "found_delivery_document",
    "portal_link_document",
    "sent_test_document",
    "state_document",
]


class Recovered(Document):
    """How many change versions the webhook sends again."""

    changesSentAgain: int


class SentTestEvent(Document):
    """The one attempt of a test event; ``id`` is its ``webhook-id`` in the delivery history.

    ``response`` is the start of the answer (up to 4 KiB) or what went wrong without one.
    """

    id: str
    attemptedAt: str
    succeeded: bool
    statusCode: int | None
    latencyMs: float
    errorClass: str | None
    response: str


class PortalLink(Document):
    """A short-lived link that signs its bearer in to one tenant's delivery portal."""

    url: str
    expiresAt: str


class OperatorWebhook(Webhook):
    """A webhook as operators see it: its tenant and progress."""

    tenant: str
    cursor: int
    changesBehind: int
    lagSeconds: float
    failures: int
    nextAttemptAt: str | None
    disabledReason: str | None


class OperatorWebhookPage(Document):
    """A page of webhooks; ``nextLink`` when more may follow."""

    value: list[OperatorWebhook]
    nextLink: str | UnsetType = UNSET


class OperatorDelivery(Delivery):
    """A delivery found across webhooks, with its tenant and webhook."""

    tenant: str
    webhookId: str


class OperatorDeliveryPage(Document):
    """A page of deliveries, newest first; ``nextLink`` when more may follow."""

    value: list[OperatorDelivery]
    nextLink: str | UnsetType = UNSET


class AuditItem(Document):
    """One line of the audit log."""

    at: str
    actor: str
    action: AuditAction
    tenant: str | None
    webhookId: str | None
    detail: str


class AuditList(Document):
    """The latest audit entries, newest first."""

    value: list[AuditItem]


def portal_link_document(url: str, expires_at: dt.datetime) -> PortalLink:
    """A portal sign-in link and when it expires."""
    return PortalLink(url=url, expiresAt=instant(expires_at))


def state_document(state: WebhookState, *, now: dt.datetime) -> OperatorWebhook:
    """A webhook with its progress."""
    w = state.webhook
    return OperatorWebhook(
        **webhook_fields(w),
        tenant=w.tenant,
        cursor=w.cursor,
        changesBehind=state.changes_behind,
        lagSeconds=state.lag(now).total_seconds(),
        failures=w.failures,
        nextAttemptAt=None if w.next_attempt_at is None else instant(w.next_attempt_at),
        disabledReason=w.disabled_reason,
    )


def found_delivery_document(found: FoundDelivery) -> OperatorDelivery:
    """A delivery found across webhooks."""
    return OperatorDelivery(
        **delivery_fields(found.delivery), tenant=found.tenant, webhookId=found.delivery.webhook_id
    )


def audit_document(entry: AuditEntry) -> AuditItem:
    """One audit entry."""
    return AuditItem(
        at=instant(entry.at),
        actor=entry.actor,
        action=entry.action,
        tenant=entry.tenant,
        webhookId=entry.webhook_id,
        detail=entry.detail,
    )


def sent_test_document(attempt: AttemptRecord) -> SentTestEvent:
    """A test event's attempt; it is never retried, so it has no next attempt."""
    return SentTestEvent(
        id=attempt.message_id,
        attemptedAt=instant_ms(attempt.attempted_at),
        succeeded=attempt.succeeded,
        statusCode=attempt.status_code,
        latencyMs=round(attempt.latency_ms, 3),
        errorClass=attempt.error_class,
        response=attempt.response_excerpt,
    )
