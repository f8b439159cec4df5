"""Webhooks and their delivery history in PostgreSQL (``WebhookStore``, ``HistoryStore``)."""

from __future__ import annotations

import datetime as dt

from workhooks.domain.deliveries import Delivery, DeliveryAttempt
from workhooks.domain.webhooks import NewWebhook, Webhook, check_webhook_limit
from workhooks.storage import rows
from workhooks.storage.postgres.base import CODEC, PostgresBase, fetch, fetchrow, run
from workhooks.storage.protocol import BacklogReport

__all__ = ["PostgresWebhooks"]


class PostgresWebhooks(PostgresBase):
    """Webhook subscriptions and what was sent to them."""

    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Insert a webhook whose cursor is the tenant's head."""
        params = rows.webhook_params(new, CODEC, self._sealer)
        async with self._tx() as conn:
            if max_enabled is not None:
                counted = await fetchrow(conn, "count_enabled_webhooks", tenant=new.tenant)
                assert counted is not None
                check_webhook_limit(counted["enabled"], max_enabled=max_enabled)
            row = await fetchrow(conn, "insert_webhook", **params)
        assert row is not None
        return self._row_webhook(row)

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """One delivery and its attempts, from one snapshot."""
        key = {"webhook_id": webhook_id, "message_id": delivery_id}
        async with self._tx() as conn:
            row = await fetchrow(conn, "get_delivery", **key)
            if row is None:
                return None
            attempts = await fetch(conn, "delivery_attempts", **key)
        return rows.delivery(row, CODEC), [rows.attempt(a, CODEC) for a in attempts]

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Delete history last tried before ``before``."""
        async with self._tx() as conn:
            status = await run(conn, "purge_attempts", before=before)
            await run(conn, "purge_deliveries", before=before)
        return int(status.rsplit(" ", 1)[1])

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Counts by status, and the webhooks behind or failing, from one snapshot."""
        async with self._tx() as conn:
            statuses = await fetch(conn, "webhooks_by_status")
            behind = await fetch(conn, "webhooks_behind", limit=limit)
        return rows.backlog_report(statuses, behind, CODEC, limit=limit)
