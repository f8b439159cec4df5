"""Access tokens: the claims of the JWTs the token endpoint issues, and their one encoding.

The wire format is fixed: EdDSA (Ed25519) JWTs whose ``kid`` header names a key of the
tenant's JWKS, with the claims ``iss sub aud iat exp jti tenant client_id scope``. Tokens
issued by an earlier release therefore stay valid across an upgrade; a test holds a token
issued by an earlier release to that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from workhooks.domain.scopes import Scope, parse_scopes
from workhooks.errors import AuthenticationError, InsufficientScopeError

__all__ = ["ALGORITHM", "AUDIENCE", "AccessClaims", "Principal", "token_kid"]

AUDIENCE = "connector-protimeapi"
ALGORITHM = "EdDSA"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessClaims:
    """What an access token states: its issuer, its caller, when it was issued and expires.

    ``sub`` and ``client_id`` both carry the client id and ``aud`` is always ``AUDIENCE``;
    times are whole seconds on the wire.
    """

    issuer: str
    principal: Principal
    issued_at: dt.datetime
    expires_at: dt.datetime
    token_id: str

    @property
    def scope(self) -> str:
        """The granted scopes as the token endpoint answers them (space-separated, sorted)."""
        return " ".join(sorted(self.principal.scopes))

    def encode(self, key: Ed25519PrivateKey, *, kid: str) -> str:
        """The signed JWT, its header naming the key ``kid``."""
        payload = {
            "iss": self.issuer,
            "sub": self.principal.client_id,
            "aud": AUDIENCE,
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
            "jti": self.token_id,
            "tenant": self.principal.tenant,
            "client_id": self.principal.client_id,
            "scope": self.scope,
        }
        return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": kid})

    @classmethod
    def decode(cls, token: str, key: Ed25519PublicKey) -> AccessClaims:
        """The claims of a token signed with ``key`` for ``AUDIENCE``, or ``AuthenticationError``.

        Expiry is not checked here: the caller compares ``expires_at`` with its own clock.
        """
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError("The access token is not valid") from exc
        issuer, tenant, exp = claims.get("iss"), claims.get("tenant"), claims.get("exp")
        if not isinstance(issuer, str) or not isinstance(tenant, str):
            raise AuthenticationError("The access token was not issued for this server")
        if not isinstance(exp, int):
            raise AuthenticationError("The access token has expired")
        iat = claims.get("iat")
        return cls(
            issuer=issuer,
            principal=Principal(
                tenant=tenant,
                client_id=str(claims.get("client_id", "")),
                scopes=parse_scopes(str(claims.get("scope", "")))[0],
            ),
            issued_at=_instant(iat if isinstance(iat, int) else exp),
            expires_at=_instant(exp),
            token_id=str(claims.get("jti", "")),
        )


def token_kid(token: str) -> str:
    """The ``kid`` header of a token (not verified), or ``AuthenticationError``."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise AuthenticationError("The access token is not valid") from exc
    if not isinstance(kid, str):
        raise AuthenticationError("The access token is not valid")
    return kid


def _instant(seconds: int) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise AuthenticationError("The access token is not valid") from exc
