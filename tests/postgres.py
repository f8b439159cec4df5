"""The PostgreSQL test tier: a throw-away database per test session, emptied between tests.

Set ``WORKHOOKS_TEST_POSTGRES`` to the server's admin URL (default
``postgresql://postgres@127.0.0.1:5432/postgres``). Without a reachable server the tier is
skipped with a plain message, except under CI (``CI=true``), where it is mandatory.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest

__all__ = ["ADMIN_URL", "TABLES", "TcpProxy", "postgres_database", "reachable", "reset_database"]

ADMIN_URL = os.environ.get(
    "WORKHOOKS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TABLES = (
    "tenants, clients, signing_keys, people, work_interruptions, person_references, webhooks, "
    "delivery_attempts, deliveries, person_groups, person_group_members, operators, audit_log, "
    "lag_samples, console_sessions, test_event_slots"
)


def _blocking(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on its own thread (callers may be inside a loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(make())).result()


def reachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(ADMIN_URL, timeout=3)
        await conn.close()

    try:
        _blocking(probe)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _admin(statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    _blocking(run)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of a fresh database for this test session, dropped at the end."""
    problem = reachable()
    if problem is not None:
        message = f"PostgreSQL tier skipped: no server at {ADMIN_URL} ({problem})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; under CI the PostgreSQL tier is mandatory", pytrace=False)
        pytest.skip(message)
    name = f"workhooks_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Emptying by DELETE: the tables of one test hold a few rows, and TRUNCATE makes new files
# for every table and index (about a quarter of a second a test, against a few milliseconds).
_TABLE_NAMES = [table.strip() for table in TABLES.split(",")]
_DELETE = "".join(f"DELETE FROM {table};" for table in _TABLE_NAMES)  # noqa: S608 - constants
# The sequences these tables own start again at 1, as after TRUNCATE ... RESTART IDENTITY.
_RESTART_SEQUENCES = """
    SELECT setval(s.oid, 1, false)
    FROM pg_class s
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
        AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.relkind = 'S' AND t.relnamespace = 'public'::regnamespace
        AND t.relname = ANY($1::text[])
"""


async def reset_database(url: str) -> None:
    """Empty every table (the schema stays), so each test starts from nothing."""
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('public.tenants') IS NOT NULL")
        if exists:
            async with conn.transaction():
                await conn.execute(_DELETE)
                await conn.execute(_RESTART_SEQUENCES, _TABLE_NAMES)
    finally:
        await conn.close()


class TcpProxy:
    """A loopback TCP proxy to the PostgreSQL server: ``stop()`` is an outage, ``start()`` ends it.

    Stopping closes every proxied connection and refuses new ones, as a restarting server does.
    """

    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        self._writers.update((client_w, server_w))
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))

    async def start(self) -> None:
        """Listen (again) on the same loopback port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def url(self, database_url: str) -> str:
        """``database_url`` routed through this proxy."""
        scheme, _, rest = database_url.partition("://")
        user, _, location = rest.rpartition("@")
        _, _, database = location.partition("/")
        return f"{scheme}://{user}@127.0.0.1:{self.port}/{database}"
