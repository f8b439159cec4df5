"""The ``ConsoleStore`` half of ``SqliteStore``: operators, audit log, searches, actions."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryStatus
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

__all__ = ["SqliteConsole"]

T = TypeVar("T")
Q = load_queries("workhooks.storage.sqlite", "console.sql")


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _ts_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _audit_params(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": _ts(entry.at),
        "actor": entry.actor,
        "action": entry.action.value,
        "tenant": entry.tenant,
        "webhook_id": entry.webhook_id,
        "detail": entry.detail,
    }


def _audit(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        at=dt.datetime.fromisoformat(row["at"]),
        actor=row["actor"],
        action=AuditAction(row["action"]),
        tenant=row["tenant"],
        webhook_id=row["webhook_id"],
        detail=row["detail"],
    )


class SqliteConsole:
    """Mixed into ``SqliteStore``, which provides the transactions and row mappers."""

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    _row_webhook: Callable[[sqlite3.Row], Webhook]
    _row_delivery: Callable[[sqlite3.Row], Delivery]

    async def add_operator(self, operator: Operator) -> bool:
        """Store an operator; False when the name is taken."""
        params = {
            "name": operator.name,
            "password_hash": operator.password_hash,
            "created_at": _ts(operator.created_at),
        }
        return await self._write(lambda c: c.execute(Q["insert_operator"], params).rowcount == 1)

    async def get_operator(self, name: str) -> Operator | None:
        """Return an operator by name."""
        row = await self._read(lambda c: c.execute(Q["get_operator"], {"name": name}).fetchone())
        if row is None:
            return None
        return Operator(
            name=row["name"],
            password_hash=row["password_hash"],
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            disabled_at=None if row["disabled_at"] is None else _parse(row["disabled_at"]),
        )

    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace the hash and end the operator's sessions, in one transaction."""
        params = {"name": name, "password_hash": password_hash}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["set_operator_password"], params).rowcount != 1:
                return False
            c.execute(Q["end_sessions"], _ending(sessions_of, at))
            return True

        return await self._write(run)

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable and end the sessions, in one transaction."""

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["disable_operator"], {"name": name, "at": _ts(at)}).rowcount != 1:
                return False
            c.execute(Q["end_sessions"], _ending(sessions_of, at))
            return True

        return await self._write(run)

    async def add_session(self, session: ConsoleSession) -> None:
        """Insert, and purge the sessions expired before it began."""
        params = {
            "id": session.id,
            "actor": session.actor,
            "tenant": session.tenant,
            "created_at": _ts(session.created_at),
            "expires_at": _ts(session.expires_at),
        }

        def run(c: sqlite3.Connection) -> None:
            c.execute(Q["purge_sessions"], {"before": _ts(session.created_at)})
            c.execute(Q["insert_session"], params)

        await self._write(run)

    async def session_live(self, session_id: str, *, now: dt.datetime) -> bool:
        """One primary-key read."""
        params = {"id": session_id, "now": _ts(now)}
        row = await self._read(lambda c: c.execute(Q["session_live"], params).fetchone())
        return row is not None

    async def end_sessions(
        self, actor: str, *, at: dt.datetime, only: str | None = None, keep: str | None = None
    ) -> int:
        """Over the actor's index."""
        params = _ending(actor, at, only=only, keep=keep)
        ended: int = await self._write(lambda c: c.execute(Q["end_sessions"], params).rowcount)
        return ended

    async def live_sessions(self, actor: str, *, now: dt.datetime) -> list[ConsoleSession]:
        """Newest first."""
        params = {"actor": actor, "now": _ts(now)}
        rows = await self._read(lambda c: c.execute(Q["live_sessions"], params).fetchall())
        return [
            ConsoleSession(
                id=r["id"],
                actor=r["actor"],
                tenant=r["tenant"],
                created_at=_parse(r["created_at"]),
                expires_at=_parse(r["expires_at"]),
            )
            for r in rows
        ]

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        await self._write(lambda c: c.execute(Q["insert_audit"], _audit_params(entry)))

    async def list_audit(self, *, tenant: str | None = None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        params = {"tenant": tenant, "limit": limit}
        rows = await self._read(lambda c: c.execute(Q["list_audit"], params).fetchall())
        return [_audit(r) for r in rows]

    async def search_webhooks(self, search: WebhookSearch) -> list[WebhookState]:
        """Ordered by ``(tenant, id)`` over the partial index of live webhooks."""
        params = {
            "tenant": search.tenant,
            "status": None if search.status is None else search.status.value,
            "failing": int(search.failing),
            "text": search.text,
            "after_tenant": None if search.after is None else search.after[0],
            "after_id": None if search.after is None else search.after[1],
            "limit": search.limit,
        }
        query = Q[webhook_query(search)]
        rows = await self._read(lambda c: c.execute(query, params).fetchall())
        return [
            WebhookState(
                webhook=self._row_webhook(r),
                changes_behind=r["changes_behind"],
                caught_up_at=None if r["caught_up_at"] is None else _parse(r["caught_up_at"]),
            )
            for r in rows
        ]

    async def search_deliveries(self, search: DeliverySearch) -> list[FoundDelivery]:
        """Newest last attempt first, keyset-paged."""
        after = search.after
        params = {
            "tenant": search.tenant,
            "webhook_id": search.webhook_id,
            "record_id": search.record_id,
            "status": None if search.status is None else DeliveryStatus(search.status).value,
            "status_code": search.status_code,
            "error_class": search.error_class,
            "since": _ts_or_none(search.since),
            "until": _ts_or_none(search.until),
            "after_at": None if after is None else _ts(after[0]),
            "after_webhook": None if after is None else after[1],
            "after_id": None if after is None else after[2],
            "limit": search.limit,
        }
        query = Q[delivery_query(search)]
        rows = await self._read(lambda c: c.execute(query, params).fetchall())
        return [FoundDelivery(tenant=r["tenant"], delivery=self._row_delivery(r)) for r in rows]

    async def attempt_rates(self, *, since: dt.datetime) -> list[MinuteRate]:
        """Per minute, over the attempts' time index."""
        rows = await self._read(
            lambda c: c.execute(Q["attempt_rates"], {"since": _ts(since)}).fetchall()
        )
        return [
            MinuteRate(
                minute=dt.datetime.fromisoformat(f"{r['minute']}:00+00:00"),
                attempts=r["attempts"],
                failures=r["failures"],
            )
            for r in rows
        ]

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable and audit in one transaction."""
        params = {"tenant": tenant, "id": webhook_id, "reason": reason}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["disable_webhook"], params).rowcount != 1:
                return False
            c.execute(Q["insert_audit"], _audit_params(audit))
            return True

        return await self._write(run)

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Bring the retry time forward to ``now`` and audit, in one transaction."""
        key = {"tenant": tenant, "id": webhook_id}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["enabled_webhook_cursor"], key).fetchone() is None:
                return False
            c.execute(Q["retry_webhook_now"], {**key, "now": _ts(now)}).fetchall()
            c.execute(Q["insert_audit"], _audit_params(audit))
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
            params = {"id": webhook_id, "since": _ts(since)}
            found: int | None = c.execute(Q["first_version_since"], params).fetchone()[0]
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

    async def record_version(self, tenant: str, record_id: int) -> int | None:
        """The record's current version, tombstones included."""
        params = {"tenant": tenant, "id": record_id}
        row = await self._read(lambda c: c.execute(Q["record_version"], params).fetchone())
        return None if row is None else int(row[0])

    async def record_test_delivery(self, attempt: DeliveryAttempt) -> None:
        """The attempt and its summary, in one transaction."""
        params = {
            "webhook_id": attempt.webhook_id,
            "message_id": attempt.message_id,
            "attempted_at": _ts(attempt.attempted_at),
            "succeeded": int(attempt.succeeded),
            "status": (
                DeliveryStatus.SUCCEEDED if attempt.succeeded else DeliveryStatus.FAILED
            ).value,
            "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms,
            "error_class": attempt.error_class,
            "response_excerpt": attempt.response_excerpt,
        }

        def run(c: sqlite3.Connection) -> None:
            c.execute(Q["insert_test_attempt"], params)
            c.execute(Q["insert_test_delivery"], params)

        await self._write(run)

    async def client_tenants(self, *, after: str | None, limit: int) -> list[str]:
        """Over the clients' index."""
        params = {"after": after, "limit": limit}
        rows = await self._read(lambda c: c.execute(Q["client_tenants"], params).fetchall())
        return [str(r[0]) for r in rows]

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Upsert the minute's sample and purge old ones, in one transaction."""
        params = {
            "minute": _ts(sample.minute),
            "lag_seconds": sample.lag_seconds,
            "behind": sample.behind,
        }

        def run(c: sqlite3.Connection) -> None:
            c.execute(Q["upsert_lag_sample"], params)
            c.execute(Q["purge_lag_samples"], {"before": _ts(keep_after)})

        await self._write(run)

    async def lag_samples(self, *, since: dt.datetime) -> list[LagSample]:
        """Over the primary key."""
        rows = await self._read(
            lambda c: c.execute(Q["lag_samples"], {"since": _ts(since)}).fetchall()
        )
        return [
            LagSample(minute=_parse(r["minute"]), lag_seconds=r["lag_seconds"], behind=r["behind"])
            for r in rows
        ]


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
    row = c.execute(Q["enabled_webhook_cursor"], key).fetchone()
    if row is None:
        return None
    version = first(c)
    moved = 0 if version is None else max(0, row["cursor"] - (version - 1))
    if moved:
        cursor = row["cursor"] - moved
        c.execute(Q["rewind_webhook"], {**key, "cursor": cursor})
        c.execute(Q["unsettle_tenant"], {"tenant": tenant, "cursor": cursor})
    c.execute(Q["retry_webhook_now"], {**key, "now": _ts(now)}).fetchall()
    c.execute(Q["insert_audit"], _audit_params(audit))
    return moved


def _ending(
    actor: str, at: dt.datetime, *, only: str | None = None, keep: str | None = None
) -> dict[str, Any]:
    return {"actor": actor, "at": _ts(at), "only": only, "keep": keep}


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
