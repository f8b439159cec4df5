"""Authentication use cases: API clients, access tokens (signed JWTs) and their checks."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from jwt.algorithms import OKPAlgorithm

from workhooks.domain.attempts import FailedAttempts
from workhooks.domain.clients import SigningKey, accepted_keys, secret_matches
from workhooks.domain.scopes import parse_scopes
from workhooks.errors import (
    AuthenticationError,
    InvalidClientError,
    InvalidScopeError,
    RateLimitedError,
)
from workhooks.services.access_tokens import ALGORITHM, AccessClaims, Principal, token_kid
from workhooks.services.clock import Clock
from workhooks.services.token_cache import TokenCache
from workhooks.storage.protocol import Store

__all__ = ["AuthService", "FailureLimits", "Principal", "TokenGrant", "generate_signing_key"]

# How often a server looks for a token signing key created elsewhere (`signing-keys rotate`).
KEY_REFRESH = dt.timedelta(seconds=60)
# A token naming an unknown key makes the server look for it, at most this often.
_UNKNOWN_KID_REFRESH = dt.timedelta(seconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureLimits:
    """Failed token requests allowed per client id and per source address in ``window``."""

    per_client: int
    per_address: int
    window: dt.timedelta = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenGrant:
    """The answer of the token endpoint."""

    access_token: str
    expires_in: int
    scope: str


def generate_signing_key(now: dt.datetime) -> SigningKey:
    """Create a fresh Ed25519 token signing key."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(kid=uuid.uuid4().hex[:16], private_key=pem, created_at=now)


