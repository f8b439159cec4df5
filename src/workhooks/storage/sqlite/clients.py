"""API clients and token signing keys in SQLite (the ``ClientStore`` slice)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from workhooks.domain.clients import Client, SigningKey
from workhooks.storage import rows
from workhooks.storage.sqlite.base import CODEC, Q, SqliteBase

__all__ = ["SqliteClients"]


class SqliteClients(SqliteBase):
    """Clients and signing keys, one transaction per call."""

    async def add_client(self, client: Client) -> None:
        """Register a client."""
        await self._change("insert_client", rows.client_params(client, CODEC))

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        row = await self._row("get_client", {"id": client_id})
        return None if row is None else rows.client(row, CODEC)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        return [rows.client(r, CODEC) for r in await self._rows("list_clients", {"tenant": tenant})]

    async def revoke_client(self, client_id: str, *, at: dt.datetime) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time)."""
        return await self._client_of("revoke_client", {"id": client_id, "at": CODEC.instant(at)})

    async def set_client_secret(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace a live client's secret hash; None when unknown or revoked."""
        params = {"id": client_id, "secret_hash": secret_hash}
        return await self._client_of("set_client_secret", params)

    async def _client_of(self, name: str, params: dict[str, Any]) -> Client | None:
        sql = Q[name].sql
        row = await self._write(lambda c: c.execute(sql, params).fetchone())
        return None if row is None else rows.client(row, CODEC)

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Insert ``candidate`` unless a key exists; return the oldest key."""
        params = rows.signing_key_params(candidate, CODEC, self._sealer)

        def run(c: sqlite3.Connection) -> sqlite3.Row:
            c.execute(Q["insert_signing_key_if_none"].sql, params)
            row: sqlite3.Row = c.execute(Q["get_signing_key"].sql).fetchone()
            return row

        return rows.signing_key(await self._write(run), CODEC, self._sealer)

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key (it signs from now on, as the newest)."""
        await self._change("insert_signing_key", rows.signing_key_params(key, CODEC, self._sealer))

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""
        found = await self._rows("list_signing_keys", {})
        return [rows.signing_key(r, CODEC, self._sealer) for r in found]
