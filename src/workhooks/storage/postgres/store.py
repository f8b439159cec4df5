"""``PostgresStore``: the server store (asyncpg), for many API nodes and delivery workers.

Its parts live by concept: ``base`` (pool, transactions), ``records`` (the one-statement
writes with commit-ordered versions), ``delivery`` (leases and wake-ups) and ``console``,
over what both SQL stores share (``sql_common``: webhooks, history, references and groups
are written there once); this module opens and closes the pool, migrates the database and
seals its secrets.

- Once a write has committed, its tenant is announced (``pg_notify``, coalesced, outside the
  write: see ``announcer``); ``listen`` wakes workers of every process.
- Connection failures surface as ``StoreUnavailableError`` (503 at the API).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence

import asyncpg

from workhooks.errors import StoreUnavailableError
from workhooks.storage.postgres.announcer import Announcer
from workhooks.storage.postgres.base import Q, drive
from workhooks.storage.postgres.connection import PoolSettings, translate_errors
from workhooks.storage.postgres.delivery import PostgresDelivery
from workhooks.storage.postgres.records import PostgresRecords
from workhooks.storage.sealing import Sealer
from workhooks.storage.sql import load_migrations, pending_migrations
from workhooks.storage.sql_common import seal_secrets
from workhooks.storage.sql_console import SqlConsole

__all__ = ["PostgresStore"]

_MIGRATIONS = "workhooks.storage.postgres.migrations"


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release a pooled connection without asyncpg's reset query (one round trip saved).

    The store leaves no session state behind: its advisory lock is transaction-scoped,
    it opens no cursors, sets nothing and listens on a connection of its own; an open
    transaction is still rolled back by the pool before this is called.
    """


async def _migrate(conn: asyncpg.Connection) -> tuple[str, ...]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
    )
    done = {r["number"] for r in await conn.fetch("SELECT number FROM schema_migrations")}
    applied = []
    for number, name, sql in pending_migrations(_MIGRATIONS, done):
        await conn.execute(sql)
        await conn.execute(
            "INSERT INTO schema_migrations (number, name) VALUES ($1, $2)", number, name
        )
        applied.append(f"{number:04d}_{name}")
    return tuple(applied)


class PostgresStore(PostgresRecords, PostgresDelivery, SqlConsole):
    """The ``Store`` on PostgreSQL; ``worker_id`` names this process in webhook leases.

    ``sealer`` seals the secrets it stores (webhook keys, token signing keys), so read
    access to the database is not enough to sign events or tokens.

    ``trace``, when given, is called with every statement sent on a pooled connection
    (the benchmarks count SQL per delivery with it); never set in production.
    """

    def __init__(
        self,
        dsn: str,
        *,
        sealer: Sealer,
        pool: PoolSettings | None = None,
        worker_id: str | None = None,
        lease_seconds: float = 30.0,
        trace: Callable[[str], None] | None = None,
    ) -> None:
        self._dsn = dsn
        self._sealer = sealer
        self._trace = trace
        self._pool_settings = pool or PoolSettings()
        self._pool = None
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self._lease_seconds = lease_seconds
        self._listener = None
        self.migrations_applied: tuple[str, ...] = ()
        self.schema_version = 0
        self._on_change = None
        self._announcer = Announcer(self._send_announcement)

    async def open(self) -> None:
        """Create the pool and apply pending migrations (serialised by an advisory lock).

        Secrets stored in clear by an older version are sealed; a secret sealed with a
        master key that is not configured stops the start with ``MasterKeyError``.
        """
        with translate_errors():
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._pool_settings.min_size,
                max_size=self._pool_settings.max_size,
                command_timeout=self._pool_settings.command_timeout,
                init=self._traced if self._trace is not None else None,
                reset=_keep_session,
            )
        try:
            async with self._tx() as conn:
                await conn.execute("SELECT pg_advisory_xact_lock(7461737)")  # one migrator
                self.migrations_applied = await _migrate(conn)
                await drive(conn, seal_secrets(self._sealer))
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise
        self.schema_version = len(load_migrations(_MIGRATIONS))

    async def _traced(self, conn: asyncpg.Connection) -> None:
        """Report every statement of a pooled connection (benchmarks; never in production)."""
        trace = self._trace
        if trace is not None:
            conn.add_query_logger(lambda record: trace(record.query))

    async def close(self) -> None:
        """Give up leases, stop listening, close the pool."""
        if self._pool is None:
            return
        await self._announcer.close()
        with contextlib.suppress(StoreUnavailableError):  # the leases run out by themselves
            await self._change("release_leases", {"worker": self.worker_id})
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self._pool.close()
        self._pool = None

    async def ping(self) -> None:
        """Answer a trivial query on a pooled connection (``StoreUnavailableError`` if not)."""
        await self._fetch("SELECT 1")

    async def _send_announcement(self, tenants: Sequence[str]) -> None:
        pool = self._pool
        if pool is not None:
            query = Q["announce"]
            await pool.execute(query.sql, *query.args(tenants=list(tenants)))

    async def reseal_secrets(self) -> int:
        """Seal every secret under the newest master key; return how many were sealed anew."""
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(7461737)")  # not during migration
            return await drive(conn, seal_secrets(self._sealer, prefix=self._sealer.current_prefix))
