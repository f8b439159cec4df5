"""Documents of the token endpoint, OIDC discovery, the JWK set and API clients."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, UnsetType

from workhooks.documents.base import Document, instant_ms
from workhooks.domain.clients import Client

__all__ = [
    "AccessToken",
    "ApiClient",
    "ApiClientList",
    "ApiClientWithSecret",
    "Jwk",
    "Jwks",
    "OAuthError",
    "OAuthErrorName",
    "OpenidConfiguration",
    "client_document",
    "client_with_secret_document",
]


class AccessToken(Document):
    """An OAuth 2.0 token answer."""

    access_token: str
    expires_in: int
    token_type: Literal["Bearer"]
    scope: str


OAuthErrorName = Literal[
    "invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type"
]
"""The RFC 6749 error names the token endpoint answers."""


class OAuthError(Document):
    """An OAuth 2.0 error answer of the token endpoint (RFC 6749, section 5.2)."""

    error: OAuthErrorName
    error_description: str


class OpenidConfiguration(Document):
    """The OpenID Connect discovery document of a tenant: where tokens and keys are."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]


class Jwk(Document, kw_only=True):
    """One public key that verifies access tokens (members in the order the key writes them)."""

    x: str | UnsetType = UNSET
    kty: str
    crv: str | UnsetType = UNSET
    kid: str
    use: str | UnsetType = UNSET
    alg: str | UnsetType = UNSET


class Jwks(Document):
    """The public keys of access tokens."""

    keys: list[Jwk]


class ApiClient(Document):
    """An API client (never its secret); ``revokedAt`` is null while it is live."""

    id: str
    tenant: str
    scopes: list[str]
    createdAt: str
    revokedAt: str | None


class ApiClientList(Document):
    """API clients, by tenant and creation."""

    value: list[ApiClient]


class ApiClientWithSecret(ApiClient):
    """An API client just created or given a new secret: the ``secret`` is shown this once."""

    secret: str


def client_document(client: Client) -> ApiClient:
    """The document of an API client (never its secret or its hash)."""
    return ApiClient(
        id=client.id,
        tenant=client.tenant,
        scopes=sorted(client.scopes),
        createdAt=instant_ms(client.created_at),
        revokedAt=instant_ms(client.revoked_at),
    )


def client_with_secret_document(client: Client, secret: str) -> ApiClientWithSecret:
    """An API client with its new secret, shown this once."""
    return ApiClientWithSecret(
        id=client.id,
        tenant=client.tenant,
        scopes=sorted(client.scopes),
        createdAt=instant_ms(client.created_at),
        revokedAt=instant_ms(client.revoked_at),
        secret=secret,
    )
