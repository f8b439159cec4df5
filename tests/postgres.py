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

__all__ = ["ADMIN_URL", "TABLES", "postgres_database", "reset_database"]

ADMIN_URL = os.environ.get(
    "WORKHOOKS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TABLES = (
    "tenants, clients, signing_keys, people, work_interruptions, person_references, webhooks, "
    "delivery_attempts, deliveries"
)


def _blocking(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on its own thread (callers may be inside a loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(make())).result()


def _reachable() -> str | None:
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
    problem = _reachable()
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


async def reset_database(url: str) -> None:
    """Empty every table (the schema stays), so each test starts from nothing."""
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('public.tenants') IS NOT NULL")
        if exists:
            await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
    finally:
        await conn.close()
