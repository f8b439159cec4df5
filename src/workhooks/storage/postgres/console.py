"""The ``ConsoleStore`` half of ``PostgresStore``: the console's actions of several statements.

Its one-statement use cases, rows and parameters are those of every SQL store
(``sql_console``); here are the actions that take one transaction, and the writes that are
one statement on PostgreSQL alone (``console_writes.sql``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import asyncpg

from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.operators import AuditEntry, ConsoleSession
from workhooks.domain.search import LagSample
from workhooks.domain.webhooks import cursor_moved_back
from workhooks.storage.postgres.base import CODEC, PostgresBase, fetchrow, run
from workhooks.storage.sql_console import (
    SqlConsole,
    audit_params,
    ending_params,
    lag_sample_params,
    session_params,
    test_delivery_params,
)

__all__ = ["PostgresConsole"]


def _one(status: str) -> bool:
    """Whether a statement touched exactly one row (its status is ``UPDATE 1``...)."""
    return status.endswith(" 1")


class PostgresConsole(PostgresBase, SqlConsole):
    """Operators, sessions, the audit log and operator actions on webhooks."""

    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace the hash and end the operator's sessions, in one transaction."""
        async with self._tx() as conn:
            params = {"name": name, "password_hash": password_hash}
            if not _one(await run(conn, "set_operator_password", **params)):
                return False
            await run(conn, "end_sessions", **ending_params(sessions_of, at, CODEC))
            return True

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable and end the sessions, in one transaction."""
        async with self._tx() as conn:
            if not _one(await run(conn, "disable_operator", name=name, at=at)):
                return False
            await run(conn, "end_sessions", **ending_params(sessions_of, at, CODEC))
            return True

    async def add_session(self, session: ConsoleSession) -> None:
        """Insert and purge, in one statement."""
        await self._change("start_session", session_params(session, CODEC))

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable and audit in one transaction."""
        async with self._tx() as conn:
            params = {"tenant": tenant, "id": webhook_id, "reason": reason}
            if not _one(await run(conn, "disable_webhook", **params)):
                return False
            await run(conn, "insert_audit", **audit_params(audit, CODEC))
            return True

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Bring the retry time forward to ``now`` and audit, in one transaction."""
        async with self._tx() as conn:
            key = {"tenant": tenant, "id": webhook_id}
            if await fetchrow(conn, "enabled_webhook_cursor", **key) is None:
                return False
            await run(conn, "retry_webhook_now", **key, now=now)
            await run(conn, "insert_audit", **audit_params(audit, CODEC))
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
            row = await fetchrow(conn, "first_version_since", id=webhook_id, since=since)
            return None if row is None else row["first_version"]

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
            key = {"tenant": tenant, "id": webhook_id}
            row = await fetchrow(conn, "enabled_webhook_cursor", **key)
            if row is None:
                return None
            moved = cursor_moved_back(row["cursor"], await first(conn))
            if moved:
                cursor = row["cursor"] - moved
                await run(conn, "rewind_webhook", **key, cursor=cursor)
                await run(conn, "unsettle_tenant", tenant=tenant, cursor=cursor)
            await run(conn, "retry_webhook_now", **key, now=now)
            await run(conn, "insert_audit", **audit_params(audit, CODEC))
            return moved

    async def record_test_delivery(self, attempt: DeliveryAttempt) -> None:
        """The attempt and its summary, in one statement."""
        await self._change("record_test_delivery", test_delivery_params(attempt, CODEC))

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Upsert the minute's sample and purge old ones, in one statement."""
        await self._change("keep_lag_sample", lag_sample_params(sample, keep_after, CODEC))
