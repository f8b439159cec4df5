"""Searches across tenants for the console: webhooks and deliveries, keyset-paged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from workhooks.domain.deliveries import Delivery, DeliveryStatus
from workhooks.domain.webhooks import Webhook, WebhookStatus
from workhooks.errors import InvalidRequestError

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "DeliverySearch",
    "FoundDelivery",
    "LagSample",
    "MinuteRate",
    "WebhookSearch",
    "WebhookState",
    "delivery_next",
    "parse_delivery_search",
    "parse_instant",
    "parse_webhook_search",
    "webhook_next",
]

DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSearch:
    """Which live webhooks to list, ordered by ``(tenant, id)``.

    ``text`` matches a webhook id or tenant exactly, or any part of the destination URL;
    ``failing`` keeps webhooks whose last window failed; ``after`` is the ``(tenant, id)``
    of the last webhook of the previous page.
    """

    tenant: str | None = None
    status: WebhookStatus | None = None
    text: str | None = None
    failing: bool = False
    after: tuple[str, str] | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookState:
    """A webhook with what the console shows of its progress.

    ``changes_behind`` counts the change versions after its cursor up to its tenant's
    latest work interruption; ``caught_up_at`` is when it last had delivered everything.
    """

    webhook: Webhook
    changes_behind: int
    caught_up_at: dt.datetime | None

    def lag(self, now: dt.datetime) -> dt.timedelta:
        """How long the webhook has been behind (zero when it is not)."""
        if self.changes_behind <= 0:
            return dt.timedelta(0)
        since = self.caught_up_at or self.webhook.created_at
        return max(dt.timedelta(0), now - since)


@dataclass(frozen=True, slots=True, kw_only=True)
class MinuteRate:
    """How many attempts were made in one minute, and how many of them failed."""

    minute: dt.datetime
    attempts: int
    failures: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LagSample:
    """The delivery lag in one minute: how long the webhook furthest behind had been behind
    (``lag_seconds``, 0 when every enabled webhook was up to date) and how many were behind."""

    minute: dt.datetime
    lag_seconds: float
    behind: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySearch:
    """Which deliveries to list across webhooks: newest last attempt first.

    ``after`` is the ``(last_attempt_at, webhook_id, delivery id)`` of the last delivery of
    the previous page.
    """

    tenant: str | None = None
    webhook_id: str | None = None
    record_id: int | None = None
    status: DeliveryStatus | None = None
    status_code: int | None = None
    error_class: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: tuple[dt.datetime, str, str] | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundDelivery:
    """A delivery found by a search, with the tenant of its webhook."""

    tenant: str
    delivery: Delivery


def _fail(field: str, reason: str) -> InvalidRequestError:
    return InvalidRequestError(f"Invalid search parameter {field}", reasons=(f"{field}: {reason}",))


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name, "").strip()
    if len(value) > 2048:
        raise _fail(name, "at most 2048 characters")
    return value or None


def _int(params: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    value = _text(params, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise _fail(name, f"a whole number from {low} to {high}")
    return int(value)


def parse_instant(value: str, field: str) -> dt.datetime:
    """An ISO 8601 time; one without an offset is taken as UTC (as browsers send it)."""
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(field, "an ISO 8601 time, e.g. 2025-01-31T08:00:00Z") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _instant(params: Mapping[str, str], name: str) -> dt.datetime | None:
    value = _text(params, name)
    return None if value is None else parse_instant(value, name)


def _limit(params: Mapping[str, str]) -> int:
    return _int(params, "limit", low=1, high=MAX_PAGE) or DEFAULT_PAGE


def _parts(params: Mapping[str, str], count: int) -> list[str] | None:
    value = _text(params, "after")
    if value is None:
        return None
    parts = value.split("|")
    if len(parts) != count or not all(parts):
        raise _fail("after", "the value of a next-page link")
    return parts


def parse_webhook_search(params: Mapping[str, str], *, tenant: str | None) -> WebhookSearch:
    """A webhook search from query parameters: ``q``, ``status``, ``failing``, ``after``.

    A ``tenant`` given by the caller (a portal, a tenant's client) wins over the parameter.
    """
    status = _text(params, "status")
    if status is not None and status not in {s.value for s in WebhookStatus}:
        raise _fail("status", "Enabled or Disabled")
    after = _parts(params, 2)
    return WebhookSearch(
        tenant=tenant or _text(params, "tenant"),
        status=None if status is None else WebhookStatus(status),
        text=_text(params, "q"),
        failing=params.get("failing", "") in ("1", "true", "on"),
        after=None if after is None else (after[0], after[1]),
        limit=_limit(params),
    )


def webhook_next(search: WebhookSearch, found: list[WebhookState]) -> str | None:
    """The ``after`` value of the next page, when the page was full."""
    if len(found) < search.limit:
        return None
    last = found[-1].webhook
    return f"{last.tenant}|{last.id}"


def parse_delivery_search(params: Mapping[str, str], *, tenant: str | None) -> DeliverySearch:
    """A delivery search from query parameters.

    ``tenant``, ``webhook``, ``record``, ``status``, ``code``, ``error``, ``since``,
    ``until`` and ``after``; a ``tenant`` given by the caller wins over the parameter.
    """
    status = _text(params, "status")
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise _fail("status", "Succeeded or Failed")
    after = _parts(params, 3)
    return DeliverySearch(
        tenant=tenant or _text(params, "tenant"),
        webhook_id=_text(params, "webhook"),
        record_id=_int(params, "record", low=1, high=2**63 - 1),
        status=None if status is None else DeliveryStatus(status),
        status_code=_int(params, "code", low=100, high=599),
        error_class=_text(params, "error"),
        since=_instant(params, "since"),
        until=_instant(params, "until"),
        after=None if after is None else (parse_instant(after[0], "after"), after[1], after[2]),
        limit=_limit(params),
    )


def delivery_next(search: DeliverySearch, found: list[FoundDelivery]) -> str | None:
    """The ``after`` value of the next page, when the page was full."""
    if len(found) < search.limit:
        return None
    last = found[-1].delivery
    return f"{last.last_attempt_at.isoformat()}|{last.webhook_id}|{last.id}"
