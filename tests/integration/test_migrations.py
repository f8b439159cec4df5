"""The numbered migrations of each dialect produce exactly the current schema."""

from __future__ import annotations

from pathlib import Path

from tests.postgres import reset_database
from tests.schema_dump import SNAPSHOTS, dump_postgres, dump_sqlite
from workhooks.storage.postgres.store import PostgresStore
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
