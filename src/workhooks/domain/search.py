"""Searches across tenants for the console: webhooks and deliveries, keyset-paged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workhooks.domain.deliveries import Delivery, DeliveryStatus
from workhooks.domain.webhooks import Webhook, WebhookStatus

__all__ = ["DeliverySearch", "FoundDelivery", "WebhookSearch", "WebhookState"]


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
