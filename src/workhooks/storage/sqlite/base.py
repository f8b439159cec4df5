"""The plumbing every part of ``SqliteStore`` shares: its two threads and connections, one
transaction per call, the SQLite codec and the named queries.

All writes go through one connection on one thread (SQLite has a single writer anyway),
reads through a second connection on another thread, so a slow write never blocks the
delivery worker's reads. Each ``Store`` method is one transaction: one thread hop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from workhooks.domain.deliveries import Delivery
from workhooks.errors import StoreUnavailableError
from workhooks.storage import rows
from workhooks.storage.rows import Codec, json_text
from workhooks.storage.scripts import Returned, Script, Step, UniqueViolation, Want, resume
from workhooks.storage.sealing import Sealer
from workhooks.storage.sql import Query, load_dialect
from workhooks.storage.sql_common import SqlCommon

__all__ = ["CODEC", "Q", "SqliteBase", "connect", "drive"]

T = TypeVar("T")
_PACKAGE = "workhooks.storage.sqlite"


def _ts(value: dt.datetime) -> str:
    """Store instants as fixed-width UTC ISO text, so text order is time order."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


CODEC = Codec(
    instant=_ts,
    read_instant=dt.datetime.fromisoformat,
    day=dt.date.isoformat,
    read_day=dt.date.fromisoformat,
    many=json_text,
)
"""SQLite holds instants and days as ISO text and passes lists as JSON text."""

Q: dict[str, Query] = load_dialect(_PACKAGE)


def connect(path: str) -> sqlite3.Connection:
    """A connection in WAL mode with foreign keys on, waiting up to 10 s for a lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    _switch_to_wal(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL with synchronous=NORMAL: a killed process loses no committed transaction;
    # only an OS crash or power loss may lose the last few.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting as ``busy_timeout`` would.

    Switching a new file to WAL takes an exclusive lock, and SQLite answers "database is
    locked" at once (without its busy handler) while another process holds one, as when
    several processes start on a new file together: retried for up to 10 s.
    """
    deadline = time.monotonic() + _WAL_WAIT_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


_WAL_WAIT_SECONDS = 10.0
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


_UNIQUE = frozenset({sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY})


def drive(conn: sqlite3.Connection, script: Script[T]) -> T:
    """Run ``script``'s statements on ``conn`` (in the caller's transaction); its answer."""
    result: Any = None
    violation: UniqueViolation | None = None
    while not isinstance(step := resume(script, result, violation), Returned):
        result, violation = None, None
        try:
            result = _execute(conn, step)
        except sqlite3.IntegrityError as exc:
            if exc.sqlite_errorcode not in _UNIQUE:
                raise
            violation = UniqueViolation(step.name)
    return step.value


def _execute(conn: sqlite3.Connection, step: Step) -> Any:
    sql = Q[step.name].sql
    if step.want is Want.EACH:
        conn.executemany(sql, step.batch)
        return None
    found = conn.execute(sql, step.params)
    if step.want is Want.COUNT:
        return found.rowcount
    return found.fetchone() if step.want is Want.ONE else found.fetchall()


@contextmanager
def _full_disk_is_unavailable() -> Iterator[None]:
    """A full disk (or database size limit) is a passing outage: 503, retry later.

    The transaction was rolled back, so nothing acknowledged is lost and nothing half-written
    stays; the write succeeds once space is freed.
    """
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
            raise
        raise StoreUnavailableError(
            "The database is full; try again later",
            reasons=("database: no space left for the SQLite file",),
        ) from exc


class SqliteBase(SqlCommon):
    """The threads, connections and transactions the parts of ``SqliteStore`` run on."""

    _codec = CODEC

    _sealer: Sealer
    _writer_pool: ThreadPoolExecutor
    _reader_pool: ThreadPoolExecutor
    _writer: sqlite3.Connection | None
    _reader: sqlite3.Connection | None

    @staticmethod
    def _row_delivery(row: sqlite3.Row) -> Delivery:
        return rows.delivery(row, CODEC)

    @staticmethod
    async def _on(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction on the writer thread."""
        conn = self._writer
        assert conn is not None, "SqliteStore.open() was not awaited"

        def run() -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk does that).
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        with _full_disk_is_unavailable():
            return await self._on(self._writer_pool, run)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one read transaction on the reader thread (a consistent snapshot)."""
        conn = self._reader
        assert conn is not None, "SqliteStore.open() was not awaited"

        def run() -> T:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.execute("COMMIT")

        with _full_disk_is_unavailable():  # sorting may need temporary space
            return await self._on(self._reader_pool, run)

    async def _reading(self, script: Script[T]) -> T:
        """Run a script in one read transaction on the reader thread."""
        return await self._read(lambda c: drive(c, script))

    async def _writing(self, script: Script[T]) -> T:
        """Run a script in one write transaction on the writer thread."""
        return await self._write(lambda c: drive(c, script))
