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
from workhooks.storage.scripts import Returned, Script, Step, UniqueViolation, Want, resume
from workhooks.storage.sealing import Sealer
from workhooks.storage.sql import Query, load_dialect
from workhooks.storage.sql_common import SqlCommon

__all__ = ["CODEC", "PostgresBase", "Q", "drive"]

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

    async def _reading(self, script: Script[T]) -> T:
        """Run a script in one transaction on one pooled connection."""
        async with self._tx() as conn:
            return await drive(conn, script)

    _writing = _reading

    def _announce(self, tenant: str) -> None:
        """Announce ``tenant`` to every listening worker soon, coalesced (``announcer``)."""
        self._announcer.changed(tenant)

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


async def drive(conn: asyncpg.Connection, script: Script[T]) -> T:
    """Run ``script``'s statements on ``conn`` (in the caller's transaction); its answer."""
    result: Any = None
    violation: UniqueViolation | None = None
    while not isinstance(step := resume(script, result, violation), Returned):
        result, violation = None, None
        try:
            result = await _execute(conn, step)
        except asyncpg.UniqueViolationError as exc:
            violation = UniqueViolation(step.name)
            violation.__cause__ = exc
    return step.value


async def _execute(conn: asyncpg.Connection, step: Step) -> Any:
    query = Q[step.name]
    if step.want is Want.EACH:
        await conn.executemany(query.sql, [query.args(p) for p in step.batch])
        return None
    args = query.args(step.params)
    if step.want is Want.COUNT:
        status: str = await conn.execute(query.sql, *args)
        return int(status.rsplit(" ", 1)[1])
    if step.want is Want.ONE:
        return await conn.fetchrow(query.sql, *args)
    return await conn.fetch(query.sql, *args)
