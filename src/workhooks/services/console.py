"""Console use cases: search webhooks and deliveries across tenants, act on one webhook.

The operator console, the delivery portal and their API routes all come through here: a
portal or a tenant's client passes its own tenant, an operator may pass none (all tenants).
Every action is audited in the transaction that performs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from workhooks.domain.deliveries import TEST_EVENTS_PER_WINDOW, Delivery, DeliveryAttempt
from workhooks.domain.operators import AuditAction, AuditEntry
from workhooks.domain.search import (
    MAX_PAGE,
    DeliverySearch,
    FoundDelivery,
    LagSample,
    MinuteRate,
    WebhookSearch,
    WebhookState,
)
from workhooks.domain.webhooks import Webhook, WebhookStatus, destination_origin
from workhooks.errors import ConflictError, InvalidRequestError, NotFoundError, RateLimitedError
from workhooks.services.clock import Clock
from workhooks.services.test_events import EventSender, send_test_event
from workhooks.storage.console import ConsoleStore
from workhooks.storage.protocol import BacklogReport, HistoryStore, WebhookStore

__all__ = [
    "ConsoleService",
    "ConsoleServiceStore",
    "DeliveryDetail",
    "FailingDestination",
    "Overview",
]

MAX_REASON = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryDetail:
    """One delivery of one webhook with all its attempts, oldest first."""

    webhook: Webhook
    delivery: Delivery
    attempts: list[DeliveryAttempt]


@dataclass(frozen=True, slots=True, kw_only=True)
class FailingDestination:
    """A destination origin whose webhooks are failing now."""

    origin: str
    webhooks: int
    failures: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    """Webhooks by status, the most behind, and the destinations failing now."""

    backlog: BacklogReport
    failing: list[FailingDestination]


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(
            f"Invalid page size {limit}", reasons=(f"limit: between 1 and {MAX_PAGE}",)
        )
    return limit


class ConsoleServiceStore(ConsoleStore, WebhookStore, HistoryStore, Protocol):
    """What the console reads and acts on: searches and actions (resends and test events
    among them), webhooks, history, and the lag samples."""


class ConsoleService:
    """Searches and actions over every tenant's webhooks (or one tenant's)."""

    def __init__(
        self,
        store: ConsoleServiceStore,
        clock: Clock,
        *,
        wake: Callable[[str], None],
        sender: EventSender,
    ) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._sender = sender

    def now(self) -> dt.datetime:
        """The service's current instant (pages show ages relative to it)."""
        return self._clock.now()

    async def webhooks(self, search: WebhookSearch) -> list[WebhookState]:
        """Live webhooks matching ``search``, ordered by ``(tenant, id)``."""
        _check_limit(search.limit)
        return await self._store.search_webhooks(search)

    async def webhook(self, tenant: str, webhook_id: str) -> WebhookState:
        """One live webhook with its progress, or ``NotFoundError``."""
        found = await self._store.search_webhooks(
            WebhookSearch(tenant=tenant, text=webhook_id, limit=MAX_PAGE)
        )
        for state in found:
            if state.webhook.id == webhook_id:
                return state
        raise NotFoundError(f"Webhook {webhook_id[:80]} does not exist")

    async def deliveries(self, search: DeliverySearch) -> list[FoundDelivery]:
        """Deliveries matching ``search`` across webhooks, newest last attempt first."""
        _check_limit(search.limit)
        return await self._store.search_deliveries(search)

    async def delivery(self, tenant: str, webhook_id: str, delivery_id: str) -> DeliveryDetail:
        """One delivery with its attempts; ``NotFoundError`` outside ``tenant``."""
        webhook = await self._store.get_webhook(tenant, webhook_id)
        found = None if webhook is None else await self._store.get_delivery(webhook_id, delivery_id)
        if webhook is None or found is None:
            raise NotFoundError(
                f"Delivery {delivery_id[:80]} of webhook {webhook_id[:80]} does not exist"
            )
        return DeliveryDetail(webhook=webhook, delivery=found[0], attempts=found[1])

    async def overview(self, *, most_behind: int = 10) -> Overview:
        """What the operator sees first: counts, the most behind, failing destinations."""
        backlog = await self._store.webhook_backlogs(limit=most_behind)
        failing = await self._store.search_webhooks(
            WebhookSearch(status=WebhookStatus.ENABLED, failing=True, limit=MAX_PAGE)
        )
        by_origin: dict[str, list[int]] = {}
        for state in failing:
            origin = destination_origin(state.webhook.destination_url)
            by_origin.setdefault(origin, []).append(state.webhook.failures)
        destinations = [
            FailingDestination(origin=o, webhooks=len(f), failures=sum(f))
            for o, f in by_origin.items()
        ]
        destinations.sort(key=lambda d: (-d.webhooks, -d.failures, d.origin))
        return Overview(backlog=backlog, failing=destinations[:most_behind])

    async def last_hour(self) -> list[MinuteRate]:
        """Attempts and failures per minute over the last hour, oldest first (empty as 0)."""
        end = self._clock.now().replace(second=0, microsecond=0)
        start = end - dt.timedelta(minutes=59)
        found = {r.minute: r for r in await self._store.attempt_rates(since=start)}
        minutes = (start + dt.timedelta(minutes=n) for n in range(60))
        return [found.get(m) or MinuteRate(minute=m, attempts=0, failures=0) for m in minutes]

    async def lag_last_hour(self) -> list[LagSample | None]:
        """The delivery lag in each minute of the last hour, oldest first.

        Past minutes as the workers sampled them (None for a minute no worker sampled); the
        current minute measured now.
        """
        now = self._clock.now()
        end = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
        start = end - dt.timedelta(minutes=59)
        found = {s.minute: s for s in await self._store.lag_samples(since=start)}
        report = await self._store.webhook_backlogs(limit=10)
        found[end] = LagSample(
            minute=end, lag_seconds=report.lag_seconds(now), behind=report.behind
        )
        return [found.get(start + dt.timedelta(minutes=n)) for n in range(60)]

    async def audit(self, *, tenant: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """The latest audit entries (of one tenant when given), newest first."""
        return await self._store.list_audit(tenant=tenant, limit=_check_limit(limit))

    async def record(
        self, actor: str, action: AuditAction, *, tenant: str | None = None, detail: str = ""
    ) -> None:
        """Audit something done outside a webhook action (a sign-in, a portal link)."""
        await self._store.record_audit(
            AuditEntry(
                at=self._clock.now(), actor=actor, action=action, tenant=tenant, detail=detail
            )
        )

    async def _enabled(self, tenant: str, webhook_id: str) -> Webhook:
        """The webhook unless unknown or deleted; ``ConflictError`` when it is disabled."""
        webhook = await self._store.get_webhook(tenant, webhook_id)
        if webhook is None or webhook.deleted_at is not None:
            raise NotFoundError(f"Webhook {webhook_id[:80]} does not exist")
        if webhook.status is WebhookStatus.DISABLED:
            raise ConflictError(
                f"Webhook {webhook_id} is Disabled",
                reasons=("status: a Disabled webhook is never enabled again; create a new one",),
            )
        return webhook

    def _entry(
        self, actor: str, action: AuditAction, tenant: str, webhook_id: str, detail: str
    ) -> AuditEntry:
        return AuditEntry(
            at=self._clock.now(),
            actor=actor,
            action=action,
            tenant=tenant,
            webhook_id=webhook_id,
            detail=detail,
        )

    async def disable(self, actor: str, tenant: str, webhook_id: str, *, reason: str) -> None:
        """Disable an enabled webhook for good (its consumer must create a new one)."""
        reason = reason.strip()[:MAX_REASON] or f"Disabled by {actor}"
        entry = self._entry(actor, AuditAction.DISABLE, tenant, webhook_id, reason)
        await self._enabled(tenant, webhook_id)
        if not await self._store.disable_webhook(tenant, webhook_id, reason=reason, audit=entry):
            await self._enabled(tenant, webhook_id)

    async def retry_now(self, actor: str, tenant: str, webhook_id: str) -> None:
        """Cut an enabled webhook's back-off short: its next window may start now."""
        entry = self._entry(actor, AuditAction.RETRY_NOW, tenant, webhook_id, "")
        await self._enabled(tenant, webhook_id)
        if not await self._store.retry_webhook_now(tenant, webhook_id, now=entry.at, audit=entry):
            await self._enabled(tenant, webhook_id)
        self._wake(tenant)

    async def recover(self, actor: str, tenant: str, webhook_id: str, *, since: dt.datetime) -> int:
        """Send again everything tried since ``since`` to an enabled webhook.

        The cursor moves back before the first delivery tried since then and a back-off is
        cut short; records are sent in their current state, as always. Returns how many
        change versions are sent again.
        """
        if since.tzinfo is None:
            raise InvalidRequestError(
                "The time to recover from needs a time zone",
                reasons=("since: an ISO 8601 time with an offset, e.g. 2025-01-01T00:00:00Z",),
            )
        entry = self._entry(
            actor, AuditAction.RECOVER, tenant, webhook_id, f"since {since.isoformat()}"
        )
        await self._enabled(tenant, webhook_id)
        moved = await self._store.rewind_webhook(
            tenant, webhook_id, since=since, now=entry.at, audit=entry
        )
        if moved is None:
            await self._enabled(tenant, webhook_id)
            return 0
        self._wake(tenant)
        return moved

    async def _record_version(self, tenant: str, record_id: int) -> int:
        version = await self._store.record_version(tenant, record_id)
        if version is None:
            raise NotFoundError(
                f"Work interruption {record_id} does not exist",
                reasons=("record: no record nor tombstone of it is kept under this id",),
            )
        return version

    async def resend_preview(self, tenant: str, webhook_id: str, record_id: int) -> int:
        """How many change versions a resend of ``record_id`` would send again (0: pending)."""
        webhook = await self._enabled(tenant, webhook_id)
        version = await self._record_version(tenant, record_id)
        return max(0, webhook.cursor - (version - 1))

    async def resend(self, actor: str, tenant: str, webhook_id: str, record_id: int) -> int:
        """Send the current state of one record again to an enabled webhook.

        The record's current version (a tombstone for a deleted record) goes through the
        delivery engine like any change: the cursor moves back to just before it, so it is
        sent again, signed, recorded and retried, in order with that record's later versions
        and with every change after it (each record once, in its current state). A record
        whose current version was not delivered yet is simply still to come (0 is returned).
        Returns how many change versions are sent again.
        """
        await self._enabled(tenant, webhook_id)
        version = await self._record_version(tenant, record_id)
        entry = self._entry(actor, AuditAction.RESEND, tenant, webhook_id, f"record {record_id}")
        moved = await self._store.rewind_webhook_before(
            tenant, webhook_id, version=version, now=entry.at, audit=entry
        )
        if moved is None:
            await self._enabled(tenant, webhook_id)
            return 0
        self._wake(tenant)
        return moved

    async def send_test_event(self, actor: str, tenant: str, webhook_id: str) -> DeliveryAttempt:
        """POST a signed test event to an enabled webhook's destination now (audited).

        The outcome is kept in the delivery history as a test; the webhook's cursor and
        back-off are never touched. ``RateLimitedError`` past a few per minute per webhook.
        """
        webhook = await self._enabled(tenant, webhook_id)
        wait = await self._store.take_test_event_slot(webhook_id, now=self._clock.now())
        if wait is not None:
            error = RateLimitedError(
                "Too many test events for this webhook",
                reasons=(
                    f"webhook: at most {TEST_EVENTS_PER_WINDOW} test events a minute; "
                    f"try again in {wait} seconds",
                ),
            )
            error.retry_after_seconds = wait
            raise error
        attempt = await send_test_event(self._sender, webhook, now=self._clock.now())
        outcome = f"{attempt.status_code or attempt.error_class} in {attempt.latency_ms:.0f} ms"
        audit = self._entry(actor, AuditAction.TEST_EVENT, tenant, webhook_id, outcome)
        await self._store.record_test_delivery(attempt, audit=audit)
        return attempt
