"""The ``ConsoleStore`` port: operators, the audit log, searches and operator actions.

Every store implements it next to ``Store``; each method is one transaction, and each
action writes its audit entry in the transaction that acts.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.operators import AuditEntry, ConsoleSession, Operator
from workhooks.domain.search import (
    DeliverySearch,
    FoundDelivery,
    LagSample,
    MinuteRate,
    WebhookSearch,
    WebhookState,
)

__all__ = ["ConsoleStore", "LagStore", "delivery_query", "webhook_query"]


def webhook_query(search: WebhookSearch) -> str:
    """The named query for ``search``: one tenant's index range when a tenant is given."""
    return "search_webhooks" if search.tenant is None else "search_webhooks_of_tenant"


def delivery_query(search: DeliverySearch) -> str:
    """The named query that reads the fewest rows for ``search`` (each SQL store has all four).

    A webhook's own index, then a record's, then a tenant's webhooks, else the time index:
    a filter that may be absent (``:x IS NULL OR ...``) cannot choose an index by itself.
    """
    if search.webhook_id is not None:
        return "search_deliveries_by_webhook"
    if search.record_id is not None:
        return "search_deliveries_by_record"
    if search.tenant is not None:
        return "search_deliveries_by_tenant"
    return "search_deliveries"


class LagStore(Protocol):
    """The delivery lag per minute: the worker samples it, the console's overview plots it."""

    async def record_lag_sample(self, sample: LagSample, *, keep_after: dt.datetime) -> None:
        """Keep the lag of one minute (the larger when several workers sample it) and forget
        the samples of minutes before ``keep_after``."""

    async def lag_samples(self, *, since: dt.datetime) -> list[LagSample]:
        """The lag samples of the minutes since ``since``, oldest first."""


class ConsoleStore(LagStore, Protocol):
    """Persistence behind the operator console and the delivery portal (part of ``Store``)."""

    async def add_operator(self, operator: Operator) -> bool:
        """Store an operator account; False when the name is taken."""

    async def get_operator(self, name: str) -> Operator | None:
        """Return an operator by name."""

    async def set_operator_password(
        self, name: str, password_hash: str, *, sessions_of: str, at: dt.datetime
    ) -> bool:
        """Replace an operator's password hash and end the sessions of ``sessions_of`` (its
        actor), in one transaction; False when there is no such operator."""

    async def disable_operator(self, name: str, *, sessions_of: str, at: dt.datetime) -> bool:
        """Disable an operator (no more sign-ins) and end its sessions, in one transaction.

        False when there is no such operator; disabling twice keeps the first time.
        """

    async def add_session(self, session: ConsoleSession) -> None:
        """Keep a new session (and forget the sessions that expired before it began)."""

    async def session_live(self, session_id: str, *, now: dt.datetime) -> bool:
        """Whether the session is kept, not ended and not expired at ``now``."""

    async def end_sessions(
        self, actor: str, *, at: dt.datetime, only: str | None = None, keep: str | None = None
    ) -> int:
        """End ``actor``'s live sessions (``only`` that one, or all but ``keep``); how many."""

    async def live_sessions(self, actor: str, *, now: dt.datetime) -> list[ConsoleSession]:
        """``actor``'s sessions neither ended nor expired, newest first."""

    async def record_audit(self, entry: AuditEntry) -> None:
        """Append one entry to the audit log."""

    async def list_audit(self, *, tenant: str | None = None, limit: int) -> list[AuditEntry]:
        """The most recent audit entries (of one tenant's webhooks when given), newest first."""

    async def search_webhooks(self, search: WebhookSearch) -> list[WebhookState]:
        """Live webhooks matching ``search`` with their progress, ordered by ``(tenant, id)``."""

    async def search_deliveries(self, search: DeliverySearch) -> list[FoundDelivery]:
        """Deliveries matching ``search`` across webhooks, newest last attempt first."""

    async def attempt_rates(self, *, since: dt.datetime) -> list[MinuteRate]:
        """Attempts and failures per minute since ``since``, oldest first (empty minutes left out).

        Reads the attempt log's time index over that range only.
        """

    async def disable_webhook(
        self, tenant: str, webhook_id: str, *, reason: str, audit: AuditEntry
    ) -> bool:
        """Disable an enabled live webhook for good; False when it is not enabled."""

    async def retry_webhook_now(
        self, tenant: str, webhook_id: str, *, now: dt.datetime, audit: AuditEntry
    ) -> bool:
        """Cut an enabled webhook's back-off short: it may send at ``now``.

        False when the webhook is not enabled, deleted or unknown.
        """

    async def rewind_webhook(
        self,
        tenant: str,
        webhook_id: str,
        *,
        since: dt.datetime,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move an enabled webhook's cursor back before the first delivery tried since ``since``.

        Everything from there is sent again, starting at ``now`` (a back-off is cut short as
        by ``retry_webhook_now``; the failure count stays). Returns how many change versions
        the cursor moved back (0 when nothing was tried since then); None when the webhook
        is not enabled, deleted or unknown (a Disabled webhook stays disabled).
        """

    async def record_version(self, tenant: str, record_id: int) -> int | None:
        """The current change version of a work interruption, tombstone included; None if none."""

    async def rewind_webhook_before(
        self,
        tenant: str,
        webhook_id: str,
        *,
        version: int,
        now: dt.datetime,
        audit: AuditEntry,
    ) -> int | None:
        """Move an enabled webhook's cursor back to just before ``version`` (a resend).

        The change at ``version`` and every later one are sent again, starting at ``now``,
        exactly as after ``rewind_webhook``; a cursor already below ``version`` stays (the
        change is still to be sent). Returns how many change versions the cursor moved back;
        None when the webhook is not enabled, deleted or unknown.
        """

    async def take_test_event_slot(self, webhook_id: str, *, now: dt.datetime) -> int | None:
        """Take one of the webhook's test events for ``now`` unless it has sent as many as it
        may within the window (``wait_for_test_slot``): None when taken, else the seconds to
        wait. Atomic across every process of the database."""

    async def record_test_delivery(
        self, attempt: DeliveryAttempt, *, audit: AuditEntry | None = None
    ) -> None:
        """Store a test event's one attempt and its delivery summary in the history, with
        ``audit``, in one transaction.

        It touches nothing else: not the cursor, not the back-off state.
        """

    async def client_tenants(self, *, after: str | None, limit: int) -> list[str]:
        """Tenants that have API clients, in name order after ``after`` (the clients' index)."""
