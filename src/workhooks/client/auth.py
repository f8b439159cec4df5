"""OAuth 2.0 client credentials: the token request and a cache that refreshes before expiry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote

import msgspec

from workhooks.client.calls import decode
from workhooks.client.endpoints import Endpoints, discovery_url
from workhooks.client.models import AccessToken

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "ClientCredentials",
    "DiscoveryDocument",
    "TokenCache",
    "TokenEndpoint",
]

DEFAULT_REFRESH_MARGIN = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCredentials:
    """A client of one tenant; ``scopes`` empty asks for every scope the client holds."""

    tenant: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()

    @property
    def token_path(self) -> str:
        """The tenant's token endpoint, relative to the server's base URL."""
        return f"/tenants/{quote(self.tenant, safe='')}/connect/token"

    def form(self) -> dict[str, str]:
        """The form-encoded fields of the token request."""
        fields = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scopes:
            fields["scope"] = " ".join(self.scopes)
        return fields


class DiscoveryDocument(msgspec.Struct, frozen=True):
    """The part of an OpenID Connect discovery document a client-credentials client needs."""

    token_endpoint: str


class TokenEndpoint:
    """Where tokens come from: known at once, or read once from an OIDC discovery document.

    ``url`` is None until discovery has run; ``discovery`` is the document to read then.
    A path is relative to the API's base URL (a workhooks server serves both).
    """

    def __init__(self, endpoints: Endpoints, credentials: ClientCredentials) -> None:
        self.discovery: str | None = None
        self.url: str | None = endpoints.token_url
        if self.url is None and endpoints.oidc_issuer is not None:
            self.discovery = discovery_url(endpoints.oidc_issuer)
        elif self.url is None:
            self.url = credentials.token_path

    def learn(self, content: bytes, *, status: int) -> str:
        """Keep the ``token_endpoint`` of a discovery document; return it."""
        self.url = decode(content, DiscoveryDocument, status=status).token_endpoint
        return self.url


class TokenCache:
    """One access token, reused until shortly before it expires.

    The refresh happens ``margin`` before expiry, or at half the lifetime for short-lived
    tokens, so a request never goes out with a token about to lapse on the way.
    """

    def __init__(self, *, margin: dt.timedelta = DEFAULT_REFRESH_MARGIN) -> None:
        self._margin = margin
        self._token: str | None = None
        self._refresh_at: dt.datetime | None = None

    def current(self, now: dt.datetime) -> str | None:
        """The cached token if it is still good at ``now``, else None."""
        if self._token is None or self._refresh_at is None or now >= self._refresh_at:
            return None
        return self._token

    def store(self, grant: AccessToken, *, now: dt.datetime) -> str:
        """Keep a fresh grant obtained at ``now``; return its token."""
        lifetime = dt.timedelta(seconds=max(grant.expires_in, 0))
        self._token = grant.access_token
        self._refresh_at = now + lifetime - min(self._margin, lifetime / 2)
        return grant.access_token

    def invalidate(self) -> None:
        """Forget the token (the server refused it), so the next request fetches another."""
        self._token = None
        self._refresh_at = None
