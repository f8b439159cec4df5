"""Wire models of the console's API routes: bodies in, documents out (for OpenAPI too)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from workhooks.api.openapi import Delivery, Webhook
from workhooks.api.schemas import attempt_document, delivery_document, webhook_document
from workhooks.domain import deliveries
from workhooks.domain.operators import AuditEntry
from workhooks.domain.search import FoundDelivery, WebhookState

__all__ = [
    "AuditList",
    "DisableIn",
    "OperatorDeliveryPage",
    "OperatorWebhookPage",
    "PortalLink",
    "RecoverIn",
    "Recovered",
    "ResendIn",
    "SentTestEvent",
    "audit_document",
    "found_delivery_document",
    "sent_test_document",
    "state_document",
]


class DisableIn(msgspec.Struct, frozen=True):
    """The body of a disable: why (shown to the tenant)."""

    reason: str = ""


class RecoverIn(msgspec.Struct, frozen=True):
    """The body of a recover: send again everything tried since this ISO 8601 time."""

    since: str


class ResendIn(msgspec.Struct, frozen=True):
    """The body of a resend: the id of the work interruption to send again."""

    recordId: int


class SentTestEvent(msgspec.Struct):
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


class Recovered(msgspec.Struct):
    """How many change versions the webhook sends again."""

    changesSentAgain: int


class PortalLink(msgspec.Struct):
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


class OperatorWebhookPage(msgspec.Struct):
    """A page of webhooks; ``nextLink`` when more may follow."""

    value: list[OperatorWebhook]
    nextLink: str | msgspec.UnsetType = msgspec.UNSET


class OperatorDelivery(Delivery):
    """A delivery found across webhooks, with its tenant and webhook."""

    tenant: str
    webhookId: str


class OperatorDeliveryPage(msgspec.Struct):
    """A page of deliveries, newest first; ``nextLink`` when more may follow."""

    value: list[OperatorDelivery]
    nextLink: str | msgspec.UnsetType = msgspec.UNSET


class AuditItem(msgspec.Struct):
    """One line of the audit log."""

    at: str
    actor: str
    action: Literal[
        "sign-in",
        "sign-out",
        "end-sessions",
        "operator-disable",
        "disable",
        "retry-now",
        "recover",
        "resend",
        "test-event",
        "portal-link",
        "client-create",
        "client-revoke",
        "client-rotate",
    ]
    tenant: str | None
    webhookId: str | None
    detail: str


class AuditList(msgspec.Struct):
    """The latest audit entries, newest first."""

    value: list[AuditItem]


def state_document(state: WebhookState, *, now: Any) -> dict[str, Any]:
    """The JSON document of a webhook with its progress."""
    w = state.webhook
    return {
        **webhook_document(w),
        "tenant": w.tenant,
        "cursor": w.cursor,
        "changesBehind": state.changes_behind,
        "lagSeconds": state.lag(now).total_seconds(),
        "failures": w.failures,
        "nextAttemptAt": None if w.next_attempt_at is None else w.next_attempt_at.isoformat(),
        "disabledReason": w.disabled_reason,
    }


def found_delivery_document(found: FoundDelivery) -> dict[str, Any]:
    """The JSON document of a delivery found across webhooks."""
    return {
        **delivery_document(found.delivery),
        "tenant": found.tenant,
        "webhookId": found.delivery.webhook_id,
    }


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    """The JSON document of one audit entry."""
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action.value,
        "tenant": entry.tenant,
        "webhookId": entry.webhook_id,
        "detail": entry.detail,
    }


def sent_test_document(attempt: deliveries.DeliveryAttempt) -> dict[str, Any]:
    """The JSON document of a test event's attempt."""
    document = attempt_document(attempt)
    del document["nextAttemptAt"]  # a test event is never retried
    return {"id": attempt.message_id, **document}
