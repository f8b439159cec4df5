"""The ``ConsoleStore`` half of ``SqliteStore``: the console's actions of several statements.

Its one-statement use cases, rows and parameters are those of every SQL store
(``sql_console``); here are the ones that take one transaction of several statements.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable

from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.operators import AuditEntry, ConsoleSession
from workhooks.domain.search import LagSample
from workhooks.domain.webhooks import cursor_moved_back
from workhooks.storage.sql_console import (
    SqlConsole,
    audit_params,
    ending_params,
    lag_sample_params,
    session_params,
    test_delivery_params,
)
from workhooks.storage.sqlite.base import CODEC, Q, SqliteBase

__all__ = ["SqliteConsole"]


class SqliteConsole(SqliteBase, SqlConsole):
    """Operators, sessions, the audit log and operator actions on webhooks."""

    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace the hash and end the operator's sessions, in one transaction."""
        params = {"name": name, "password_hash": password_hash}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["set_operator_password"].sql, params).rowcount != 1:
                return False
            c.execute(Q["end_sessions"].sql, ending_params(sessions_of, at, CODEC))
            return True

        return await self._write(run)

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable and end the sessions, in one transaction."""
        params = {"name": name, "at": CODEC.instant(at)}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["disable_operator"].sql, params).rowcount != 1:
                return False
            c.execute(Q["end_sessions"].sql, ending_params(sessions_of, at, CODEC))
            return True

        return await self._write(run)

    async def add_session(self, session: ConsoleSession) -> None:
        """Insert, and purge the sessions expired before it began."""
        params = session_params(session, CODEC)

        def run(c: sqlite3.Connection) -> None:
            c.execute(Q["purge_sessions"].sql, {"before": params["created_at"]})
            c.execute(Q["insert_session"].sql, params)

        await self._write(run)

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable and audit in one transaction."""
        params = {"tenant": tenant, "id": webhook_id, "reason": reason}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["disable_webhook"].sql, params).rowcount != 1:
                return False
            c.execute(Q["insert_audit"].sql, audit_params(audit, CODEC))
            return True

        return await self._write(run)

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Bring the retry time forward to ``now`` and audit, in one transaction."""
        key = {"tenant": tenant, "id": webhook_id}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["enabled_webhook_cursor"].sql, key).fetchone() is None:
                return False
            c.execute(Q["retry_webhook_now"].sql, {**key, "now": CODEC.instant(now)})
            c.execute(Q["insert_audit"].sql, audit_params(audit, CODEC))
            return True

        return await self._write(run)

    async def rewind_webhook(
        self,
        tenant: str,
        webhook_id: str,
        *,
        since: dt.datetime,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move the cursor back, unsettle the tenant and audit, in one transaction."""

        def first(c: sqlite3.Connection) -> int | None:
            params = {"id": webhook_id, "since": CODEC.instant(since)}
            found: int | None = c.execute(Q["first_version_since"].sql, params).fetchone()[0]
            return found

        return await self._write(lambda c: _rewind(c, tenant, webhook_id, first, now, audit))

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
        return await self._write(
            lambda c: _rewind(c, tenant, webhook_id, lambda _: version, now, audit)
        )

    async def record_test_delivery(self, attempt: DeliveryAttempt) -> None:
        """The attempt and its summary, in one transaction."""
        params = test_delivery_params(attempt, CODEC)

        def run(c: sqlite3.Connection) -> None:
            c.execute(Q["insert_test_attempt"].sql, params)
            c.execute(Q["insert_test_delivery"].sql, params)

        await self._write(run)

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Upsert the minute's sample and purge old ones, in one transaction."""
        params = lag_sample_params(sample, keep_after, CODEC)

        def run(c: sqlite3.Connection) -> None:
            c.execute(Q["upsert_lag_sample"].sql, params)
            c.execute(Q["purge_lag_samples"].sql, params)

        await self._write(run)


def _rewind(
    c: sqlite3.Connection,
    tenant: str,
    webhook_id: str,
    first: Callable[[sqlite3.Connection], int | None],
    now: dt.datetime,
    audit: AuditEntry,
) -> int | None:
    """Move an enabled webhook's cursor back before version ``first(c)``; cut its back-off.

    Returns the change versions moved back, None when the webhook is not enabled.
    """
    key = {"tenant": tenant, "id": webhook_id}
    row = c.execute(Q["enabled_webhook_cursor"].sql, key).fetchone()
    if row is None:
        return None
    moved = cursor_moved_back(row["cursor"], first(c))
    if moved:
        cursor = row["cursor"] - moved
        c.execute(Q["rewind_webhook"].sql, {**key, "cursor": cursor})
        c.execute(Q["unsettle_tenant"].sql, {"tenant": tenant, "cursor": cursor})
    c.execute(Q["retry_webhook_now"].sql, {**key, "now": CODEC.instant(now)})
    c.execute(Q["insert_audit"].sql, audit_params(audit, CODEC))
    return moved
