"""The delivery worker's statements in SQLite (the ``DeliveryStore`` slice, less the lock).

One process delivers from a database file (see ``SqliteStore.hold_delivery``), so there are
no leases: ``due_webhooks`` is a read, and every webhook is held by the one worker.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Collection, Sequence

from workhooks.domain.webhooks import Webhook
from workhooks.storage.protocol import WindowOutcome
from workhooks.storage.rows import json_text
from workhooks.storage.sqlite.base import CODEC, Q, SqliteBase

__all__ = ["SqliteDelivery"]


class SqliteDelivery(SqliteBase):
    """Finding due webhooks, settling tenants and applying what windows achieved."""

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Collection[str] = (),
        after: str = "",
        full: Collection[str] = (),
    ) -> list[Webhook]:
        """Webhooks with work that may send now, tenants taking turns (a read: no leases)."""
        params = {
            "now": CODEC.instant(now),
            "limit": limit,
            "holding": json_text(sorted(holding)),
            "after": after,
            "full": json_text(sorted(full)),
        }
        return [self._row_webhook(r) for r in await self._rows("due_webhooks", params)]

    async def renew_leases(self, webhook_ids: Collection[str]) -> set[str]:
        """One worker per database here: it holds every webhook."""
        return set(webhook_ids)

    async def release_leases(self, webhook_ids: Collection[str]) -> None:
        """No leases on SQLite: one worker per database."""

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Changes come from this process only; its services wake the worker directly."""

    async def apply_window(self, outcome: WindowOutcome) -> bool:
        """Apply one window's outcome (see ``apply_windows``)."""
        return outcome.webhook_id in await self.apply_windows([outcome])

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Move the cursors (compare-and-set) and insert the attempts, in one transaction.

        A constant number of statements per batch, fed JSON arrays: the writer thread then
        needs the GIL a few times per batch rather than a few times per window.
        """
        # A batch's attempts share few instants: format each once, not per attempt.
        stamps: dict[dt.datetime | None, str | None] = {None: None}

        def stamp(value: dt.datetime | None) -> str | None:
            if value not in stamps:
                stamps[value] = CODEC.instant_or_none(value)
            return stamps[value]

        moves = json_text(
            [
                (
                    o.webhook_id,
                    o.tenant,
                    o.expected_cursor,
                    o.cursor,
                    o.failures,
                    stamp(o.next_attempt_at),
                    o.disabled_reason,
                    stamp(o.caught_up_at),
                )
                for o in outcomes
            ]
        )
        # Positional, in the column order insert_attempts names.
        attempts = {
            o.webhook_id: [
                (
                    a.webhook_id,
                    a.message_id,
                    a.record_id,
                    a.change_version,
                    stamp(a.attempted_at),
                    int(a.succeeded),
                    a.status_code,
                    a.latency_ms,
                    a.error_class,
                    a.response_excerpt,
                    stamp(a.next_attempt_at),
                )
                for a in o.attempts
            ]
            for o in outcomes
        }

        def run(c: sqlite3.Connection) -> dict[str, bool]:
            moved = c.execute(Q["apply_windows"].sql, {"outcomes": moves}).fetchall()
            applied = {r["id"]: bool(r["active"]) for r in moved}
            c.execute(Q["unsettle_tenants"].sql, {"outcomes": moves})
            kept = [a for webhook_id in applied for a in attempts[webhook_id]]
            if kept:
                batch = {"attempts": json_text(kept)}
                c.execute(Q["insert_attempts"].sql, batch)
                c.execute(Q["upsert_deliveries"].sql, batch)
            return applied

        return await self._write(run)
