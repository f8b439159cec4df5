"""Secrets at rest: read access to the database (SQLite file or PostgreSQL) is not enough to
sign events or tokens; clear rows from before are sealed; the master key rotates.

Each test runs on SQLite over a real file and on real PostgreSQL: the raw rows are read
with a plain driver, as someone holding only the database would.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives import serialization

from tests.integration.store_helpers import T0, new_webhook
from tests.postgres import reset_database
from workhooks.services.auth import generate_signing_key
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sealing import MasterKeyError, Sealer, new_master_key
from workhooks.storage.sqlite.store import SqliteStore

pytestmark = pytest.mark.timeout(60)

OLD, NEW = new_master_key(), new_master_key()
CLEAR_KEY = b"k" * 32


class Database:
    """One database, opened as a store with given master keys, or read raw."""

    def __init__(self, kind: str, location: str) -> None:
        self.kind = kind
        self.location = location

    def store(self, *keys: bytes) -> Store:
        sealer = Sealer(list(keys))
        if self.kind == "sqlite":
            return SqliteStore(self.location, sealer=sealer)
        return PostgresStore(self.location, sealer=sealer)

    @asynccontextmanager
    async def opened(self, *keys: bytes) -> AsyncIterator[Store]:
        store = self.store(*keys)
        await store.open()
        try:
            yield store
        finally:
            await store.close()

    async def raw(self, query: str) -> list[bytes]:
        """The first column of ``query``'s rows, read with a plain driver."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.location) as conn:
                return [bytes(r[0]) for r in conn.execute(query)]
        conn = await asyncpg.connect(self.location)
        try:
            return [bytes(r[0]) for r in await conn.fetch(query)]
        finally:
            await conn.close()

    async def write_raw(self, statement: str, *args: object) -> None:
        """Run ``statement`` (``?`` placeholders) with a plain driver, as an old version would."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.location) as conn:
                conn.execute(statement, args)
            return
        conn = await asyncpg.connect(self.location)
        try:
            numbered = statement
            for n in range(1, len(args) + 1):
                numbered = numbered.replace("?", f"${n}", 1)
            await conn.execute(numbered, *args)
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return Database("sqlite", str(tmp_path / "secrets.db"))
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return Database("postgres", url)


async def test_the_database_holds_no_clear_webhook_key_or_token_signing_key(
    database: Database,
) -> None:
    """Webhook keys and the token signing key are stored sealed; the store reads them back."""
    async with database.opened(NEW) as store:
        signing = await store.ensure_signing_key(generate_signing_key(T0))
        await store.create_webhook(new_webhook("w1"))
        webhook = await store.get_webhook("acme", "w1")
        assert webhook is not None
        assert webhook.secret == b"s" * 32
    (stored_secret,) = await database.raw("SELECT secret FROM webhooks")
    (stored_key,) = await database.raw("SELECT private_key FROM signing_keys")
    assert b"s" * 16 not in stored_secret
    assert b"PRIVATE KEY" not in stored_key
    assert signing.private_key.split(b"\n")[1] not in stored_key
    serialization.load_pem_private_key(signing.private_key, password=None)


async def test_clear_secrets_of_an_older_version_are_sealed_at_start(database: Database) -> None:
    """Rows stored in clear before secrets were sealed are sealed when the store opens."""
    async with database.opened(NEW) as store:
        await store.create_webhook(new_webhook("w1"))
    pem = generate_signing_key(T0).private_key
    await database.write_raw("UPDATE webhooks SET secret = ?", CLEAR_KEY)
    await database.write_raw(
        "INSERT INTO signing_keys (kid, private_key, created_at) VALUES (?, ?, ?)",
        "old",
        pem,
        T0.isoformat(timespec="microseconds") if database.kind == "sqlite" else T0,
    )
    async with database.opened(NEW) as store:
        webhook = await store.get_webhook("acme", "w1")
        assert webhook is not None
        assert webhook.secret == CLEAR_KEY
        assert [k.private_key for k in await store.signing_keys()] == [pem]
    assert all(CLEAR_KEY not in v for v in await database.raw("SELECT secret FROM webhooks"))
    assert all(
        b"PRIVATE KEY" not in v for v in await database.raw("SELECT private_key FROM signing_keys")
    )


async def test_a_wrong_master_key_stops_the_start_and_names_the_key_needed(
    database: Database,
) -> None:
    """Opening the database with a master key that did not seal its secrets fails clearly."""
    async with database.opened(OLD) as store:
        await store.ensure_signing_key(generate_signing_key(T0))
        await store.create_webhook(new_webhook("w1"))
    needed = Sealer([OLD]).current_key_id
    with pytest.raises(MasterKeyError, match=f"master key {needed}, which is not configured"):
        async with database.opened(NEW) as store:
            await store.signing_keys()


async def test_a_master_key_rotation_reseals_every_secret_under_the_new_key(
    database: Database,
) -> None:
    """With the ring (new, old) the store opens both; ``reseal_secrets`` moves every secret to
    the new key, after which the old key can be dropped."""
    async with database.opened(OLD) as store:
        signing = await store.ensure_signing_key(generate_signing_key(T0))
        await store.create_webhook(new_webhook("w1"))
        await store.create_webhook(new_webhook("w2"))
    async with database.opened(NEW, OLD) as store:
        assert await store.reseal_secrets() == 3
        assert await store.reseal_secrets() == 0
    async with database.opened(NEW) as store:
        assert await store.signing_keys() == [signing]
        webhook = await store.get_webhook("acme", "w2")
        assert webhook is not None
        assert webhook.secret == b"s" * 32
    with pytest.raises(MasterKeyError):
        async with database.opened(OLD) as store:
            await store.signing_keys()


async def test_a_sealed_key_moved_to_another_row_is_refused(database: Database) -> None:
    """Copying one webhook's sealed key onto another row does not give that row a usable key."""
    async with database.opened(NEW) as store:
        await store.create_webhook(new_webhook("w1"))
        await store.create_webhook(new_webhook("w2"))
    (sealed,) = await database.raw("SELECT secret FROM webhooks WHERE id = 'w1'")
    await database.write_raw("UPDATE webhooks SET secret = ? WHERE id = 'w2'", sealed)
    async with database.opened(NEW) as store:
        with pytest.raises(MasterKeyError, match="altered"):
            await store.get_webhook("acme", "w2")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _modes(folder: Path, prefix: str) -> dict[str, int]:
    return {p.name: _mode(p) for p in folder.iterdir() if p.name.startswith(prefix)}


async def test_the_sqlite_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """The database, its -wal and -shm files are created 0600, whatever the umask."""
    path = tmp_path / "private.db"
    previous = os.umask(0o022)
    try:
        store = SqliteStore(str(path), sealer=Sealer([NEW]))
        await store.open()
        await store.create_webhook(new_webhook("w1"))
        modes = _modes(tmp_path, "private.db")
        await store.close()
    finally:
        os.umask(previous)
    assert {"private.db", "private.db-wal", "private.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}


async def test_an_existing_sqlite_file_open_to_others_is_tightened(tmp_path: Path) -> None:
    """A database file created 0644 by an older version is made 0600 when opened."""
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    store = SqliteStore(str(path), sealer=Sealer([NEW]))
    await store.open()
    await store.close()
    assert _mode(path) == 0o600
