"""Webhooks and their delivery history in SQLite (``WebhookStore`` and ``HistoryStore``)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from workhooks.domain.deliveries import Delivery, DeliveryAttempt
from workhooks.domain.webhooks import NewWebhook, Webhook, check_webhook_limit
from workhooks.storage import rows
from workhooks.storage.protocol import BacklogReport
from workhooks.storage.sqlite.base import CODEC, Q, SqliteBase

__all__ = ["SqliteWebhooks"]


class SqliteWebhooks(SqliteBase):
    """Webhook subscriptions and what was sent to them."""

    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Insert a webhook whose cursor is the tenant's head, atomically."""
        params = rows.webhook_params(new, CODEC, self._sealer)

        def run(c: sqlite3.Connection) -> sqlite3.Row:
            if max_enabled is not None:
                (enabled,) = c.execute(Q["count_enabled_webhooks"].sql, params).fetchone()
                check_webhook_limit(enabled, max_enabled=max_enabled)
            row: sqlite3.Row = c.execute(Q["insert_webhook"].sql, params).fetchone()
            return row

        return self._row_webhook(await self._write(run))

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """One delivery and all its attempts, oldest first, from one snapshot."""
        key = {"webhook_id": webhook_id, "message_id": delivery_id}

        def run(c: sqlite3.Connection) -> tuple[Delivery, list[DeliveryAttempt]] | None:
            row = c.execute(Q["get_delivery"].sql, key).fetchone()
            if row is None:
                return None
            attempts = c.execute(Q["delivery_attempts"].sql, key).fetchall()
            return rows.delivery(row, CODEC), [rows.attempt(a, CODEC) for a in attempts]

        return await self._read(run)

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Delete attempts and deliveries last tried before ``before``; return attempts deleted."""
        params = {"before": CODEC.instant(before)}

        def run(c: sqlite3.Connection) -> int:
            deleted: int = c.execute(Q["purge_attempts"].sql, params).rowcount
            c.execute(Q["purge_deliveries"].sql, params)
            return deleted

        return await self._write(run)

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Counts by status, and the webhooks behind or failing, from one snapshot."""

        def run(c: sqlite3.Connection) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
            return (
                c.execute(Q["webhooks_by_status"].sql).fetchall(),
                c.execute(Q["webhooks_behind"].sql, {"limit": limit}).fetchall(),
            )

        statuses, behind = await self._read(run)
        return rows.backlog_report(statuses, behind, CODEC, limit=limit)
