"""Wake-ups for other processes, sent after commit and coalesced.

A ``NOTIFY`` inside a writing transaction would make every commit in the cluster wait on
PostgreSQL's one notification lock, held until the commit's WAL flush. So a write only
marks its tenant here, once committed; one announcement at a time carries every tenant
marked since the previous one (each tenant once), in a transaction of its own that does
not wait for its flush. A burst of writes costs a few announcements, not one per write,
and an idle process sends nothing.

An announcement that fails (the database is restarting) is dropped: workers also poll,
so it costs at most one poll interval, never a change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["Announcer"]

logger = logging.getLogger(__name__)


class Announcer:
    """Collects tenants that wrote and sends them with ``send``, one call in flight at most."""

    def __init__(self, send: Callable[[Sequence[str]], Awaitable[None]]) -> None:
        self._send = send
        self._pending: dict[str, None] = {}  # insertion-ordered set
        self._task: asyncio.Task[None] | None = None

    def changed(self, tenant: str) -> None:
        """Mark ``tenant`` as written (call after its commit); announce it soon."""
        self._pending[tenant] = None
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="workhooks-announce"
            )

    async def _drain(self) -> None:
        try:
            while self._pending:
                tenants = list(self._pending)
                self._pending.clear()
                try:
                    await self._send(tenants)
                except Exception as exc:  # workers poll: the wake-up is late, nothing lost
                    logger.debug("wake-up for %d tenant(s) not sent: %s", len(tenants), exc)
        finally:
            self._task = None

    async def close(self) -> None:
        """Send what is pending (best effort) and stop."""
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
