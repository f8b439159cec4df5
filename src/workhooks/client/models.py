"""Typed models of the Protime API's documents (frozen msgspec Structs, camelCase on the wire).

Unknown fields are ignored, so a server that adds fields does not break the client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

__all__ = [
    "TEST_CHANGE_TYPE",
    "AccessToken",
    "ChangeType",
    "CreatedWebhook",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryDetail",
    "DeltaItem",
    "Person",
    "PersonRef",
    "PersonWrite",
    "Webhook",
    "WebhookStatus",
    "WorkInterruption",
    "WorkInterruptionWrite",
    "parse_delta_item",
]


class _Model(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """Base of the wire models."""


class ChangeType(StrEnum):
    """The kinds of delta items and webhook events."""

    INSERT_OR_UPDATE = "InsertOrUpdate"
    DELETE = "Delete"


TEST_CHANGE_TYPE = "Test"
"""The ``changeType`` of a test event (sent on request, not a change): acknowledged, not applied."""


class WebhookStatus(StrEnum):
    """``Enabled`` at creation; ``Disabled`` once expired or given up on (never revived)."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"


class AccessToken(msgspec.Struct, frozen=True, kw_only=True):
    """The token endpoint's answer (OAuth 2.0 names, snake_case on the wire)."""

    access_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the token type, not a secret
    scope: str = ""


class PersonRef(_Model, frozen=True):
    """The person of a work interruption, with ``externalReferences`` when asked for."""

    id: int
    external_references: dict[str, str] | None = None


class WorkInterruption(_Model, frozen=True):
    """A work interruption as the API returns it."""

    change_version: str
    id: int
    person: PersonRef
    date: dt.date
    duration_in_minutes: int
    start_time_in_minutes: int
    end_time_in_minutes: int


class WorkInterruptionWrite(_Model, frozen=True):
    """The body of a work-interruption write (``PUT``, or one item of a batch)."""

    id: int
    person: PersonRef
    date: dt.date
    duration_in_minutes: int
    start_time_in_minutes: int
    end_time_in_minutes: int


class Person(_Model, frozen=True):
    """A person as the API returns it."""

    change_version: str
    id: int
    badge_number: str | None = None
    employee_number: str | None = None


class PersonWrite(_Model, frozen=True):
    """The body of a person write (``PUT``, or one item of a batch)."""

    id: int
    badge_number: str | None = None
    employee_number: str | None = None


class Webhook(_Model, frozen=True):
    """A webhook as ``GET /webhooks/{id}`` returns it (never with its key)."""

    id: str
    valid_until: dt.datetime
    status: WebhookStatus
    destination_url: str
    collection_name: str
    external_references: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """The references rendered into every event, keys by collection: ``{"people": [...]}``."""


class CreatedWebhook(Webhook, frozen=True, kw_only=True):
    """The answer to ``POST /webhooks``: the webhook and its private key, shown only this once."""

    key: str


class Delivery(_Model, frozen=True):
    """The summary of one event's delivery to a webhook."""

    id: str
    change_version: str
    record_id: int
    status: str
    attempts: int
    first_attempt_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    last_status_code: int | None = None
    last_error_class: str | None = None
    next_attempt_at: dt.datetime | None = None


class DeliveryAttempt(_Model, frozen=True):
    """One attempt to deliver an event."""

    attempted_at: dt.datetime
    succeeded: bool
    status_code: int | None = None
    latency_ms: float | None = None
    error_class: str | None = None
    response: str | None = None
    next_attempt_at: dt.datetime | None = None


class DeliveryDetail(Delivery, frozen=True, kw_only=True):
    """One delivery with every attempt."""

    attempt_history: list[DeliveryAttempt] = msgspec.field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeltaItem:
    """One change: a delta item or a webhook event (same shape).

    ``record`` is the new state for ``InsertOrUpdate`` and ``None`` for ``Delete``.
    """

    change_type: ChangeType
    id: int
    change_version: str
    record: WorkInterruption | None = None


class _Tombstone(_Model, frozen=True):
    change_version: str
    id: int


class _RawItem(_Model, frozen=True):
    change_type: ChangeType
    data: dict[str, Any]


def parse_delta_item(raw: Any) -> DeltaItem:
    """Convert a decoded ``{"changeType", "data"}`` document; raise ``msgspec.ValidationError``."""
    item = msgspec.convert(raw, _RawItem)
    if item.change_type is ChangeType.DELETE:
        gone = msgspec.convert(item.data, _Tombstone)
        return DeltaItem(
            change_type=item.change_type, id=gone.id, change_version=gone.change_version
        )
    record = msgspec.convert(item.data, WorkInterruption)
    return DeltaItem(
        change_type=item.change_type,
        id=record.id,
        change_version=record.change_version,
        record=record,
    )
