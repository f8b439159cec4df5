"""The ``ConsoleStore`` half of ``InMemoryStore``: operators, audit log, searches, actions."""

from __future__ import annotations

import dataclasses
import datetime as dt

from workhooks.domain.clients import Client
from workhooks.domain.deliveries import (
    TEST_EVENT_WINDOW,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    wait_for_test_slot,
)
from workhooks.domain.operators import AuditEntry, ConsoleSession, Operator
from workhooks.domain.records import WorkInterruption
from workhooks.domain.search import (
    DeliverySearch,
    FoundDelivery,
    LagSample,
    MinuteRate,
    WebhookSearch,
    WebhookState,
)
from workhooks.domain.webhooks import Webhook, WebhookStatus, cursor_moved_back

__all__ = ["InMemoryConsole"]


def _webhook_matches(w: Webhook, search: WebhookSearch) -> bool:
    text = search.text
    return (
        w.deleted_at is None
        and (search.tenant is None or w.tenant == search.tenant)
        and (search.status is None or w.status is search.status)
        and (not search.failing or w.failures > 0)
        and (text is None or text in (w.id, w.tenant) or text in w.destination_url)
        and (search.after is None or (w.tenant, w.id) > search.after)
    )


def _delivery_matches(tenant: str, d: Delivery, search: DeliverySearch) -> bool:
    return (
        (search.tenant is None or tenant == search.tenant)
        and (search.webhook_id is None or d.webhook_id == search.webhook_id)
        and (search.record_id is None or d.record_id == search.record_id)
        and (search.status is None or d.status is search.status)
        and (search.status_code is None or d.last_status_code == search.status_code)
        and (search.error_class is None or d.last_error_class == search.error_class)
        and (search.since is None or d.last_attempt_at >= search.since)
        and (search.until is None or d.last_attempt_at <= search.until)
        and (search.after is None or (d.last_attempt_at, d.webhook_id, d.id) < search.after)
    )


