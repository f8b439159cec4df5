"""OAuth2 token endpoint, OIDC discovery and JWKS, per tenant."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from litestar import Request, Response, get, post
from litestar.params import FromPath

from workhooks.api import openapi as doc
from workhooks.api.limits import FORM_BODY_BYTES, FORM_FIELDS
from workhooks.api.openapi import public, token_responses
from workhooks.api.security import services_of
from workhooks.domain.scopes import Scope
from workhooks.errors import InvalidClientError, InvalidRequestError

__all__ = ["discovery", "jwks", "token"]

_FORM = "application/x-www-form-urlencoded"


def _form_field(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise InvalidRequestError(
            f"The form field {name} is given more than once", reasons=(f"{name}: repeated",)
        )
    return values[0]


@post(
    "/tenants/{tenant:str}/connect/token",
    status_code=200,
    request_max_body_size=FORM_BODY_BYTES,
    responses=token_responses(),
)
async def token(tenant: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
    """Client credentials grant: form-encoded ``grant_type``, ``client_id``, ``client_secret``."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise InvalidRequestError(
            "The token request must be form-encoded",
            reasons=(f"Content-Type: use {_FORM}",),
        )
    body = await request.body()
    try:
        form = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=FORM_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("The form is not UTF-8", reasons=("body: not UTF-8",)) from exc
    except ValueError as exc:  # more fields than max_num_fields
        raise InvalidRequestError(
            "The form has too many fields", reasons=(f"body: at most {FORM_FIELDS} fields",)
        ) from exc
    grant_type = _form_field(form, "grant_type")
    if grant_type != "client_credentials":
        raise InvalidRequestError(
            "Only the client_credentials grant is supported",
            reasons=(f"grant_type: {grant_type!r} is not client_credentials",),
        )
    client_id = _form_field(form, "client_id")
    client_secret = _form_field(form, "client_secret")
    if not client_id or not client_secret:
        raise InvalidClientError("client_id and client_secret are required")
    grant = await services_of(request).auth.issue_token(
        tenant,
        client_id=client_id,
        client_secret=client_secret,
        scope=_form_field(form, "scope"),
        source=request.client.host if request.client is not None else "unknown",
    )
    return Response(
        {
            "access_token": grant.access_token,
            "expires_in": grant.expires_in,
            "token_type": "Bearer",
            "scope": grant.scope,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@get(
    "/tenants/{tenant:str}/.well-known/openid-configuration",
    responses=public(doc.OpenidConfiguration, "The discovery document"),
)
async def discovery(tenant: FromPath[str], request: Request[Any, Any, Any]) -> dict[str, Any]:
    """OIDC discovery document of a tenant."""
    issuer = services_of(request).auth.issuer(tenant)
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/connect/token",
        "jwks_uri": f"{issuer}/.well-known/openid-configuration/jwks",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "scopes_supported": sorted(s.value for s in Scope),
        "response_types_supported": ["token"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
    }


@get(
    "/tenants/{tenant:str}/.well-known/openid-configuration/jwks",
    responses=public(doc.Jwks, "The public keys"),
)
async def jwks(tenant: FromPath[str], request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The public keys that verify this server's access tokens."""
    return await services_of(request).auth.jwks()
