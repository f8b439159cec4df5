"""OAuth2 token endpoint, OIDC discovery and JWKS, per tenant."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from workhooks.api.errors import oauth_handlers
from workhooks.api.limits import FORM_BODY_BYTES, FORM_FIELDS
from workhooks.api.openapi import public, token_responses
from workhooks.api.security import services_of
from workhooks.documents import AccessToken, Jwks, OpenidConfiguration
from workhooks.domain.scopes import Scope
from workhooks.errors import InvalidClientError, InvalidRequestError, UnsupportedGrantTypeError

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


def _basic_credentials(authorization: str) -> tuple[str, str]:
    """``client_id`` and ``client_secret`` of ``Authorization: Basic``, each form-encoded
    before base64 as RFC 6749 (section 2.3.1) asks."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClientError(
            "The token endpoint takes client credentials by HTTP Basic or in the form",
            reasons=(f"Authorization: the {scheme[:20]!r} scheme is not Basic",),
        )
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClientError(
            "The Basic credentials are not valid base64 of UTF-8 text",
            reasons=("Authorization: send Basic base64(client_id:client_secret)",),
        ) from exc
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise InvalidClientError(
            "The Basic credentials have no ':' between client_id and client_secret",
            reasons=("Authorization: send Basic base64(client_id:client_secret)",),
        )
    return unquote_plus(client_id), unquote_plus(client_secret)


def _client_credentials(
    authorization: str | None, form: dict[str, list[str]]
) -> tuple[str | None, str | None]:
    """The client's credentials, by HTTP Basic or by form fields, never both (RFC 6749 2.3)."""
    client_id = _form_field(form, "client_id")
    client_secret = _form_field(form, "client_secret")
    if authorization is None:
        return client_id, client_secret
    if client_secret is not None:
        raise InvalidRequestError(
            "The client authenticated twice: use HTTP Basic or form fields, not both",
            reasons=("client_secret: leave it out when sending Authorization: Basic",),
        )
    basic_id, basic_secret = _basic_credentials(authorization)
    if client_id is not None and client_id != basic_id:
        raise InvalidRequestError(
            "The client_id of the form differs from the one of HTTP Basic",
            reasons=("client_id: does not match the Authorization header",),
        )
    return basic_id, basic_secret


@post(
    "/tenants/{tenant:str}/connect/token",
    status_code=200,
    request_max_body_size=FORM_BODY_BYTES,
    **token_responses(),
    exception_handlers=oauth_handlers(),
)
async def token(tenant: FromPath[str], request: Request[Any, Any, Any]) -> Response[AccessToken]:
    """Client credentials grant: form-encoded ``grant_type`` and ``scope``; the client
    authenticates by HTTP Basic or with ``client_id`` and ``client_secret`` form fields.

    Errors are OAuth 2.0 error answers: ``{"error", "error_description"}``.
    """
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
    if grant_type is None:
        raise InvalidRequestError(
            "The grant_type form field is required",
            reasons=("grant_type: send client_credentials",),
        )
    if grant_type != "client_credentials":
        raise UnsupportedGrantTypeError(
            "Only the client_credentials grant is supported",
            reasons=(f"grant_type: {grant_type[:40]!r} is not client_credentials",),
        )
    client_id, client_secret = _client_credentials(request.headers.get("authorization"), form)
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
        AccessToken(
            access_token=grant.access_token,
            expires_in=grant.expires_in,
            token_type="Bearer",  # noqa: S106 - the token type, not a secret
            scope=grant.scope,
        ),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@get(
    "/tenants/{tenant:str}/.well-known/openid-configuration",
    **public("The discovery document"),
)
async def discovery(tenant: FromPath[str], request: Request[Any, Any, Any]) -> OpenidConfiguration:
    """OIDC discovery document of a tenant."""
    issuer = services_of(request).auth.issuer(tenant)
    return OpenidConfiguration(
        issuer=issuer,
        token_endpoint=f"{issuer}/connect/token",
        jwks_uri=f"{issuer}/.well-known/openid-configuration/jwks",
        grant_types_supported=["client_credentials"],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        scopes_supported=sorted(s.value for s in Scope),
        response_types_supported=["token"],
        id_token_signing_alg_values_supported=["EdDSA"],
    )


@get(
    "/tenants/{tenant:str}/.well-known/openid-configuration/jwks",
    **public("The public keys"),
)
async def jwks(tenant: FromPath[str], request: Request[Any, Any, Any]) -> Jwks:
    """The public keys that verify this server's access tokens."""
    return msgspec.convert(await services_of(request).auth.jwks(), Jwks)