class _KeyRing:
    """The token signing keys a server knows: the newest signs, the accepted ones verify."""

    def __init__(self, keys: Sequence[SigningKey], *, loaded_at: dt.datetime) -> None:
        if not keys:
            raise ValueError("at least one token signing key is needed")
        self.keys = sorted(keys, key=lambda k: (k.created_at, k.kid))
        self.loaded_at = loaded_at
        self.public: dict[str, Ed25519PublicKey] = {}
        self.private: dict[str, Ed25519PrivateKey] = {}
        for key in self.keys:
            private = serialization.load_pem_private_key(key.private_key, password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise TypeError("the token signing key must be Ed25519")
            self.private[key.kid] = private
            self.public[key.kid] = private.public_key()

    @property
    def signer(self) -> tuple[str, Ed25519PrivateKey]:
        """The newest key, which signs."""
        kid = self.keys[-1].kid
        return kid, self.private[kid]


class AuthService:
    """Issues tokens for client credentials and checks bearer tokens.

    Signatures are verified once per token (then cached until it expires); whether the
    token's client is still allowed is looked up on every request, so a revocation takes
    effect at once on every server of the database.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        keys: Sequence[SigningKey],
        base_url: str,
        token_ttl: int,
        limits: FailureLimits,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ring = _KeyRing(keys, loaded_at=clock.now())
        self._looked_for_kid_at: dt.datetime | None = None
        self._base_url = base_url
        self._ttl = token_ttl
        self._overlap = dt.timedelta(seconds=token_ttl) + KEY_REFRESH
        self._tokens = TokenCache()
        self._client_failures = FailedAttempts(limit=limits.per_client, window=limits.window)
        self._address_failures = FailedAttempts(limit=limits.per_address, window=limits.window)

    def issuer(self, tenant: str) -> str:
        """The issuer URL of a tenant's tokens (also its OIDC discovery base)."""
        return f"{self._base_url}/tenants/{tenant}"

    async def _refresh_keys(self, *, after: dt.timedelta) -> None:
        """Reload the signing keys if the last load is older than ``after``."""
        now = self._clock.now()
        if now - self._ring.loaded_at >= after:
            self._ring = _KeyRing(await self._store.signing_keys(), loaded_at=now)

    def _accepted(self) -> list[SigningKey]:
        return accepted_keys(self._ring.keys, now=self._clock.now(), overlap=self._overlap)

    async def jwks(self) -> dict[str, Any]:
        """The public keys that verify access tokens, as a JWK set (newest last)."""
        await self._refresh_keys(after=KEY_REFRESH)
        found = []
        for key in self._accepted():
            jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self._ring.public[key.kid], as_dict=True)
            jwk.update({"kid": key.kid, "use": "sig", "alg": ALGORITHM})
            found.append(jwk)
        return {"keys": found}

    def _check_attempts(self, client_id: str, source: str) -> None:
        now = self._clock.now()
        waits = [
            wait
            for wait in (
                self._client_failures.retry_after(client_id, now=now),
                self._address_failures.retry_after(source, now=now),
            )
            if wait is not None
        ]
        if waits:
            seconds = math.ceil(max(waits).total_seconds())
            raise RateLimitedError.failed_attempts(seconds)

    def _record_failure(self, client_id: str, source: str) -> None:
        now = self._clock.now()
        self._client_failures.record_failure(client_id, now=now)
        self._address_failures.record_failure(source, now=now)

    async def rotate_signing_key(self) -> SigningKey:
        """Create a new token signing key: it signs from now on (every server within
        ``KEY_REFRESH``); the older keys verify until the tokens they signed expire."""
        key = generate_signing_key(self._clock.now())
        await self._store.add_signing_key(key)
        await self._refresh_keys(after=dt.timedelta(0))
        return key

    async def issue_token(
        self, tenant: str, *, client_id: str, client_secret: str, scope: str | None, source: str
    ) -> TokenGrant:
        """Grant a token for client credentials: the requested scopes, or all the client has.

        ``source`` is the caller's address: failed attempts are limited per client id and
        per address (``RateLimitedError`` until the window ends, even with the right
        secret).
        """
        self._check_attempts(client_id, source)
        # Only printable ASCII ids are ever issued: others are unknown without asking the store.
        known = client_id.isascii() and client_id.isprintable() and len(client_id) <= 128
        client = await self._store.get_client(client_id) if known else None
        if (
            client is None
            or client.tenant != tenant
            or client.revoked
            or not secret_matches(client_secret, client.secret_hash)
        ):
            self._record_failure(client_id, source)
            raise InvalidClientError("Unknown client, revoked client or wrong client secret")
        if scope is None or not scope.strip():
            granted = client.scopes
        else:
            requested, unknown = parse_scopes(scope)
            refused = sorted(unknown) + sorted(requested - client.scopes)
            if refused:
                raise InvalidScopeError(
                    "The client may not request some of these scopes",
                    reasons=tuple(f"scope: {s} is not granted to this client" for s in refused),
                )
            granted = requested
        await self._refresh_keys(after=KEY_REFRESH)
        now = self._clock.now().replace(microsecond=0)
        claims = AccessClaims(
            issuer=self.issuer(tenant),
            principal=Principal(tenant=tenant, client_id=client.id, scopes=granted),
            issued_at=now,
            expires_at=now + dt.timedelta(seconds=self._ttl),
            token_id=secrets.token_hex(8),
        )
        kid, private = self._ring.signer
        return TokenGrant(
            access_token=claims.encode(private, kid=kid), expires_in=self._ttl, scope=claims.scope
        )

    async def authenticate(self, authorization: str | None) -> Principal:
        """Check an ``Authorization`` header and return who is calling."""
        if not authorization:
            raise AuthenticationError("An access token is required (Authorization: Bearer ...)")
        kind, _, token = authorization.partition(" ")
        token = token.strip()
        if kind.lower() != "bearer" or not token:
            raise AuthenticationError("The Authorization header must be 'Bearer <token>'")
        now = self._clock.now()
        claims = self._tokens.get(token, now=now)
        if claims is None:
            claims = await self._verify(token)
            self._tokens.put(token, claims, now=now)
        principal = claims.principal
        client = await self._store.get_client(principal.client_id)
        if client is None or client.revoked or client.tenant != principal.tenant:
            raise AuthenticationError("The client of this access token was revoked")
        return principal

    async def _public_key(self, token: str) -> Ed25519PublicKey:
        """The accepted key that signed ``token``, by its ``kid``."""
        kid = token_kid(token)
        now = self._clock.now()
        if kid not in self._ring.public and (
            self._looked_for_kid_at is None or now - self._looked_for_kid_at >= _UNKNOWN_KID_REFRESH
        ):
            # Signed by a key another server created since this one last looked.
            self._looked_for_kid_at = now
            await self._refresh_keys(after=dt.timedelta(0))
        if kid not in {k.kid for k in self._accepted()}:
            raise AuthenticationError("The access token was signed by a key no longer in use")
        return self._ring.public[kid]

    async def _verify(self, token: str) -> AccessClaims:
        """Verify the signature and claims of ``token``: issued here and not expired."""
        claims = AccessClaims.decode(token, await self._public_key(token))
        if claims.issuer != self.issuer(claims.principal.tenant):
            raise AuthenticationError("The access token was not issued for this server")
        # Expiry is checked against the injected clock, not jwt's own clock.
        if claims.expires_at <= self._clock.now():
            raise AuthenticationError("The access token has expired")
        return claims
