"""Fixtures of the integration tests: the ``store`` of every ``Store`` implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workhooks.storage.memory import InMemoryStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened store of each implementation, closed after the test."""
    opened: Store
    if request.param == "memory":
        opened = InMemoryStore()
    else:
        opened = SqliteStore(str(tmp_path / "contract.db"))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
