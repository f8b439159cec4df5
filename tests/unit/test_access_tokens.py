"""Access tokens: one typed claims object, and the wire format tokens already issued rely on."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.clients import Client, SigningKey, hash_secret
from workhooks.domain.scopes import Scope
from workhooks.errors import AuthenticationError
from workhooks.services.access_tokens import AccessClaims, Principal
from workhooks.services.auth import AuthService, FailureLimits
from workhooks.storage.memory import InMemoryStore
from workhooks.testing import FakeClock

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
BASE_URL = "https://hooks.example.com"

# Issued by the release before typed claims (token endpoint, 1800 s lifetime, at T0) with
# this key: a token in the hands of a consumer during an upgrade.
GOLDEN_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEILvCImRqzNltCguk61kuh0ikTIZGnTK+TPahwCFSIovl
-----END PRIVATE KEY-----
"""
GOLDEN_KID = "golden0000000001"
GOLDEN_CLIENT = "wh_664d477aa81befb5"
GOLDEN_TOKEN = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImdvbGRlbjAwMDAwMDAwMDEiLCJ0eXAiOiJKV1QifQ."
    "eyJpc3MiOiJodHRwczovL2hvb2tzLmV4YW1wbGUuY29tL3RlbmFudHMvYWNtZSIsInN1YiI6IndoXzY2NGQ0N"
    "zdhYTgxYmVmYjUiLCJhdWQiOiJjb25uZWN0b3ItcHJvdGltZWFwaSIsImlhdCI6MTc2NzYwMzYwMCwiZXhwIj"
    "oxNzY3NjA1NDAwLCJqdGkiOiI5MWY5YThkYzQyMTkyZTM1IiwidGVuYW50IjoiYWNtZSIsImNsaWVudF9pZCI"
    "6IndoXzY2NGQ0NzdhYTgxYmVmYjUiLCJzY29wZSI6ImNvbm5lY3Rvci1wcm90aW1lYXBpLXdlYmhvb2tzLnJl"
    "YWQgY29ubmVjdG9yLXByb3RpbWVhcGktd29yay1pbnRlcnJ1cHRpb25zLnJlYWQifQ."
    "OLIhPHj-QnN61OP-6belBJxHrM5pwjGBpEXnFbbeynksDlzpE7C6j6dbZHLp2VC2Iev3fb7r1C_I934nEX3RDA"
)
GOLDEN_SCOPES = frozenset({Scope.WEBHOOKS_READ, Scope.WORK_INTERRUPTIONS_READ})


def _part(token: str, index: int) -> dict[str, object]:
    text = token.split(".")[index]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return decoded


async def _auth(clock: FakeClock) -> AuthService:
    """An auth service holding the golden token's key and client (secret ``s3cret``)."""
    store = InMemoryStore()
    await store.open()
    await store.add_client(
        Client(
            id=GOLDEN_CLIENT,
            tenant="acme",
            secret_hash=hash_secret("s3cret"),
            scopes=GOLDEN_SCOPES,
            created_at=T0,
        )
    )
    key = SigningKey(kid=GOLDEN_KID, private_key=GOLDEN_PEM, created_at=T0)
    return AuthService(
        store,
        clock,
        keys=[key],
        base_url=BASE_URL,
        token_ttl=1800,
        limits=FailureLimits(per_client=10, per_address=50),
    )


async def test_a_token_issued_before_typed_claims_is_still_accepted() -> None:
    """A token of the previous release authenticates its client until the expiry it carries."""
    clock = FakeClock(T0 + dt.timedelta(minutes=29))
    auth = await _auth(clock)
    principal = await auth.authenticate(f"Bearer {GOLDEN_TOKEN}")
    assert principal == Principal(tenant="acme", client_id=GOLDEN_CLIENT, scopes=GOLDEN_SCOPES)
    clock.advance(dt.timedelta(minutes=1))
    with pytest.raises(AuthenticationError, match="expired"):
        await auth.authenticate(f"Bearer {GOLDEN_TOKEN}")


async def test_a_token_issued_now_has_the_wire_format_of_the_previous_release() -> None:
    """Same header, same claim names and values as the golden token, but for its own ``jti``."""
    auth = await _auth(FakeClock(T0))
    grant = await auth.issue_token(
        "acme", client_id=GOLDEN_CLIENT, client_secret="s3cret", scope=None, source="192.0.2.1"
    )
    assert _part(grant.access_token, 0) == _part(GOLDEN_TOKEN, 0)
    issued, golden = _part(grant.access_token, 1), _part(GOLDEN_TOKEN, 1)
    assert list(issued) == list(golden)
    assert {**issued, "jti": None} == {**golden, "jti": None}
    assert grant.scope == golden["scope"]


async def test_the_golden_token_decodes_to_its_claims() -> None:
    """Decoding reads every claim into the typed object, times as aware UTC instants."""
    public = serialization.load_pem_private_key(GOLDEN_PEM, password=None).public_key()
    assert isinstance(public, Ed25519PublicKey)
    claims = AccessClaims.decode(GOLDEN_TOKEN, public)
    assert claims == AccessClaims(
        issuer=f"{BASE_URL}/tenants/acme",
        principal=Principal(tenant="acme", client_id=GOLDEN_CLIENT, scopes=GOLDEN_SCOPES),
        issued_at=T0,
        expires_at=T0 + dt.timedelta(seconds=1800),
        token_id="91f9a8dc42192e35",
    )


@given(
    tenant=st.text(min_size=1, max_size=20),
    client_id=st.text(min_size=1, max_size=20),
    scopes=st.frozensets(st.sampled_from(Scope)),
    issued=st.integers(min_value=0, max_value=4_000_000_000),
    lifetime=st.integers(min_value=1, max_value=86_400),
    token_id=st.text(max_size=16),
)
def test_claims_survive_encoding_and_decoding(
    tenant: str, client_id: str, scopes: frozenset[Scope], issued: int, lifetime: int, token_id: str
) -> None:
    """Whatever the claims, decoding an encoded token gives them back unchanged."""
    key = Ed25519PrivateKey.generate()
    issued_at = dt.datetime.fromtimestamp(issued, dt.UTC)
    claims = AccessClaims(
        issuer=f"{BASE_URL}/tenants/{tenant}",
        principal=Principal(tenant=tenant, client_id=client_id, scopes=scopes),
        issued_at=issued_at,
        expires_at=issued_at + dt.timedelta(seconds=lifetime),
        token_id=token_id,
    )
    assert AccessClaims.decode(claims.encode(key, kid="k1"), key.public_key()) == claims


def test_a_token_signed_by_another_key_is_refused() -> None:
    """Decoding checks the signature against the key it is given."""
    public = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(AuthenticationError, match="not valid"):
        AccessClaims.decode(GOLDEN_TOKEN, public)
