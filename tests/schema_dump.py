"""Normalised schema dumps, to check that the migrations produce the current schema.

Regenerate the snapshots after a deliberate schema change:
``.venv/bin/python -m tests.schema_dump`` (needs the local PostgreSQL for the second file).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

import asyncpg

from workhooks.testing import sealer_for_tests

__all__ = ["SNAPSHOTS", "dump_postgres", "dump_sqlite"]

SNAPSHOTS = Path(__file__).parent / "integration" / "schema"


def dump_sqlite(path: str) -> str:
    """Tables with their columns, then indexes, of a SQLite file, one item per line."""
    conn = sqlite3.connect(path)
    try:
        lines = []
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        for (table,) in tables:
            for _, name, kind, notnull, default, pk in conn.execute(
                f'PRAGMA table_info("{table}")'
            ):
                lines.append(
                    f"column {table}.{name} {kind} notnull={notnull} default={default} pk={pk}"
                )
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        )
        for name, sql in indexes:
            lines.append(f"index {name}: {' '.join(sql.split())}")
        return "\n".join(lines) + "\n"
    finally:
        conn.close()


async def dump_postgres(url: str) -> str:
    """Columns and indexes of the public schema of a PostgreSQL database, one item per line."""
    conn = await asyncpg.connect(url)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "ORDER BY table_name, column_name"
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY indexname"
        )
    finally:
        await conn.close()
    lines = [
        f"column {c['table_name']}.{c['column_name']} {c['data_type']} "
        f"nullable={c['is_nullable']} default={c['column_default']}"
        for c in columns
    ]
    lines += [f"index {i['indexname']}: {i['indexdef']}" for i in indexes]
    return "\n".join(lines) + "\n"


async def _write_snapshots() -> None:
    from tests.postgres import ADMIN_URL
    from workhooks.storage.postgres.store import PostgresStore
    from workhooks.storage.sqlite.store import SqliteStore

    with tempfile.TemporaryDirectory() as folder:
        sqlite_store = SqliteStore(str(Path(folder) / "schema.db"), sealer=sealer_for_tests())
        await sqlite_store.open()
        await sqlite_store.close()
        (SNAPSHOTS / "sqlite.txt").write_text(dump_sqlite(str(Path(folder) / "schema.db")))
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute('DROP DATABASE IF EXISTS "workhooks_schema_dump"')
    await admin.execute('CREATE DATABASE "workhooks_schema_dump"')
    url = ADMIN_URL.rpartition("/")[0] + "/workhooks_schema_dump"
    try:
        pg_store = PostgresStore(url, sealer=sealer_for_tests())
        await pg_store.open()
        await pg_store.close()
        (SNAPSHOTS / "postgres.txt").write_text(await dump_postgres(url))
    finally:
        await admin.execute('DROP DATABASE IF EXISTS "workhooks_schema_dump" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(_write_snapshots())
