"""The numbered migrations of each dialect produce exactly the current schema."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.postgres import reset_database
from tests.schema_dump import SNAPSHOTS, dump_postgres, dump_sqlite
from workhooks.errors import SchemaTooNewError
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests

HINT = "the schema changed: if on purpose, regenerate with `.venv/bin/python -m tests.schema_dump`"


async def test_sqlite_migrations_produce_the_current_schema(tmp_path: Path) -> None:
    """Migrating an empty SQLite file gives the committed schema snapshot, column for column."""
    path = tmp_path / "fresh.db"
    store = SqliteStore(str(path), sealer=sealer_for_tests())
    await store.open()
    await store.close()
    assert dump_sqlite(str(path)) == (SNAPSHOTS / "sqlite.txt").read_text(), HINT


async def test_postgres_migrations_produce_the_current_schema(postgres_database: str) -> None:
    """Migrating a PostgreSQL database gives the committed schema snapshot."""
    await reset_database(postgres_database)
    store = PostgresStore(postgres_database, sealer=sealer_for_tests())
    await store.open()
    await store.close()
    dumped = await dump_postgres(postgres_database)
    assert dumped == (SNAPSHOTS / "postgres.txt").read_text(), HINT


async def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    """A second open of a migrated file changes nothing in its schema."""
    path = tmp_path / "twice.db"
    for _ in range(2):
        store = SqliteStore(str(path), sealer=sealer_for_tests())
        await store.open()
        await store.close()
    assert dump_sqlite(str(path)) == (SNAPSHOTS / "sqlite.txt").read_text()


async def _open_close(store: Store) -> Store:
    await store.open()
    await store.close()
    return store


def _make(kind: str, target: str) -> Store:
    if kind == "sqlite":
        return SqliteStore(target, sealer=sealer_for_tests())
    return PostgresStore(target, sealer=sealer_for_tests())


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_target(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """An empty database of each dialect, without any schema: ``(kind, path or URL)``."""
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "migrate.db")
        return
    session_url: str = request.getfixturevalue("postgres_database")  # skips without a server
    base, _, session_name = session_url.rpartition("/")
    name = f"{session_name}_migrate"
    admin = await asyncpg.connect(session_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield "postgres", f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_migrating_at_once_from_several_nodes_applies_each_migration_once(
    fresh_target: tuple[str, str],
) -> None:
    """Three processes migrating one empty database at once: one applies everything, the
    others find it done, and the schema is complete."""
    kind, target = fresh_target
    stores = await asyncio.gather(*(_open_close(_make(kind, target)) for _ in range(3)))
    applied = sorted((s.migrations_applied for s in stores), key=len)
    assert applied[:2] == [(), ()]
    assert len(applied[2]) == stores[0].schema_version > 0
    again = await _open_close(_make(kind, target))
    assert again.migrations_applied == ()
    assert again.schema_version == stores[0].schema_version


async def test_a_schema_newer_than_this_release_is_refused(fresh_target: tuple[str, str]) -> None:
    """A database carrying a migration this release does not know makes open() fail with a
    message naming both versions; nothing is applied."""
    kind, target = fresh_target
    known = (await _open_close(_make(kind, target))).schema_version
    if kind == "sqlite":
        with sqlite3.connect(target) as lite:
            lite.execute("INSERT INTO schema_migrations VALUES (?, 'future')", (known + 1,))
    else:
        conn = await asyncpg.connect(target)
        try:
            await conn.execute("INSERT INTO schema_migrations VALUES ($1, 'future')", known + 1)
        finally:
            await conn.close()
    store = _make(kind, target)
    with pytest.raises(SchemaTooNewError) as raised:
        await store.open()
    await store.close()
    assert raised.value.found == known + 1
    assert raised.value.known == known
    assert f"schema is at version {known + 1}" in str(raised.value)
    assert "never an older one" in str(raised.value)
