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
from workhooks.domain.scopes import Scope
from workhooks.storage.protocol import Store

pytestmark = pytest.mark.timeout(60)


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
