"""What only ``SqliteStore`` promises: the file survives reopening, migrations, WAL mode."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.integration.store_helpers import (
    ALL,
    T0,
    attempt,
    draft,
    must_get_webhook,
    new_webhook,
    outcome,
    seed_people,
)
from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.records import PersonDraft
from workhooks.storage.sql import load_migrations
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests

pytestmark = pytest.mark.timeout(60)


# -- SQLite only -----------------------------------------------------------------------------


async def test_sqlite_data_survives_close_and_reopen(tmp_path: Path) -> None:
    """Everything written to the file is there again after closing and reopening it."""
    path = str(tmp_path / "reopen.db")
    first = SqliteStore(path, sealer=sealer_for_tests())
    await first.open()
    try:
        await seed_people(first, "acme", 1)
        (record,) = await first.put_work_interruptions("acme", [draft(1)])
        webhook = await first.create_webhook(new_webhook("wh0"))
        await seed_people(first, "acme", 2)
        assert await first.apply_window(outcome(webhook, cursor=2, attempts=(attempt("wh0", 1),)))
        client = Client(id="c", tenant="acme", secret_hash="h", scopes=frozenset(), created_at=T0)
        await first.add_client(client)
        key = await first.ensure_signing_key(SigningKey(kid="k", private_key=b"p", created_at=T0))
        head = await first.head_version("acme")
        stored = await must_get_webhook(first, "acme", "wh0")
    finally:
        await first.close()

    second = SqliteStore(path, sealer=sealer_for_tests())
    await second.open()
    try:
        assert await second.head_version("acme") == head
        assert await second.get_work_interruption("acme", 1) == record.record
        assert await second.get_webhook("acme", "wh0") == stored
        assert await second.list_attempts("wh0", limit=ALL) == [attempt("wh0", 1)]
        assert await second.get_client("c") == client
        other = SigningKey(kid="k2", private_key=b"q", created_at=T0)
        assert await second.ensure_signing_key(other) == key
        (next_write,) = await second.put_people("acme", [PersonDraft(id=3)])
        assert next_write.record.change_version == head + 1
    finally:
        await second.close()


def _migration_rows(path: Path) -> list[tuple[int, str]]:
    """Read ``schema_migrations`` straight from the file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT number, name FROM schema_migrations ORDER BY number")
        return [(int(n), str(name)) for n, name in rows]


def _journal_mode(path: Path) -> str:
    """Read the journal mode recorded in the file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        return str(mode)


async def test_sqlite_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    """Each migration is recorded in ``schema_migrations`` and reopening applies none again."""
    path = tmp_path / "migrations.db"
    expected = [(n, name) for n, name, _ in load_migrations("workhooks.storage.sqlite.migrations")]
    assert expected
    for _ in range(2):
        store = SqliteStore(str(path), sealer=sealer_for_tests())
        await store.open()
        await store.close()
        assert _migration_rows(path) == expected


async def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    """Opening the store switches the file to write-ahead logging."""
    path = tmp_path / "wal.db"
    store = SqliteStore(str(path), sealer=sealer_for_tests())
    await store.open()
    await store.close()
    assert _journal_mode(path) == "wal"


def test_connections_opened_at_once_on_a_new_file_all_switch_it_to_wal(tmp_path: Path) -> None:
    """Processes starting together on a new file all open it (no "database is locked").

    Switching a new file to WAL is answered "locked" at once, without SQLite's busy
    handler, while another connection switches it or writes: each connection waits instead.
    Four connections race on each of 40 new files.
    """
    import threading

    from workhooks.storage.sqlite.base import connect

    failures: list[BaseException] = []

    def open_and_write(path: Path) -> None:
        try:
            conn = connect(str(path))
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
                conn.execute("COMMIT")
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            finally:
                conn.close()
        except BaseException as exc:  # collected: a thread's failure must fail the test
            failures.append(exc)

    for n in range(40):
        path = tmp_path / f"new-{n}.db"
        threads = [threading.Thread(target=open_and_write, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
