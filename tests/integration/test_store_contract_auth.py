"""The storage contract for authentication: the signing key and API clients.

Each test takes the ``store`` fixture (``tests/integration/conftest.py``), so it runs on
``InMemoryStore`` and on ``SqliteStore`` over a real file, and the fake used by the unit
tests is held to exactly the behaviour of the real store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.store_helpers import T0
from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.operators import AuditAction, AuditEntry, ConsoleSession, client_actor
from workhooks.domain.scopes import Scope
from workhooks.storage.protocol import Store

pytestmark = pytest.mark.timeout(60)

HOUR = dt.timedelta(hours=1)


# -- auth ------------------------------------------------------------------------------------


async def test_ensure_signing_key_keeps_the_first_key(store: Store) -> None:
    """The first candidate becomes the signing key; later candidates are ignored."""
    first = SigningKey(kid="k1", private_key=b"-----PEM one-----", created_at=T0)
    second = SigningKey(
        kid="k2", private_key=b"-----PEM two-----", created_at=T0 + dt.timedelta(days=1)
    )
    assert await store.ensure_signing_key(first) == first
    assert await store.ensure_signing_key(second) == first


@pytest.mark.parametrize(
    "scopes",
    [
        frozenset(),
        frozenset({Scope.WEBHOOKS_READ}),
        frozenset(Scope),
    ],
    ids=["none", "one", "all"],
)
async def test_clients_round_trip_with_their_scopes(store: Store, scopes: frozenset[Scope]) -> None:
    """A client reads back exactly as added, scopes included; unknown ids give None."""
    client = Client(id="c1", tenant="acme", secret_hash="ab" * 32, scopes=scopes, created_at=T0)
    await store.add_client(client)
    assert await store.get_client("c1") == client
    assert await store.get_client("c2") is None


def _client(client_id: str, tenant: str, minutes: int) -> Client:
    return Client(
        id=client_id,
        tenant=tenant,
        secret_hash="ab" * 32,
        scopes=frozenset({Scope.WEBHOOKS_READ}),
        created_at=T0 + dt.timedelta(minutes=minutes),
    )


async def test_clients_list_by_tenant_and_creation(store: Store) -> None:
    """Clients list by tenant then creation; a tenant narrows the list; revoked ones stay."""
    for client in (_client("c3", "beta", 0), _client("c2", "acme", 5), _client("c1", "acme", 1)):
        await store.add_client(client)
    await store.revoke_client("c1", at=T0)
    assert [c.id for c in await store.list_clients()] == ["c1", "c2", "c3"]
    assert [c.id for c in await store.list_clients("acme")] == ["c1", "c2"]
    assert await store.list_clients("nobody") == []


async def test_a_revocation_keeps_its_first_time(store: Store) -> None:
    """Revoking sets ``revoked_at`` once; again changes nothing; an unknown id gives None."""
    await store.add_client(_client("c1", "acme", 0))
    first = await store.revoke_client("c1", at=T0 + dt.timedelta(hours=1))
    assert first is not None
    assert first.revoked_at == T0 + dt.timedelta(hours=1)
    again = await store.revoke_client("c1", at=T0 + dt.timedelta(hours=2))
    assert again == first
    assert await store.get_client("c1") == first
    assert await store.revoke_client("nope", at=T0) is None


async def test_a_new_secret_hash_is_kept_for_live_clients_only(store: Store) -> None:
    """A live client's secret hash is replaced; a revoked or unknown client gives None."""
    await store.add_client(_client("c1", "acme", 0))
    await store.add_client(_client("c2", "acme", 0))
    changed = await store.set_client_secret("c1", "cd" * 32, at=T0)
    assert changed is not None
    assert changed.secret_hash == "cd" * 32
    assert await store.get_client("c1") == changed
    await store.revoke_client("c2", at=T0)
    assert await store.set_client_secret("c2", "cd" * 32, at=T0) is None
    assert await store.set_client_secret("nope", "cd" * 32, at=T0) is None


def _portal_session(session_id: str, client_id: str) -> ConsoleSession:
    return ConsoleSession(
        id=session_id,
        actor=client_actor(client_id),
        tenant="acme",
        created_at=T0,
        expires_at=T0 + HOUR,
    )


def _entry(action: AuditAction, client_id: str) -> AuditEntry:
    return AuditEntry(
        at=T0, actor="operator:ada", action=action, tenant="acme", detail=f"client {client_id}"
    )


async def test_a_client_change_ends_its_portal_sessions_and_is_audited_with_it(
    store: Store,
) -> None:
    """Creating, giving a new secret and revoking each write their audit entry in the same
    transaction; a new secret and a revocation end the client's portal sessions (and no
    other client's); a change that finds no client does nothing at all."""
    await store.add_client(_client("c1", "acme", 0), audit=_entry(AuditAction.CLIENT_CREATE, "c1"))
    await store.add_client(_client("c2", "acme", 0))
    for session_id, client_id in (("p1", "c1"), ("p2", "c1"), ("q1", "c2")):
        await store.add_session(_portal_session(session_id, client_id))
    rotated = _entry(AuditAction.CLIENT_ROTATE, "c1")
    assert await store.set_client_secret("c1", "cd" * 32, at=T0, audit=rotated) is not None
    assert not await store.session_live("p1", now=T0)
    assert not await store.session_live("p2", now=T0)
    assert await store.session_live("q1", now=T0)
    await store.add_session(_portal_session("p3", "c1"))
    revoked = _entry(AuditAction.CLIENT_REVOKE, "c1")
    assert await store.revoke_client("c1", at=T0, audit=revoked) is not None
    assert not await store.session_live("p3", now=T0)
    assert await store.session_live("q1", now=T0)
    unknown = _entry(AuditAction.CLIENT_REVOKE, "nope")
    assert await store.revoke_client("nope", at=T0, audit=unknown) is None
    assert await store.set_client_secret("nope", "ef" * 32, at=T0, audit=unknown) is None
    refused = _entry(AuditAction.CLIENT_ROTATE, "c1")
    assert await store.set_client_secret("c1", "ef" * 32, at=T0, audit=refused) is None
    assert [e.action for e in await store.list_audit(limit=10)] == [
        AuditAction.CLIENT_REVOKE,
        AuditAction.CLIENT_ROTATE,
        AuditAction.CLIENT_CREATE,
    ]


async def test_signing_keys_are_kept_oldest_first(store: Store) -> None:
    """Added keys list oldest first; ``ensure_signing_key`` still answers the first one."""
    first = SigningKey(kid="k1", private_key=b"-----PEM one-----", created_at=T0)
    later = SigningKey(kid="k2", private_key=b"-----PEM two-----", created_at=T0 + HOUR)
    await store.ensure_signing_key(first)
    await store.add_signing_key(later)
    assert await store.signing_keys() == [first, later]
    assert await store.ensure_signing_key(later) == first
