"""What both SQL stores' consoles do alike: the console's rows and parameters, and every
console use case that is one named statement.

Both dialects name the console's queries and parameters alike (``console.sql``), so, as in
``sql_common``, each of these is written once over the primitives a dialect provides. The
actions of several statements (an operator's new password, disabling, rewinding and
retrying a webhook) and the writes PostgreSQL makes in one statement and SQLite in two
(``console_writes.sql``: a session, a test delivery, a lag sample) stay with their dialect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workhooks.domain.deliveries import DeliveryAttempt, summarize
from workhooks.domain.operators import AuditAction, AuditEntry, ConsoleSession, Operator
from workhooks.domain.search import (
    DeliverySearch,
    FoundDelivery,
    LagSample,
    MinuteRate,
    WebhookSearch,
    WebhookState,
)
from workhooks.storage import rows
from workhooks.storage.console import delivery_query, webhook_query
from workhooks.storage.rows import Codec, Row
from workhooks.storage.sql_common import SqlCommon

__all__ = [
    "SqlConsole",
    "audit_params",
    "ending_params",
    "lag_sample_params",
    "session_params",
    "test_delivery_params",
]


def audit_params(entry: AuditEntry, codec: Codec) -> dict[str, Any]:
    """The parameters of ``insert_audit``."""
    return {
        "at": codec.instant(entry.at),
        "actor": entry.actor,
        "action": entry.action.value,
        "tenant": entry.tenant,
        "webhook_id": entry.webhook_id,
        "detail": entry.detail,
    }


def ending_params(
    actor: str,
    at: dt.datetime,
    codec: Codec,
    *,
    only: str | None = None,
    keep: str | None = None,
) -> dict[str, Any]:
    """The parameters of ``end_sessions``."""
    return {"actor": actor, "at": codec.instant(at), "only": only, "keep": keep}


def session_params(session: ConsoleSession, codec: Codec) -> dict[str, Any]:
    """The parameters that keep a new session."""
    return {
        "id": session.id,
        "actor": session.actor,
        "tenant": session.tenant,
        "created_at": codec.instant(session.created_at),
        "expires_at": codec.instant(session.expires_at),
    }


def test_delivery_params(attempt: DeliveryAttempt, codec: Codec) -> dict[str, Any]:
    """The parameters that keep a test event's attempt and its delivery summary."""
    return {
        "webhook_id": attempt.webhook_id,
        "message_id": attempt.message_id,
        "attempted_at": codec.instant(attempt.attempted_at),
        "succeeded": attempt.succeeded,
        "status": summarize(None, attempt).status.value,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error_class": attempt.error_class,
        "response_excerpt": attempt.response_excerpt,
    }


def lag_sample_params(sample: LagSample, keep_after: dt.datetime, codec: Codec) -> dict[str, Any]:
    """The parameters that keep a minute's lag sample and forget the ones before ``keep_after``."""
    return {
        "minute": codec.instant(sample.minute),
        "lag_seconds": sample.lag_seconds,
        "behind": sample.behind,
        "before": codec.instant(keep_after),
    }


def _webhook_search_params(search: WebhookSearch) -> dict[str, Any]:
    after = search.after
    return {
        "tenant": search.tenant,
        "status": None if search.status is None else search.status.value,
        "failing": search.failing,
        "text": search.text,
        "after_tenant": None if after is None else after[0],
        "after_id": None if after is None else after[1],
        "limit": search.limit,
    }


def _delivery_search_params(search: DeliverySearch, codec: Codec) -> dict[str, Any]:
    after = search.after
    return {
        "tenant": search.tenant,
        "webhook_id": search.webhook_id,
        "record_id": search.record_id,
        "status": None if search.status is None else search.status.value,
        "status_code": search.status_code,
        "error_class": search.error_class,
        "since": codec.instant_or_none(search.since),
        "until": codec.instant_or_none(search.until),
        "after_at": None if after is None else codec.instant(after[0]),
        "after_webhook": None if after is None else after[1],
        "after_id": None if after is None else after[2],
        "limit": search.limit,
    }


def _audit(row: Row, codec: Codec) -> AuditEntry:
    return AuditEntry(
        at=codec.read_instant(row["at"]),
        actor=row["actor"],
        action=AuditAction(row["action"]),
        tenant=row["tenant"],
        webhook_id=row["webhook_id"],
        detail=row["detail"],
    )


