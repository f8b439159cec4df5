"""``SqliteStore``: the zero-setup store, one SQLite file in WAL mode.

Its parts live by concept: ``base`` (threads, connections, transactions), ``records``,
``delivery`` and ``console``, over what both SQL stores share (``sql_common``: webhooks,
history, references and groups are written there once); this module opens and closes the
file, migrates it, seals its secrets and holds the one delivering process's lock.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from workhooks.errors import DeliveryHeldError
from workhooks.storage.sealing import Sealer
from workhooks.storage.sql import load_migrations, pending_migrations
from workhooks.storage.sql_common import seal_secrets
from workhooks.storage.sql_console import SqlConsole
from workhooks.storage.sqlite import base
from workhooks.storage.sqlite.delivery import SqliteDelivery
from workhooks.storage.sqlite.records import SqliteRecords

__all__ = ["SqliteStore"]

_MIGRATIONS = "workhooks.storage.sqlite.migrations"


def _owner_only(path: str) -> None:
    """Create the database file readable by its owner only, and tighten an existing one.

    SQLite gives the ``-wal`` and ``-shm`` files the mode of the database file, so they
    follow. The file holds sealed secrets, but also every record of every tenant.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)


def _lock_delivery(path: str) -> int:
    """Take the file's delivery lock (held until closed, or until the process dies)."""
    fd = os.open(f"{path}.delivery-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise DeliveryHeldError(
            f"another process (pid {holder}) already delivers from {path}; SQLite allows one "
            "delivering process per database file: run this one with --no-worker (API only), "
            "stop the other, or use PostgreSQL for several workers"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode("ascii"))
    return fd


def _migrate(conn: sqlite3.Connection) -> tuple[str, ...]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
    )
    done = {n for (n,) in conn.execute("SELECT number FROM schema_migrations")}
    applied = []
    for number, name, sql in pending_migrations(_MIGRATIONS, done):
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name))
        applied.append(f"{number:04d}_{name}")
    return tuple(applied)


class SqliteStore(SqliteRecords, SqliteDelivery, SqlConsole):
    """The ``Store`` on one SQLite file (``path`` may be ``:memory:``-free paths only).

    ``sealer`` seals the secrets it stores (webhook keys, token signing keys).
    """

    def __init__(
        self, path: str, *, sealer: Sealer, trace: Callable[[str], None] | None = None
    ) -> None:
        self._path = path
        self._sealer = sealer
        self._trace = trace
        self.migrations_applied: tuple[str, ...] = ()
        self.schema_version = 0
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._writer = None
        self._reader = None
        self._delivery_lock: int | None = None

    async def open(self) -> None:
        """Open both connections, switch to WAL and apply pending migrations.

        Secrets stored in clear by an older version are sealed; a secret sealed with a
        master key that is not configured stops the start with ``MasterKeyError``.
        """
        await self._on(self._writer_pool, _owner_only, self._path)
        self._writer = await self._on(self._writer_pool, base.connect, self._path)
        try:
            self.migrations_applied = await self._write(_migrate)
            await self._writing(seal_secrets(self._sealer))
        except BaseException:
            await self.close()
            raise
        self.schema_version = len(load_migrations(_MIGRATIONS))
        self._reader = await self._on(self._reader_pool, base.connect, self._path)
        if self._trace is not None:
            # Statement counting for benchmarks; never set in production.
            self._writer.set_trace_callback(self._trace)
            self._reader.set_trace_callback(self._trace)

    async def close(self) -> None:
        """Close connections and stop the threads."""
        for pool, conn in ((self._writer_pool, self._writer), (self._reader_pool, self._reader)):
            if conn is not None:
                await self._on(pool, conn.close)
            pool.shutdown(wait=True)
        self._writer = self._reader = None
        if self._delivery_lock is not None:
            os.close(self._delivery_lock)
            self._delivery_lock = None

    async def ping(self) -> None:
        """Answer a trivial query on the reader connection."""
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def hold_delivery(self) -> None:
        """Take the database's delivery lock; ``DeliveryHeldError`` if another process has it.

        Two processes delivering from one file would send every window twice and could
        send an older version of a record after a newer one; API-only processes share the
        file freely. The lock is an OS file lock, so a killed deliverer frees it at once.
        """
        if self._delivery_lock is None:
            self._delivery_lock = await self._on(self._writer_pool, _lock_delivery, self._path)

    async def reseal_secrets(self) -> int:
        """Seal every secret under the newest master key; return how many were sealed anew."""
        return await self._writing(seal_secrets(self._sealer, prefix=self._sealer.current_prefix))
