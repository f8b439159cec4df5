"""Fixtures of the integration tests: the ``store`` of every ``Store`` implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.postgres import reset_database
from workhooks.storage.memory import InMemoryStore
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests


async def _opened(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A new, opened store of ``kind`` (memory, sqlite or postgres, on an empty database)."""
    opened: Store
    if kind == "memory":
        opened = InMemoryStore()
    elif kind == "sqlite":
        opened = SqliteStore(str(tmp_path / "contract.db"), sealer=sealer_for_tests())
    else:
        url = request.getfixturevalue("postgres_database")
        await reset_database(url)
        opened = PostgresStore(url, sealer=sealer_for_tests())
    await opened.open()
    return opened


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened store of each implementation, closed after the test."""
    opened = await _opened(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def sql_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[SqliteStore | PostgresStore]:
    """An opened store of each SQL dialect, closed after the test."""
    opened = await _opened(request.param, request, tmp_path)
    assert isinstance(opened, SqliteStore | PostgresStore)
    try:
        yield opened
    finally:
        await opened.close()


__all__ = ["sql_store", "store"]
