"""Where a tenant's API and token endpoint live: a workhooks server or a Protime environment.

A workhooks server serves both under one base URL (the token endpoint at
``{base_url}/tenants/{tenant}/connect/token``). Protime splits them over two hosts:
tokens from ``https://authentication.<environment>/tenants/<tenant>/connect/token``, the API
at ``https://<tenant>.<environment>/connector/protimeapi/api/v1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "PROTIME",
    "PROTIME_SANDBOX",
    "Endpoints",
    "discovery_url",
    "protime_endpoints",
]

PROTIME = "myprotime.eu"
PROTIME_SANDBOX = "myprotimesandbox.eu"
_NAMED = {"production": PROTIME, "sandbox": PROTIME_SANDBOX}
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN = re.compile(r"^[a-z0-9.-]+(?::[0-9]{1,5})?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """The API's base URL and how to find the token endpoint.

    ``token_url`` wins; else ``oidc_issuer``'s discovery document names it; else it is
    ``{base_url}/tenants/{tenant}/connect/token``.
    """

    base_url: str
    token_url: str | None = None
    oidc_issuer: str | None = None


def discovery_url(issuer: str) -> str:
    """The OpenID Connect discovery document of ``issuer``."""
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def _scheme_and_domain(environment: str) -> tuple[str, str]:
    """``myprotime.eu`` -> https; a stand-in may name its scheme: ``http://protime.test:8080``."""
    name = _NAMED.get(environment, environment).strip().lower()
    scheme, sep, domain = name.partition("://")
    if not sep:
        scheme, domain = "https", name
    if scheme not in ("http", "https") or not _DOMAIN.match(domain):
        raise ValueError(
            f"environment {environment!r}: use {PROTIME}, {PROTIME_SANDBOX} "
            "(or production, sandbox), or a domain such as http://protime.test:8080"
        )
    return scheme, domain


def protime_endpoints(environment: str, tenant: str) -> Endpoints:
    """The endpoints of ``tenant`` in a Protime environment (``myprotime.eu``, ``sandbox``...)."""
    scheme, domain = _scheme_and_domain(environment)
    if not _LABEL.match(tenant):
        raise ValueError(
            f"tenant {tenant!r} cannot be a host name label (lowercase letters, digits, '-')"
        )
    return Endpoints(
        base_url=f"{scheme}://{tenant}.{domain}",
        token_url=(
            f"{scheme}://authentication.{domain}/tenants/{quote(tenant, safe='')}/connect/token"
        ),
    )
