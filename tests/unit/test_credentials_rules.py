"""Credential rules: failed attempts per key, accepted token signing keys, the token cache."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from workhooks.domain.attempts import FailedAttempts
from workhooks.domain.clients import Client, SigningKey, accepted_keys, hash_secret, secret_matches
from workhooks.domain.scopes import Scope
from workhooks.services.access_tokens import AccessClaims, Principal
from workhooks.services.token_cache import TokenCache

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)


def test_a_key_is_refused_after_its_limit_of_failures_until_the_window_ends() -> None:
    """Three failures in a minute block the key for what is left of that minute, then free it."""
    attempts = FailedAttempts(limit=3, window=MINUTE)
    for second in range(3):
        assert attempts.retry_after("c1", now=T0 + dt.timedelta(seconds=second)) is None
        attempts.record_failure("c1", now=T0 + dt.timedelta(seconds=second))
    assert attempts.retry_after("c1", now=T0 + dt.timedelta(seconds=20)) == dt.timedelta(seconds=40)
    assert attempts.retry_after("c2", now=T0 + dt.timedelta(seconds=20)) is None
    assert attempts.retry_after("c1", now=T0 + MINUTE) is None


def test_failures_in_an_old_window_do_not_count() -> None:
    """A failure after the window started anew counts from one again."""
    attempts = FailedAttempts(limit=2, window=MINUTE)
    attempts.record_failure("c1", now=T0)
    attempts.record_failure("c1", now=T0 + 2 * MINUTE)
    assert attempts.retry_after("c1", now=T0 + 2 * MINUTE) is None


def test_the_memory_of_failures_is_bounded() -> None:
    """Past ``max_keys`` keys the oldest window is forgotten."""
    attempts = FailedAttempts(limit=1, window=MINUTE, max_keys=2)
    for key in ("a", "b", "c"):
        attempts.record_failure(key, now=T0)
    assert attempts.retry_after("a", now=T0) is None
    assert attempts.retry_after("c", now=T0) is not None


def _key(kid: str, created_at: dt.datetime) -> SigningKey:
    return SigningKey(kid=kid, private_key=b"pem", created_at=created_at)


def test_an_old_signing_key_is_accepted_until_its_tokens_have_expired() -> None:
    """A replaced key verifies for ``overlap`` after its successor was created, then never."""
    keys = [_key("k2", T0 + dt.timedelta(hours=1)), _key("k1", T0)]
    overlap = dt.timedelta(minutes=31)
    during = T0 + dt.timedelta(hours=1, minutes=30)
    assert [k.kid for k in accepted_keys(keys, now=during, overlap=overlap)] == ["k1", "k2"]
    after = T0 + dt.timedelta(hours=1, minutes=31)
    assert [k.kid for k in accepted_keys(keys, now=after, overlap=overlap)] == ["k2"]


def _claims(client_id: str, expires_at: dt.datetime) -> AccessClaims:
    return AccessClaims(
        issuer="https://hooks.example.com/tenants/acme",
        principal=Principal(tenant="acme", client_id=client_id, scopes=frozenset()),
        issued_at=T0,
        expires_at=expires_at,
        token_id="t",
    )


def test_the_token_cache_keeps_a_token_until_it_expires() -> None:
    """A cached token is found until its expiry and gone at it."""
    cache = TokenCache()
    claims = _claims("who", T0 + 100 * SECOND)
    cache.put("t", claims, now=T0)
    assert cache.get("t", now=T0 + 99.5 * SECOND) == claims
    assert cache.get("t", now=T0 + 100 * SECOND) is None


def test_the_token_cache_is_bounded() -> None:
    """When full, expired tokens go first, then the oldest."""
    cache = TokenCache(size=2)
    later = T0 + 100 * SECOND
    cache.put("expired", _claims("a", T0 + 5 * SECOND), now=T0)
    cache.put("old", _claims("b", later), now=T0)
    cache.put("new", _claims("c", later), now=T0 + 10 * SECOND)
    assert cache.get("expired", now=T0 + 10 * SECOND) is None
    assert cache.get("old", now=T0 + 10 * SECOND) == _claims("b", later)
    cache.put("newest", _claims("d", later), now=T0 + 10 * SECOND)
    assert cache.get("old", now=T0 + 10 * SECOND) is None
    assert cache.get("newest", now=T0 + 10 * SECOND) == _claims("d", later)


def test_a_limit_below_one_failure_is_refused() -> None:
    """A key that may never fail would lock everyone out: such a limit is a programming error."""
    with pytest.raises(ValueError, match="at least 1"):
        FailedAttempts(limit=0, window=MINUTE)


def test_a_secret_is_stored_as_its_sha256_and_matches_only_itself() -> None:
    """The stored form is the hex SHA-256 of the secret; any other secret does not match."""
    stored = hash_secret("s3cret-value")
    assert stored == hashlib.sha256(b"s3cret-value").hexdigest()
    assert secret_matches("s3cret-value", stored)
    assert not secret_matches("s3cret-valuE", stored)
    assert not secret_matches("s3cret-value", stored.upper())


def test_a_client_is_revoked_once_it_has_a_revocation_time() -> None:
    """``revoked`` follows ``revoked_at``."""
    client = Client(
        id="c1",
        tenant="acme",
        secret_hash=hash_secret("x"),
        scopes=frozenset({Scope.WEBHOOKS_READ}),
        created_at=T0,
    )
    assert not client.revoked
    assert dataclasses.replace(client, revoked_at=T0 + MINUTE).revoked
