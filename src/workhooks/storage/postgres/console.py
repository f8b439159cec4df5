"""The ``ConsoleStore`` half of ``PostgresStore``: operators, audit log, searches, actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from workhooks.domain.deliveries import Delivery, DeliveryAttempt
from workhooks.domain.operators import AuditAction, AuditEntry, ConsoleSession, Operator
from workhooks.domain.search import (
    DeliverySearch,
    FoundDelivery,
    LagSample,
    MinuteRate,
    WebhookSearch,
    WebhookState,
)
from workhooks.domain.webhooks import Webhook
from workhooks.storage.console import delivery_query, webhook_query
from workhooks.storage.sql import load_queries

__all__ = ["PostgresConsole"]

Q = load_queries("workhooks.storage.postgres", "console.sql")


def _audit_args(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        entry.at,
        entry.actor,
        entry.action.value,
        entry.tenant,
        entry.webhook_id,
        entry.detail,
    )


def _audit(row: asyncpg.Record) -> AuditEntry:
    return AuditEntry(
        at=row["at"],
        actor=row["actor"],
        action=AuditAction(row["action"]),
        tenant=row["tenant"],
        webhook_id=row["webhook_id"],
        detail=row["detail"],
    )


class PostgresConsole:
    """Mixed into ``PostgresStore``, which provides the pool and row mappers."""

    _tx: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]
    _row_webhook: Callable[[asyncpg.Record], Webhook]
    _row_delivery: Callable[[asyncpg.Record], Delivery]

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    async def add_operator(self, operator: Operator) -> bool:
        """Store an operator; False when the name is taken."""
        rows = await self._fetch(
            Q["insert_operator"], operator.name, operator.password_hash, operator.created_at
        )
        return bool(rows)

    async def get_operator(self, name: str) -> Operator | None:
        """Return an operator by name."""
        rows = await self._fetch(Q["get_operator"], name)
        if not rows:
            return None
        row = rows[0]
        return Operator(
            name=row["name"],
            password_hash=row["password_hash"],
            created_at=row["created_at"],
            disabled_at=row["disabled_at"],
        )

    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace the hash and end the operator's sessions, in one transaction."""
        async with self._tx() as conn:
            if await conn.fetchval(Q["set_operator_password"], name, password_hash) is None:
                return False
            await conn.execute(Q["end_sessions"], sessions_of, at, None, None)
            return True

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable and end the sessions, in one transaction."""
        async with self._tx() as conn:
            if await conn.fetchval(Q["disable_operator"], name, at) is None:
                return False
            await conn.execute(Q["end_sessions"], sessions_of, at, None, None)
            return True

    async def add_session(self, session: ConsoleSession) -> None:
        """Insert and purge, in one statement."""
        await self._fetch(
            Q["insert_session"],
            session.id,
            session.actor,
            session.tenant,
            session.created_at,
            session.expires_at,
        )

    async def session_live(self, session_id: str, *, now: dt.datetime) -> bool:
        """One primary-key read."""
        return bool(await self._fetch(Q["session_live"], session_id, now))

    async def end_sessions(
        self, actor: str, *, at: dt.datetime, only: str | None = None, keep: str | None = None
    ) -> int:
        """Over the actor's index."""
        return len(await self._fetch(Q["end_sessions"], actor, at, only, keep))

    async def live_sessions(self, actor: str, *, now: dt.datetime) -> list[ConsoleSession]:
        """Newest first."""
        rows = await self._fetch(Q["live_sessions"], actor, now)
        return [
            ConsoleSession(
                id=r["id"],
                actor=r["actor"],
                tenant=r["tenant"],
                created_at=r["created_at"],
                expires_at=r["expires_at"],
            )
            for r in rows
        ]

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        await self._fetch(Q["insert_audit"], *_audit_args(entry))

    async def list_audit(self, *, tenant: str | None = None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        return [_audit(r) for r in await self._fetch(Q["list_audit"], tenant, limit)]

    async def search_webhooks(self, search: WebhookSearch) -> list[WebhookState]:
        """Ordered by ``(tenant, id)`` over the partial index of live webhooks."""
        after = search.after
        rows = await self._fetch(
            Q[webhook_query(search)],
            search.tenant,
            None if search.status is None else search.status.value,
            search.failing,
            search.text,
            None if after is None else after[0],
            None if after is None else after[1],
            search.limit,
        )
        return [
            WebhookState(
                webhook=self._row_webhook(r),
                changes_behind=r["changes_behind"],
                caught_up_at=r["caught_up_at"],
            )
            for r in rows
        ]

    async def search_deliveries(self, search: DeliverySearch) -> list[FoundDelivery]:
        """Newest last attempt first, keyset-paged."""
        after = search.after
        rows = await self._fetch(
            Q[delivery_query(search)],
            search.tenant,
            search.webhook_id,
            search.record_id,
            None if search.status is None else search.status.value,
            search.status_code,
            search.error_class,
            search.since,
            search.until,
            None if after is None else after[0],
            None if after is None else after[1],
            None if after is None else after[2],
            search.limit,
        )
        return [FoundDelivery(tenant=r["tenant"], delivery=self._row_delivery(r)) for r in rows]

    async def attempt_rates(self, *, since: dt.datetime) -> list[MinuteRate]:
        """Per minute, over the attempts' time index."""
        rows = await self._fetch(Q["attempt_rates"], since)
        return [
            MinuteRate(minute=r["minute"], attempts=r["attempts"], failures=r["failures"])
            for r in rows
        ]

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable and audit in one transaction."""
        async with self._tx() as conn:
            if await conn.fetchval(Q["disable_webhook"], tenant, webhook_id, reason) is None:
                return False
            await conn.execute(Q["insert_audit"], *_audit_args(audit))
            return True

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Bring the retry time forward to ``now`` and audit, in one transaction."""
        async with self._tx() as conn:
            if await conn.fetchval(Q["enabled_webhook_cursor"], tenant, webhook_id) is None:
                return False
            await conn.execute(Q["retry_webhook_now"], tenant, webhook_id, now)
            await conn.execute(Q["insert_audit"], *_audit_args(audit))
            return True

    async def rewind_webhook(
        self,
        tenant: str,
        webhook_id: str,
        *,
        since: dt.datetime,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move the cursor back, unsettle the tenant and audit, in one transaction.

        A worker delivering the webhook at that moment loses its compare-and-set on the
        cursor, so its window is not applied and the rewound range is sent again.
        """

        async def first(conn: asyncpg.Connection) -> int | None:
            found: int | None = await conn.fetchval(Q["first_version_since"], webhook_id, since)
            return found

        return await self._rewind(tenant, webhook_id, first, now, audit)

    async def rewind_webhook_before(
        self,
        tenant: str,
        webhook_id: str,
        *,
        version: int,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move the cursor back to just before ``version``, as a recover does."""

        async def first(_: asyncpg.Connection) -> int | None:
            return version

        return await self._rewind(tenant, webhook_id, first, now, audit)

    async def _rewind(
        self,
        tenant: str,
        webhook_id: str,
        first: Callable[[asyncpg.Connection], Awaitable[int | None]],
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        async with self._tx() as conn:
            cursor = await conn.fetchval(Q["enabled_webhook_cursor"], tenant, webhook_id)
            if cursor is None:
                return None
            version = await first(conn)
            moved = 0 if version is None else max(0, cursor - (version - 1))
            if moved:
                await conn.execute(Q["rewind_webhook"], tenant, webhook_id, cursor - moved)
                await conn.execute(Q["unsettle_tenant"], tenant, cursor - moved)
            await conn.execute(Q["retry_webhook_now"], tenant, webhook_id, now)
            await conn.execute(Q["insert_audit"], *_audit_args(audit))
            return int(moved)

    async def record_version(self, tenant: str, record_id: int) -> int | None:
        """The record's current version, tombstones included."""
        rows = await self._fetch(Q["record_version"], tenant, record_id)
        return None if not rows else int(rows[0][0])

    async def record_test_delivery(self, attempt: DeliveryAttempt) -> None:
        """The attempt and its summary, in one statement."""
        await self._fetch(
            Q["insert_test_delivery"],
            attempt.webhook_id,
            attempt.message_id,
            attempt.attempted_at,
            attempt.succeeded,
            attempt.status_code,
            attempt.latency_ms,
            attempt.error_class,
            attempt.response_excerpt,
        )

    async def client_tenants(self, *, after: str | None, limit: int) -> list[str]:
        """Over the clients' index."""
        return [str(r[0]) for r in await self._fetch(Q["client_tenants"], after, limit)]

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Upsert the minute's sample and purge old ones, in one statement."""
        await self._fetch(
            Q["upsert_lag_sample"], sample.minute, sample.lag_seconds, sample.behind, keep_after
        )

    async def lag_samples(self, *, since: dt.datetime) -> list[LagSample]:
        """Over the primary key."""
        rows = await self._fetch(Q["lag_samples"], since)
        return [
            LagSample(minute=r["minute"], lag_seconds=r["lag_seconds"], behind=r["behind"])
            for r in rows
        ]
