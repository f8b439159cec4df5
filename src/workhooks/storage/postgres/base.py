"""The plumbing every part of ``PostgresStore`` shares: its pool, transactions, the
PostgreSQL codec and the named queries (numbered for asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from workhooks.domain.deliveries import Delivery
from workhooks.storage import rows
from workhooks.storage.postgres.announcer import Announcer
from workhooks.storage.postgres.connection import translate_errors
from workhooks.storage.rows import Codec
from workhooks.storage.sealing import Sealer
from workhooks.storage.sql import Query, load_dialect
from workhooks.storage.sql_common import SqlCommon

__all__ = ["CODEC", "PostgresBase", "Q", "fetch", "fetchrow", "run"]

T = TypeVar("T")
_PACKAGE = "workhooks.storage.postgres"


def _same(value: T) -> T:
    return value


CODEC = Codec(instant=_same, read_instant=_same, day=_same, read_day=_same, many=list)
"""asyncpg maps instants, days and lists to native types itself."""

Q: dict[str, Query] = load_dialect(_PACKAGE, numbered=True)


class PostgresBase(SqlCommon):
    """The pool and transactions the parts of ``PostgresStore`` run on."""

    _codec = CODEC

    _sealer: Sealer
    _pool: asyncpg.Pool | None
    _announcer: Announcer
    worker_id: str
    _lease_seconds: float

    @staticmethod
    def _row_delivery(row: asyncpg.Record) -> Delivery:
        return rows.delivery(row, CODEC)

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not awaited"
        with translate_errors():
            async with pool.acquire() as conn, conn.transaction():
                yield conn

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not awaited"
        with translate_errors():
            found: list[asyncpg.Record] = await pool.fetch(query, *args)
            return found

    async def _rows(
        self, name: str, params: Mapping[str, Any] | None = None, /, **more: Any
    ) -> list[asyncpg.Record]:
        """The rows of one named query, sent on its own (atomic by itself)."""
        query = Q[name]
        return await self._fetch(query.sql, *query.args(params, **more))

    async def _row(
        self, name: str, params: Mapping[str, Any] | None = None, /, **more: Any
    ) -> asyncpg.Record | None:
        """The first row of one named query."""
        found = await self._rows(name, params, **more)
        return found[0] if found else None

    async def _count(self, name: str, /, **params: Any) -> int:
        """Run one named statement outside a transaction block; return the rows it touched."""
        return await self._change(name, params)

    async def _change(self, name: str, params: Mapping[str, Any] | None = None, /) -> int:
        """Run one named statement (atomic by itself); return the rows it touched."""
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not awaited"
        query = Q[name]
        with translate_errors():
            status: str = await pool.execute(query.sql, *query.args(params))
        return int(status.rsplit(" ", 1)[1])

    async def _change_row(
        self, name: str, params: Mapping[str, Any] | None = None, /
    ) -> asyncpg.Record | None:
        """Run one named statement that writes (atomic by itself); the first row it returned."""
        return await self._row(name, params)


async def run(conn: asyncpg.Connection, name: str, /, **params: Any) -> str:
    """Execute one named statement on ``conn``; its status (``UPDATE 1``...)."""
    query = Q[name]
    status: str = await conn.execute(query.sql, *query.args(params))
    return status


async def fetch(conn: asyncpg.Connection, name: str, /, **params: Any) -> list[asyncpg.Record]:
    """The rows of one named query on ``conn``."""
    query = Q[name]
    found: list[asyncpg.Record] = await conn.fetch(query.sql, *query.args(params))
    return found


async def fetchrow(conn: asyncpg.Connection, name: str, /, **params: Any) -> asyncpg.Record | None:
    """The first row of one named query on ``conn``."""
    query = Q[name]
    row: asyncpg.Record | None = await conn.fetchrow(query.sql, *query.args(params))
    return row