class InMemoryConsole:
    """Mixed into ``InMemoryStore``, which owns the dictionaries read here (the lag samples,
    the sessions and the test-event slots are this half's own, made on first use)."""

    _clients: dict[str, Client]
    _webhooks: dict[str, Webhook]
    _records: dict[tuple[str, int], WorkInterruption]
    _deliveries: dict[tuple[str, str], Delivery]
    _attempts: list[DeliveryAttempt]
    _caught_up_at: dict[str, dt.datetime]
    _work_heads: dict[str, int]
    _settled: dict[str, int]
    _operators: dict[str, Operator]
    _audit: list[AuditEntry]

    async def add_operator(self, operator: Operator) -> bool:
        """Store an operator; False when the name is taken."""
        if operator.name in self._operators:
            return False
        self._operators[operator.name] = operator
        return True

    async def get_operator(self, name: str) -> Operator | None:
        """Return an operator by name."""
        return self._operators.get(name)

    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace an operator's password hash and end its sessions."""
        old = self._operators.get(name)
        if old is None:
            return False
        self._operators[name] = dataclasses.replace(old, password_hash=password_hash)
        await self.end_sessions(sessions_of, at=at)
        return True

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable (keeping the first time) and end the sessions."""
        old = self._operators.get(name)
        if old is None:
            return False
        self._operators[name] = dataclasses.replace(old, disabled_at=old.disabled_at or at)
        await self.end_sessions(sessions_of, at=at)
        return True

    def _sessions(self) -> dict[str, ConsoleSession]:
        found: dict[str, ConsoleSession] | None = getattr(self, "_kept_sessions", None)
        if found is None:
            found = {}
            self._kept_sessions = found
        return found

    async def add_session(self, session: ConsoleSession) -> None:
        """Keep it; forget the expired ones."""
        sessions = self._sessions()
        for gone in [k for k, v in sessions.items() if v.expires_at < session.created_at]:
            del sessions[gone]
        sessions[session.id] = session

    async def session_live(self, session_id: str, *, now: dt.datetime) -> bool:
        """Kept, not ended, not expired."""
        found = self._sessions().get(session_id)
        return found is not None and found.ended_at is None and found.expires_at > now

    async def end_sessions(
        self, actor: str, *, at: dt.datetime, only: str | None = None, keep: str | None = None
    ) -> int:
        """Mark them ended."""
        sessions = self._sessions()
        ending = [
            s
            for s in await self.live_sessions(actor, now=at)
            if (only is None or s.id == only) and (keep is None or s.id != keep)
        ]
        for s in ending:
            sessions[s.id] = dataclasses.replace(s, ended_at=at)
        return len(ending)

    async def live_sessions(self, actor: str, *, now: dt.datetime) -> list[ConsoleSession]:
        """Newest first."""
        live = [
            s
            for s in self._sessions().values()
            if s.actor == actor and s.ended_at is None and s.expires_at > now
        ]
        return sorted(live, key=lambda s: (-s.created_at.timestamp(), s.id))

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        self._audit.append(entry)

    async def _audited(self, audit: AuditEntry | None) -> None:
        """Append ``audit`` to the audit log, when there is one (no await: atomic with the
        change before it)."""
        if audit is not None:
            self._audit.append(audit)

    async def list_audit(self, *, tenant: str | None = None, limit: int) -> list[AuditEntry]:
        """Newest first."""
        found = [e for e in reversed(self._audit) if tenant is None or e.tenant == tenant]
        return found[:limit]

    async def search_webhooks(self, search: WebhookSearch) -> list[WebhookState]:
        """Ordered by ``(tenant, id)``."""
        found = sorted(
            (w for w in self._webhooks.values() if _webhook_matches(w, search)),
            key=lambda w: (w.tenant, w.id),
        )
        return [
            WebhookState(
                webhook=w,
                changes_behind=max(self._work_heads.get(w.tenant, 0) - w.cursor, 0),
                caught_up_at=self._caught_up_at.get(w.id),
            )
            for w in found[: search.limit]
        ]

    async def search_deliveries(self, search: DeliverySearch) -> list[FoundDelivery]:
        """Newest last attempt first."""
        found = [
            FoundDelivery(tenant=self._webhooks[d.webhook_id].tenant, delivery=d)
            for d in self._deliveries.values()
            if d.webhook_id in self._webhooks
            and _delivery_matches(self._webhooks[d.webhook_id].tenant, d, search)
        ]
        found.sort(
            key=lambda f: (f.delivery.last_attempt_at, f.delivery.webhook_id, f.delivery.id),
            reverse=True,
        )
        return found[: search.limit]

    async def attempt_rates(self, *, since: dt.datetime) -> list[MinuteRate]:
        """Per minute, from the attempt list."""
        rates: dict[dt.datetime, list[int]] = {}
        for a in self._attempts:
            if a.attempted_at >= since:
                minute = a.attempted_at.astimezone(dt.UTC).replace(second=0, microsecond=0)
                counts = rates.setdefault(minute, [0, 0])
                counts[0] += 1
                counts[1] += 0 if a.succeeded else 1
        return [
            MinuteRate(minute=m, attempts=c[0], failures=c[1]) for m, c in sorted(rates.items())
        ]

    def _enabled(self, tenant: str, webhook_id: str) -> Webhook | None:
        w = self._webhooks.get(webhook_id)
        if w is None or w.tenant != tenant or w.deleted_at is not None:
            return None
        return w if w.status is WebhookStatus.ENABLED else None

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable and audit."""
        w = self._enabled(tenant, webhook_id)
        if w is None:
            return False
        self._webhooks[w.id] = dataclasses.replace(
            w, status=WebhookStatus.DISABLED, disabled_reason=reason, next_attempt_at=None
        )
        self._audit.append(audit)
        return True

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Bring the retry time forward to ``now`` and audit."""
        w = self._enabled(tenant, webhook_id)
        if w is None:
            return False
        if w.next_attempt_at is not None and w.next_attempt_at > now:
            self._webhooks[w.id] = dataclasses.replace(w, next_attempt_at=now)
        self._audit.append(audit)
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
        """Move the cursor back before the first delivery tried since ``since``."""
        versions = [
            d.change_version
            for d in self._deliveries.values()
            if d.webhook_id == webhook_id and d.last_attempt_at >= since and not d.is_test
        ]
        return self._rewind(tenant, webhook_id, min(versions, default=None), now, audit)

    async def rewind_webhook_before(
        self,
        tenant: str,
        webhook_id: str,
        *,
        version: int,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move the cursor back to just before ``version``."""
        return self._rewind(tenant, webhook_id, version, now, audit)

    def _rewind(
        self,
        tenant: str,
        webhook_id: str,
        version: int | None,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        w = self._enabled(tenant, webhook_id)
        if w is None:
            return None
        moved = cursor_moved_back(w.cursor, version)
        cursor = w.cursor - moved
        retry_at = w.next_attempt_at
        if retry_at is not None and retry_at > now:
            retry_at = now
        self._webhooks[w.id] = dataclasses.replace(w, cursor=cursor, next_attempt_at=retry_at)
        if moved:
            self._settled[tenant] = min(self._settled.get(tenant, 0), cursor)
        self._audit.append(audit)
        return moved

    async def record_version(self, tenant: str, record_id: int) -> int | None:
        """The record's current version, tombstones included."""
        record = self._records.get((tenant, record_id))
        return None if record is None else record.change_version

    async def record_test_delivery(
        self, attempt: DeliveryAttempt, *, audit: AuditEntry | None = None
    ) -> None:
        """Append the attempt, its summary and the audit entry."""
        self._attempts.append(attempt)
        self._deliveries[(attempt.webhook_id, attempt.message_id)] = Delivery(
            webhook_id=attempt.webhook_id,
            id=attempt.message_id,
            record_id=0,
            change_version=0,
            status=DeliveryStatus.SUCCEEDED if attempt.succeeded else DeliveryStatus.FAILED,
            attempts=1,
            first_attempt_at=attempt.attempted_at,
            last_attempt_at=attempt.attempted_at,
            last_status_code=attempt.status_code,
            last_error_class=attempt.error_class,
            next_attempt_at=None,
        )
        await self._audited(audit)

    async def client_tenants(self, *, after: str | None, limit: int) -> list[str]:
        """Sorted tenant names of the clients."""
        names = sorted({c.tenant for c in self._clients.values()})
        return [t for t in names if after is None or t > after][:limit]

    async def take_test_event_slot(self, webhook_id: str, *, now: dt.datetime) -> int | None:
        """Take a slot unless the rule says wait (no await: atomic)."""
        slots: dict[str, list[dt.datetime]] = self.__dict__.setdefault("_test_slots", {})
        recent = [t for t in slots.get(webhook_id, ()) if t > now - TEST_EVENT_WINDOW]
        wait = wait_for_test_slot(recent, now=now)
        if wait is None:
            slots[webhook_id] = [*recent, now]
        return wait

    def _lags(self) -> dict[dt.datetime, LagSample]:
        found: dict[dt.datetime, LagSample] | None = getattr(self, "_lag_samples", None)
        if found is None:
            found = {}
            self._lag_samples = found
        return found

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Keep the larger sample of the minute; forget old ones."""
        lags = self._lags()
        old = lags.get(sample.minute)
        if old is not None:
            sample = LagSample(
                minute=sample.minute,
                lag_seconds=max(old.lag_seconds, sample.lag_seconds),
                behind=max(old.behind, sample.behind),
            )
        lags[sample.minute] = sample
        for minute in [m for m in lags if m < keep_after]:
            del lags[minute]

    async def lag_samples(self, *, since: dt.datetime) -> list[LagSample]:
        """Oldest first."""
        return [s for m, s in sorted(self._lags().items()) if m >= since]
