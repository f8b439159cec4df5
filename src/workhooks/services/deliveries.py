"""Delivery history use cases (contract B11): list a webhook's deliveries, show one.

Both answer for soft-deleted webhooks too: that is when people debug them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Protocol

from workhooks.domain.deliveries import (
    Delivery,
    DeliveryAttempt,
    DeliveryQuery,
    DeliveryStatus,
    is_message_id,
)
from workhooks.domain.filter_specs import DELIVERIES_FILTER, conditions, parse_filter
from workhooks.domain.filters import Comparison, InList, Operator
from workhooks.domain.token_payloads import HistoryCursor
from workhooks.domain.tokens import TokenCodec
from workhooks.domain.webhooks import is_webhook_id
from workhooks.errors import InvalidContinuationTokenError, InvalidFilterError, NotFoundError
from workhooks.storage.protocol import HistoryStore, WebhookStore

__all__ = ["DeliveryHistoryService", "DeliveryPage", "HistoryServiceStore"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPage:
    """One page of deliveries; ``continuation`` is set when more may follow."""

    deliveries: list[Delivery]
    continuation: str | None


def _query_from_filter(webhook_id: str, filter_text: str | None) -> DeliveryQuery:
    if filter_text is None:
        return DeliveryQuery(webhook_id=webhook_id)
    statuses: frozenset[DeliveryStatus] | None = None
    since = until = None
    for condition in conditions(parse_filter(filter_text, DELIVERIES_FILTER)):
        if condition.field == "status":
            values = condition.values if isinstance(condition, InList) else (condition.value,)
            chosen = frozenset(DeliveryStatus(str(v)) for v in values)
            statuses = chosen if statuses is None else statuses & chosen
        elif isinstance(condition, Comparison):
            at = _instant(condition)
            if condition.op is Operator.GE:
                since = at if since is None else max(since, at)
            else:
                until = at if until is None else min(until, at)
    return DeliveryQuery(webhook_id=webhook_id, statuses=statuses, since=since, until=until)


def _instant(condition: Comparison) -> dt.datetime:
    """The aware datetime of a validated ``lastAttemptAt`` condition."""
    field = DELIVERIES_FILTER.field(condition.field)
    value = None if field is None else field.convert(condition.value)
    if not isinstance(value, dt.datetime):
        raise InvalidFilterError(
            "lastAttemptAt needs a time", reasons=(f"{condition.field}: not a time",)
        )
    return value


class HistoryServiceStore(WebhookStore, HistoryStore, Protocol):
    """What the delivery history reads: the webhook, then its deliveries."""


class DeliveryHistoryService:
    """Reads the delivery history of a tenant's webhooks."""

    def __init__(self, store: HistoryServiceStore, *, tokens: TokenCodec, page_size: int) -> None:
        self._store = store
        self._tokens = tokens
        self._page_size = page_size

    async def _check_webhook(self, tenant: str, webhook_id: str) -> None:
        if (
            not is_webhook_id(webhook_id)
            or await self._store.get_webhook(tenant, webhook_id) is None
        ):
            raise NotFoundError(f"Webhook {webhook_id[:80]!r} does not exist")

    async def page(
        self,
        tenant: str,
        webhook_id: str,
        *,
        filter_text: str | None = None,
        continuation: str | None = None,
    ) -> DeliveryPage:
        """One page of the webhook's deliveries, newest first, filtered on status and time."""
        await self._check_webhook(tenant, webhook_id)
        query = _query_from_filter(webhook_id, filter_text)
        scope = hashlib.sha256(f"{webhook_id}\x00{filter_text or ''}".encode()).hexdigest()[:32]
        after = None
        if continuation is not None:
            cursor = self._tokens.open(HistoryCursor, continuation, tenant=tenant)
            if cursor.scope != scope:
                raise InvalidContinuationTokenError.malformed()
            after = (cursor.last_attempt_at, cursor.delivery_id)
        found = await self._store.list_deliveries(
            DeliveryQuery(
                webhook_id=webhook_id,
                statuses=query.statuses,
                since=query.since,
                until=query.until,
                after=after,
                limit=self._page_size + 1,
            )
        )
        page, more = found[: self._page_size], len(found) > self._page_size
        token = None
        if more:
            last = page[-1]
            token = self._tokens.seal(
                HistoryCursor(
                    scope=scope, last_attempt_at=last.last_attempt_at, delivery_id=last.id
                ),
                tenant=tenant,
            )
        return DeliveryPage(deliveries=page, continuation=token)

    async def get(
        self, tenant: str, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]]:
        """One delivery with every attempt, oldest first."""
        await self._check_webhook(tenant, webhook_id)
        found = (
            await self._store.get_delivery(webhook_id, delivery_id)
            if is_message_id(delivery_id)
            else None
        )
        if found is None:
            raise NotFoundError(
                f"Delivery {delivery_id[:80]} of webhook {webhook_id} does not exist"
            )
        return found
