"""The operator API: API clients of every tenant (list, create, get, revoke, new secret).

Creating, revoking and new secrets are audited with the calling client as the actor.

Every route needs the ``workhooks-operator`` scope, which ``all`` never includes: it is
granted by name to an operator's client (``workhooks clients create --scopes
workhooks-operator``). Secrets appear in an answer once, with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from workhooks.api.openapi import documented
from workhooks.api.paths import OPERATOR_PREFIX
from workhooks.api.schemas import ApiClientIn
from workhooks.api.security import principal_of, requires, services_of
from workhooks.documents import (
    ApiClient,
    ApiClientList,
    ApiClientWithSecret,
    client_document,
    client_with_secret_document,
)
from workhooks.domain.operators import client_actor
from workhooks.domain.scopes import Scope, require_scopes
from workhooks.services.clients import NewClient

__all__ = ["CLIENT_HANDLERS"]

_OPERATOR = [requires(Scope.OPERATOR)]
_NO_STORE = {"Cache-Control": "no-store"}

Tenant = Annotated[str | None, QueryParameter(name="tenant", description="Only this tenant's")]


def _actor(request: Request[Any, Any, Any]) -> str:
    return client_actor(principal_of(request).client_id)


def _with_secret(new: NewClient) -> ApiClientWithSecret:
    return client_with_secret_document(new.client, new.secret)


@get(
    "/clients",
    guards=_OPERATOR,
    **documented("The API clients, revoked ones included"),
)
async def list_clients(request: Request[Any, Any, Any], tenant: Tenant = None) -> ApiClientList:
    """API clients of every tenant, or of ``?tenant=``."""
    found = await services_of(request).clients.list(tenant=tenant)
    return ApiClientList(value=[client_document(c) for c in found])


@post(
    "/clients",
    guards=_OPERATOR,
    **documented("The new client and its secret (once)"),
)
async def create_client(
    data: JSONBody[ApiClientIn], request: Request[Any, Any, Any]
) -> Response[ApiClientWithSecret]:
    """Create a client of ``tenant`` with ``scopes``: 201, ``Location``, the secret once."""
    new = await services_of(request).clients.create(
        data.tenant, require_scopes(data.scopes), actor=_actor(request)
    )
    return Response(
        _with_secret(new),
        status_code=201,
        headers={"Location": f"{OPERATOR_PREFIX}/clients/{new.client.id}", **_NO_STORE},
    )


@get(
    "/clients/{client_id:str}",
    guards=_OPERATOR,
    **documented("The client", 404),
)
async def get_client(client_id: FromPath[str], request: Request[Any, Any, Any]) -> ApiClient:
    """One client (never its secret)."""
    return client_document(await services_of(request).clients.get(client_id))


@post(
    "/clients/{client_id:str}/revoke",
    status_code=200,
    guards=_OPERATOR,
    **documented("The revoked client", 404),
)
async def revoke_client(client_id: FromPath[str], request: Request[Any, Any, Any]) -> ApiClient:
    """Revoke a client: no more tokens, and its tokens stop working at once (idempotent)."""
    revoked = await services_of(request).clients.revoke(client_id, actor=_actor(request))
    return client_document(revoked)


@post(
    "/clients/{client_id:str}/secret",
    status_code=200,
    guards=_OPERATOR,
    **documented("The new secret (once)", 404, 409),
)
async def rotate_client_secret(
    client_id: FromPath[str], request: Request[Any, Any, Any]
) -> Response[ApiClientWithSecret]:
    """Give a client a new secret, shown this once; the old secret stops working at once."""
    new = await services_of(request).clients.rotate_secret(client_id, actor=_actor(request))
    return Response(_with_secret(new), status_code=200, headers=_NO_STORE)


CLIENT_HANDLERS = [list_clients, create_client, get_client, revoke_client, rotate_client_secret]
