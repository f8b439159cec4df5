"""API client lifecycle: list, create, revoke, rotate the secret (shown once).

Used by the operator API (``/operator/clients``), the CLI (``workhooks clients ...``) and
the web console alike. ``tenant``, where a method takes it, narrows the call to one tenant:
a client of another tenant is then reported as not existing. ``actor``, where given, is
written to the audit log in the transaction that makes the change (the console and the API
give it), as are the ends of a client's portal sessions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from workhooks.domain.clients import Client, hash_secret
from workhooks.domain.operators import AuditAction, AuditEntry
from workhooks.domain.scopes import Scope
from workhooks.errors import ConflictError, InvalidRequestError, NotFoundError
from workhooks.services.clock import Clock
from workhooks.storage.console import ConsoleStore
from workhooks.storage.protocol import ClientStore

__all__ = ["ClientService", "ClientServiceStore", "NewClient", "TenantClients"]

MAX_TENANTS_PAGE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class NewClient:
    """A client just created or given a new secret: the only moment its secret is known."""

    client: Client
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantClients:
    """One tenant and its API clients, revoked ones included, oldest first."""

    tenant: str
    clients: list[Client]


def _new_secret() -> tuple[str, str]:
    """A fresh 256-bit secret and the hash that is stored."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def _check_tenant(tenant: str) -> None:
    if not tenant or not tenant.replace("-", "").replace("_", "").isalnum():
        raise InvalidRequestError(
            f"Invalid tenant {tenant!r}",
            reasons=("tenant: use letters, digits, '-' and '_' only",),
        )


class ClientServiceStore(ClientStore, ConsoleStore, Protocol):
    """What client changes use: the clients (whose changes end portal sessions and audit
    themselves) and the tenants' index of the clients."""


class ClientService:
    """Manages API clients (OAuth2 client credentials) of every tenant."""

    def __init__(self, store: ClientServiceStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _audit(self, actor: str | None, action: AuditAction, client: Client) -> AuditEntry | None:
        """The audit entry of a change to ``client``, when made by someone (``actor``)."""
        if actor is None:
            return None
        return AuditEntry(
            at=self._clock.now(),
            actor=actor,
            action=action,
            tenant=client.tenant,
            detail=f"client {client.id}",
        )

    async def tenants(self, *, after: str | None = None, limit: int = 50) -> list[TenantClients]:
        """A page of tenants (those with clients), by name after ``after``, with their clients."""
        if not 1 <= limit <= MAX_TENANTS_PAGE:
            raise InvalidRequestError(
                f"Invalid page size {limit}",
                reasons=(f"limit: between 1 and {MAX_TENANTS_PAGE}",),
            )
        names = await self._store.client_tenants(after=after, limit=limit)
        return [TenantClients(tenant=t, clients=await self.list(tenant=t)) for t in names]

    async def list(self, *, tenant: str | None = None) -> list[Client]:
        """The clients of ``tenant`` (every tenant when None), revoked ones included."""
        return await self._store.list_clients(tenant)

    async def get(self, client_id: str, *, tenant: str | None = None) -> Client:
        """One client, or ``NotFoundError``."""
        client = await self._store.get_client(client_id)
        if client is None or (tenant is not None and client.tenant != tenant):
            raise NotFoundError(f"Client {client_id} does not exist")
        return client

    async def create(
        self, tenant: str, scopes: frozenset[Scope], *, actor: str | None = None
    ) -> NewClient:
        """Register a client of ``tenant`` allowed ``scopes``; the secret is returned once."""
        _check_tenant(tenant)
        secret, secret_hash = _new_secret()
        client = Client(
            id=f"wh_{secrets.token_hex(8)}",
            tenant=tenant,
            secret_hash=secret_hash,
            scopes=scopes,
            created_at=self._clock.now(),
        )
        await self._store.add_client(
            client, audit=self._audit(actor, AuditAction.CLIENT_CREATE, client)
        )
        return NewClient(client=client, secret=secret)

    async def revoke(
        self, client_id: str, *, tenant: str | None = None, actor: str | None = None
    ) -> Client:
        """Revoke a client: it gets no more tokens and the tokens it holds stop working at
        once, on every server of the database, as do its portal sessions. Revoking twice
        changes nothing."""
        current = await self.get(client_id, tenant=tenant)
        audit = self._audit(actor, AuditAction.CLIENT_REVOKE, current)
        client = await self._store.revoke_client(client_id, at=self._clock.now(), audit=audit)
        if client is None:
            raise NotFoundError(f"Client {client_id} does not exist")
        return client

    async def rotate_secret(
        self, client_id: str, *, tenant: str | None = None, actor: str | None = None
    ) -> NewClient:
        """Give a client a new secret (returned once); the old one stops working at once, and
        the portal sessions signed in with it end.

        Tokens taken with the old secret keep working until they expire (at most the token
        lifetime); revoke the client to stop them too.
        """
        current = await self.get(client_id, tenant=tenant)
        secret, secret_hash = _new_secret()
        audit = self._audit(actor, AuditAction.CLIENT_ROTATE, current)
        client = await self._store.set_client_secret(
            client_id, secret_hash, at=self._clock.now(), audit=audit
        )
        if client is None:
            raise ConflictError(
                f"Client {current.id} is revoked",
                reasons=("client: a revoked client cannot get a new secret; create a new one",),
            )
        return NewClient(client=client, secret=secret)
