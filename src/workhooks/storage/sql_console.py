"""What both SQL stores' consoles do alike: the console's rows and parameters, and every
console use case, of one statement or of several in one transaction (``scripts``).

Both dialects name the console's queries and parameters alike (``console.sql``), so, as in
``sql_common``, each of these is written once over the primitives a dialect provides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workhooks.domain.deliveries import (
    TEST_EVENT_WINDOW,
    DeliveryAttempt,
    summarize,
    wait_for_test_slot,
)
from workhooks.domain.operators import AuditAction, AuditEntry, ConsoleSession, Operator
from workhooks.domain.search import (
    DeliverySearch,
    FoundDelivery,
    LagSample,
    MinuteRate,
    WebhookSearch,
    WebhookState,
)
from workhooks.domain.webhooks import cursor_moved_back
from workhooks.storage import rows
from workhooks.storage.console import delivery_query, webhook_query
from workhooks.storage.rows import Codec, Row, audit_params, ending_params
from workhooks.storage.scripts import Script, Step, count, every, one
from workhooks.storage.sql_common import SqlCommon

__all__ = ["SqlConsole"]


def _session_params(session: ConsoleSession, codec: Codec) -> dict[str, Any]:
    """The parameters that keep a new session."""
    return {
        "id": session.id,
        "actor": session.actor,
        "tenant": session.tenant,
        "created_at": codec.instant(session.created_at),
        "expires_at": codec.instant(session.expires_at),
    }


def _test_delivery_params(attempt: DeliveryAttempt, codec: Codec) -> dict[str, Any]:
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
    """The ``ConsoleStore``, for any SQL dialect."""

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

    # -- of several statements, in one transaction -----------------------------------
    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace the hash and end the operator's sessions, in one transaction."""
        params = {"name": name, "password_hash": password_hash}
        ending = ending_params(sessions_of, at, self._codec)
        return await self._writing(
            _then_end_sessions(count("set_operator_password", params), ending)
        )

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable and end the sessions, in one transaction."""
        params = {"name": name, "at": self._codec.instant(at)}
        ending = ending_params(sessions_of, at, self._codec)
        return await self._writing(_then_end_sessions(count("disable_operator", params), ending))

    async def add_session(self, session: ConsoleSession) -> None:
        """Insert, and purge the sessions expired before it began."""
        params = _session_params(session, self._codec)

        def script() -> Script[None]:
            yield count("purge_sessions", before=params["created_at"])
            yield count("insert_session", params)

        await self._writing(script())

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable and audit in one transaction."""
        params = {"tenant": tenant, "id": webhook_id, "reason": reason}

        def script() -> Script[bool]:
            if (yield count("disable_webhook", params)) != 1:
                return False
            yield from self._audited(audit)
            return True

        return await self._writing(script())

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Bring the retry time forward to ``now`` and audit, in one transaction."""
        key = {"tenant": tenant, "id": webhook_id}
        at = self._codec.instant(now)

        def script() -> Script[bool]:
            if (yield one("enabled_webhook_cursor", key)) is None:
                return False
            yield count("retry_webhook_now", key, now=at)
            yield from self._audited(audit)
            return True

        retried = await self._writing(script())
        if retried:
            self._announce(tenant)
        return retried

    async def rewind_webhook(
        self,
        tenant: str,
        webhook_id: str,
        *,
        since: dt.datetime,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move the cursor back to the first change tried since ``since``, unsettle the
        tenant and audit, in one transaction.

        A worker delivering the webhook at that moment loses its compare-and-set on the
        cursor, so its window is not applied and the rewound range is sent again.
        """
        moved = await self._writing(
            self._rewind(tenant, webhook_id, since=since, version=None, now=now, audit=audit)
        )
        if moved is not None:
            self._announce(tenant)
        return moved

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
        moved = await self._writing(
            self._rewind(tenant, webhook_id, since=None, version=version, now=now, audit=audit)
        )
        if moved is not None:
            self._announce(tenant)
        return moved

    def _rewind(
        self,
        tenant: str,
        webhook_id: str,
        *,
        since: dt.datetime | None,
        version: int | None,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> Script[int | None]:
        """Move an enabled webhook's cursor back before ``version`` (or the first change
        tried since ``since``) and cut its back-off; the change versions moved back, None
        when the webhook is not enabled."""
        key = {"tenant": tenant, "id": webhook_id}
        row = yield one("enabled_webhook_cursor", key)
        if row is None:
            return None
        if since is not None:
            tried = yield one(
                "first_version_since", id=webhook_id, since=self._codec.instant(since)
            )
            version = tried["first_version"]
        moved = cursor_moved_back(row["cursor"], version)
        if moved:
            cursor = row["cursor"] - moved
            yield count("rewind_webhook", key, cursor=cursor)
            yield count("unsettle_tenant", tenant=tenant, cursor=cursor)
        yield count("retry_webhook_now", key, now=self._codec.instant(now))
        yield from self._audited(audit)
        return moved

    async def take_test_event_slot(self, webhook_id: str, *, now: dt.datetime) -> int | None:
        """Under the webhook's test-event lock: read its recent slots, take one when the
        rule allows (and forget those out of the window), in one transaction."""
        since = self._codec.instant(now - TEST_EVENT_WINDOW)
        key = {"webhook_id": webhook_id, "since": since}

        def script() -> Script[int | None]:
            yield every("lock_test_events", key)
            found = yield every("test_event_slots", key)
            taken = [self._codec.read_instant(r["taken_at"]) for r in found]
            wait = wait_for_test_slot(taken, now=now)
            if wait is None:
                yield count("purge_test_event_slots", key)
                yield count("insert_test_event_slot", key, taken_at=self._codec.instant(now))
            return wait

        return await self._writing(script())

    async def record_test_delivery(
        self, attempt: DeliveryAttempt, *, audit: AuditEntry | None = None
    ) -> None:
        """The attempt, its summary and the audit entry, in one transaction."""
        params = _test_delivery_params(attempt, self._codec)

        def script() -> Script[None]:
            yield count("insert_test_attempt", params)
            yield count("insert_test_delivery", params)
            yield from self._audited(audit)

        await self._writing(script())

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Upsert the minute's sample and purge those before ``keep_after``, in one transaction."""
        params = {
            "minute": self._codec.instant(sample.minute),
            "lag_seconds": sample.lag_seconds,
            "behind": sample.behind,
            "before": self._codec.instant(keep_after),
        }

        def script() -> Script[None]:
            yield count("upsert_lag_sample", params)
            yield count("purge_lag_samples", params)

        await self._writing(script())


def _then_end_sessions(change: Step, ending: dict[str, Any]) -> Script[bool]:
    """Run ``change``; when it touched the one row, end the sessions ``ending`` names."""
    if (yield change) != 1:
        return False
    yield count("end_sessions", ending)
    return True
