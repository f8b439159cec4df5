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


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened store of each implementation, closed after the test."""
    opened: Store
    if request.param == "memory":
        opened = InMemoryStore()
    elif request.param == "sqlite":
        opened = SqliteStore(str(tmp_path / "contract.db"), sealer=sealer_for_tests())
    else:
        url = request.getfixturevalue("postgres_database")
        await reset_database(url)
        opened = PostgresStore(url, sealer=sealer_for_tests())
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


__all__ = ["store"]
