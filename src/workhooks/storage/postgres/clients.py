"""API clients and token signing keys in PostgreSQL (the ``ClientStore`` slice)."""

from __future__ import annotations

import datetime as dt

from workhooks.domain.clients import Client, SigningKey
from workhooks.storage import rows
from workhooks.storage.postgres.base import CODEC, PostgresBase, fetchrow, run

__all__ = ["PostgresClients"]


class PostgresClients(PostgresBase):
    """Clients and signing keys."""

    async def add_client(self, client: Client) -> None:
        """Register a client."""
        async with self._tx() as conn:
            await run(conn, "insert_client", **rows.client_params(client, CODEC))

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        row = await self._row("get_client", id=client_id)
        return None if row is None else rows.client(row, CODEC)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        return [rows.client(r, CODEC) for r in await self._rows("list_clients", tenant=tenant)]

    async def revoke_client(self, client_id: str, *, at: dt.datetime) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time)."""
        row = await self._row("revoke_client", id=client_id, at=at)
        return None if row is None else rows.client(row, CODEC)

    async def set_client_secret(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace a live client's secret hash; None when unknown or revoked."""
        row = await self._row("set_client_secret", id=client_id, secret_hash=secret_hash)
        return None if row is None else rows.client(row, CODEC)

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Insert ``candidate`` unless a key exists; return the oldest key."""
        params = rows.signing_key_params(candidate, CODEC, self._sealer)
        async with self._tx() as conn:
            await run(conn, "insert_signing_key_if_none", **params)
            row = await fetchrow(conn, "get_signing_key")
        assert row is not None
        return rows.signing_key(row, CODEC, self._sealer)

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key (it signs from now on, as the newest)."""
        params = rows.signing_key_params(key, CODEC, self._sealer)
        async with self._tx() as conn:
            await run(conn, "insert_signing_key", **params)

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""
        found = await self._rows("list_signing_keys")
        return [rows.signing_key(r, CODEC, self._sealer) for r in found]