def _session(row: Row, codec: Codec) -> ConsoleSession:
    return ConsoleSession(
        id=row["id"],
        actor=row["actor"],
        tenant=row["tenant"],
        created_at=codec.read_instant(row["created_at"]),
        expires_at=codec.read_instant(row["expires_at"]),
    )


class SqlConsole(SqlCommon):
    """The one-statement use cases of ``ConsoleStore``, for any SQL dialect."""

    async def add_operator(self, operator: Operator) -> bool:
        """Store an operator; False when the name is taken."""
        params = {
            "name": operator.name,
            "password_hash": operator.password_hash,
            "created_at": self._codec.instant(operator.created_at),
        }
        return await self._change("insert_operator", params) == 1

    async def get_operator(self, name: str) -> Operator | None:
        """Return an operator by name."""
        row = await self._row("get_operator", name=name)
        if row is None:
            return None
        return Operator(
            name=row["name"],
            password_hash=row["password_hash"],
            created_at=self._codec.read_instant(row["created_at"]),
            disabled_at=self._codec.read_instant_or_none(row["disabled_at"]),
        )

    async def session_live(self, session_id: str, *, now: dt.datetime) -> bool:
        """One primary-key read."""
        params = {"id": session_id, "now": self._codec.instant(now)}
        return await self._row("session_live", params) is not None

    async def end_sessions(
        self, actor: str, *, at: dt.datetime, only: str | None = None, keep: str | None = None
    ) -> int:
        """Over the actor's index."""
        params = ending_params(actor, at, self._codec, only=only, keep=keep)
        return await self._change("end_sessions", params)

    async def live_sessions(self, actor: str, *, now: dt.datetime) -> list[ConsoleSession]:
        """Newest first."""
        found = await self._rows("live_sessions", actor=actor, now=self._codec.instant(now))
        return [_session(r, self._codec) for r in found]

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        await self._change("insert_audit", audit_params(entry, self._codec))

    async def list_audit(self, *, tenant: str | None = None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        found = await self._rows("list_audit", tenant=tenant, limit=limit)
        return [_audit(r, self._codec) for r in found]

    async def search_webhooks(self, search: WebhookSearch) -> list[WebhookState]:
        """Ordered by ``(tenant, id)`` over the partial index of live webhooks."""
        found = await self._rows(webhook_query(search), _webhook_search_params(search))
        return [
            WebhookState(
                webhook=self._row_webhook(r),
                changes_behind=r["changes_behind"],
                caught_up_at=self._codec.read_instant_or_none(r["caught_up_at"]),
            )
            for r in found
        ]

    async def search_deliveries(self, search: DeliverySearch) -> list[FoundDelivery]:
        """Newest last attempt first, keyset-paged."""
        params = _delivery_search_params(search, self._codec)
        found = await self._rows(delivery_query(search), params)
        return [
            FoundDelivery(tenant=r["tenant"], delivery=rows.delivery(r, self._codec)) for r in found
        ]

    async def attempt_rates(self, *, since: dt.datetime) -> list[MinuteRate]:
        """Per minute, over the attempts' time index."""
        found = await self._rows("attempt_rates", since=self._codec.instant(since))
        return [
            MinuteRate(
                minute=self._codec.read_instant(r["minute"]),
                attempts=r["attempts"],
                failures=r["failures"],
            )
            for r in found
        ]

    async def record_version(self, tenant: str, record_id: int) -> int | None:
        """The record's current version, tombstones included."""
        row = await self._row("record_version", tenant=tenant, id=record_id)
        return None if row is None else int(row["change_version"])

    async def client_tenants(self, *, after: str | None, limit: int) -> list[str]:
        """Over the clients' index."""
        found = await self._rows("client_tenants", after=after, limit=limit)
        return [str(r["tenant"]) for r in found]

    async def lag_samples(self, *, since: dt.datetime) -> list[LagSample]:
        """Over the primary key."""
        found = await self._rows("lag_samples", since=self._codec.instant(since))
        return [
            LagSample(
                minute=self._codec.read_instant(r["minute"]),
                lag_seconds=r["lag_seconds"],
                behind=r["behind"],
            )
            for r in found
        ]
