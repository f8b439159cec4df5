"""Authentication use cases: API clients, access tokens (signed JWTs) and their checks."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from workhooks.domain.clients import Client, SigningKey, hash_secret, secret_matches
from workhooks.domain.scopes import Scope, parse_scopes
from workhooks.errors import (
    AuthenticationError,
    InsufficientScopeError,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
)
from workhooks.services.clock import Clock
from workhooks.storage.protocol import Store

__all__ = ["AuthService", "NewClient", "Principal", "TokenGrant", "generate_signing_key"]

AUDIENCE = "connector-protimeapi"
ALGORITHM = "EdDSA"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewClient:
    """A client just created: the only moment its secret is known."""

    client: Client
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenGrant:
    """The answer of the token endpoint."""

    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: the tenant, the client and the scopes of a valid token."""

    tenant: str
    client_id: str
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        """Raise ``InsufficientScopeError`` unless the token carries ``scope``."""
        if scope not in self.scopes:
            raise InsufficientScopeError(
                f"The access token lacks the scope {scope.value}", reasons=(scope.value,)
            )


def generate_signing_key(now: dt.datetime) -> SigningKey:
    """Create a fresh Ed25519 token signing key."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(kid=uuid.uuid4().hex[:16], private_key=pem, created_at=now)


class AuthService:
    """Creates clients, issues tokens for client credentials and checks bearer tokens."""

    def __init__(
        self, store: Store, clock: Clock, *, key: SigningKey, base_url: str, token_ttl: int
    ) -> None:
        self._store = store
        self._clock = clock
        self._kid = key.kid
        private = serialization.load_pem_private_key(key.private_key, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise TypeError("the token signing key must be Ed25519")
        self._private = private
        self._public = private.public_key()
        self._base_url = base_url
        self._ttl = token_ttl

    def issuer(self, tenant: str) -> str:
        """The issuer URL of a tenant's tokens (also its OIDC discovery base)."""
        return f"{self._base_url}/tenants/{tenant}"

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify access tokens, as a JWK set."""
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self._public, as_dict=True)
        jwk.update({"kid": self._kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": [jwk]}

    async def create_client(self, tenant: str, scopes: frozenset[Scope]) -> NewClient:
        """Register a client of ``tenant`` allowed ``scopes``; the secret is returned once."""
        if not tenant or not tenant.replace("-", "").replace("_", "").isalnum():
            raise InvalidRequestError(
                f"Invalid tenant {tenant!r}",
                reasons=("tenant: use letters, digits, '-' and '_' only",),
            )
        secret = secrets.token_urlsafe(32)
        client = Client(
            id=f"wh_{secrets.token_hex(8)}",
            tenant=tenant,
            secret_hash=hash_secret(secret),
            scopes=scopes,
            created_at=self._clock.now(),
        )
        await self._store.add_client(client)
        return NewClient(client=client, secret=secret)

    async def issue_token(
        self, tenant: str, *, client_id: str, client_secret: str, scope: str | None
    ) -> TokenGrant:
        """Grant a token for client credentials: the requested scopes, or all the client has."""
        client = await self._store.get_client(client_id)
        if (
            client is None
            or client.tenant != tenant
            or not secret_matches(client_secret, client.secret_hash)
        ):
            raise InvalidClientError("Unknown client or wrong client secret")
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
        now = self._clock.now()
        scope_text = " ".join(sorted(granted))
        claims: dict[str, Any] = {
            "iss": self.issuer(tenant),
            "sub": client.id,
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self._ttl,
            "jti": secrets.token_hex(8),
            "tenant": tenant,
            "client_id": client.id,
            "scope": scope_text,
        }
        token = jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self._kid})
        return TokenGrant(access_token=token, expires_in=self._ttl, scope=scope_text)

    def authenticate(self, authorization: str | None) -> Principal:
        """Check an ``Authorization`` header and return who is calling."""
        if not authorization:
            raise AuthenticationError("An access token is required (Authorization: Bearer ...)")
        kind, _, token = authorization.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise AuthenticationError("The Authorization header must be 'Bearer <token>'")
        try:
            # Expiry is checked below against the injected clock, not jwt's own clock.
            claims = jwt.decode(
                token.strip(),
                self._public,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError("The access token is not valid") from exc
        tenant = claims.get("tenant")
        if not isinstance(tenant, str) or claims.get("iss") != self.issuer(tenant):
            raise AuthenticationError("The access token was not issued for this server")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= self._clock.now().timestamp():
            raise AuthenticationError("The access token has expired")
        return Principal(
            tenant=tenant,
            client_id=str(claims.get("client_id", "")),
            scopes=parse_scopes(str(claims.get("scope", "")))[0],
        )
