"""The delivery worker's statements in PostgreSQL (the ``DeliveryStore`` slice).

Each enabled webhook is delivered by one worker at a time: ``due_webhooks`` claims with a
lease (``FOR UPDATE SKIP LOCKED``), ``renew_leases`` is the heartbeat, an expired lease can
be taken over, and ``apply_window`` only lands for the lease holder. The statements are
single statements, each atomic on its own, sent without BEGIN/COMMIT: one round trip each
(a worker round is four of them). ``listen`` wakes workers of every process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

import asyncpg

from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.webhooks import Webhook
from workhooks.storage.postgres.base import PostgresBase
from workhooks.storage.postgres.connection import translate_errors
from workhooks.storage.protocol import WindowOutcome
from workhooks.storage.rows import json_text

__all__ = ["CHANNEL", "PostgresDelivery"]

CHANNEL = "workhooks_changes"


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class PostgresDelivery(PostgresBase):
    """Claiming due webhooks under leases, settling tenants, applying windows' outcomes."""

    _dsn: str
    _listener: asyncpg.Connection | None
    _on_change: Callable[[str], None] | None

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Collection[str] = (),
        after: str = "",
        full: Collection[str] = (),
    ) -> list[Webhook]:
        """Claim (or renew) leases on due webhooks no other live worker holds."""
        await self._ensure_listener()
        found = await self._rows(
            "claim_due_webhooks",
            now=now,
            worker=self.worker_id,
            lease_seconds=self._lease_seconds,
            limit=limit,
            holding=list(holding),
            after=after,
            full=list(full),
        )
        return [self._row_webhook(r) for r in found]

    async def hold_delivery(self) -> None:
        """Workers lease each webhook they deliver: any number of them may deliver."""

    async def renew_leases(self, webhook_ids: Collection[str]) -> set[str]:
        """Extend this worker's leases; return the ids it still holds."""
        if not webhook_ids:
            return set()
        found = await self._rows(
            "renew_leases",
            ids=list(webhook_ids),
            worker=self.worker_id,
            lease_seconds=self._lease_seconds,
        )
        return {r["id"] for r in found}

    async def release_leases(self, webhook_ids: Collection[str]) -> None:
        """Give back this worker's leases on ``webhook_ids``."""
        if webhook_ids:
            await self._change(
                "release_some_leases", {"ids": list(webhook_ids), "worker": self.worker_id}
            )

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(tenant)`` whenever a change commits, from any process."""
        self._on_change = callback
        await self._ensure_listener()

    async def _ensure_listener(self) -> None:
        """(Re)open the LISTEN connection; after a server restart the next round reopens it."""
        callback = self._on_change
        if callback is None or (self._listener is not None and not self._listener.is_closed()):
            return
        with translate_errors():
            listener = await asyncpg.connect(self._dsn)
            await listener.add_listener(
                CHANNEL, lambda _conn, _pid, _channel, payload: callback(payload)
            )
        self._listener = listener

    async def apply_window(self, outcome: WindowOutcome) -> bool:
        """Apply one window's outcome (see ``apply_windows``)."""
        return outcome.webhook_id in await self.apply_windows([outcome])

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Compare-and-set each cursor (lease holder only), store back-off, record attempts.

        One statement: the attempt rows are written only for the cursors that moved.
        """
        if not outcomes:
            return {}
        found = await self._rows(
            "apply_windows",
            outcomes=_outcomes_json(outcomes),
            worker=self.worker_id,
            lease_seconds=self._lease_seconds,
            attempts=_attempts_json([a for o in outcomes for a in o.attempts]),
            ids=[o.webhook_id for o in outcomes],
        )
        return {r["id"]: r["active"] for r in found}


def _outcomes_json(outcomes: Sequence[WindowOutcome]) -> str:
    return json_text(
        [
            {
                "webhook_id": o.webhook_id,
                "tenant": o.tenant,
                "expected_cursor": o.expected_cursor,
                "cursor": o.cursor,
                "failures": o.failures,
                "next_attempt_at": _iso(o.next_attempt_at),
                "disabled_reason": o.disabled_reason,
                "caught_up_at": _iso(o.caught_up_at),
                "keep_lease": o.keep_lease,
            }
            for o in outcomes
        ]
    )


def _attempts_json(attempts: Sequence[DeliveryAttempt]) -> str:
    return json_text(
        [
            {
                "webhook_id": a.webhook_id,
                "message_id": a.message_id,
                "record_id": a.record_id,
                "change_version": a.change_version,
                "attempted_at": a.attempted_at.isoformat(),
                "succeeded": a.succeeded,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error_class": a.error_class,
                "response_excerpt": a.response_excerpt,
                "next_attempt_at": _iso(a.next_attempt_at),
            }
            for a in attempts
        ]
    )
