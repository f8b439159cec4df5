"""The console's tenants and their API clients: create, revoke, new secret (shown once).

The pages call ``ClientService`` like the operator API and the CLI; each change is confirmed
on a page of its own, posted with the session's CSRF token, and audited with the operator.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from workhooks.domain.scopes import Scope, require_scopes
from workhooks.errors import NotFoundError
from workhooks.services.clients import NewClient, TenantClients
from workhooks.web.pages import View, checked_form, pages, redirect, services

__all__ = ["CLIENT_PAGES"]

PAGE = 50
_SCOPES = list(Scope)


def _view(request: Request[Any, Any, Any]) -> View:
    view: View = request.state["view"]
    return view


def _secret_page(
    request: Request[Any, Any, Any], new: NewClient, *, created: bool
) -> Response[str]:
    return pages(request).render(
        "client_secret.html", view=_view(request), new=new, created=created
    )


@get("/tenants", include_in_schema=False)
async def tenants(request: Request[Any, Any, Any]) -> Response[str]:
    """Tenants (those with API clients) and their clients, by name, 50 a page."""
    query = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
    tenant = query.get("tenant", "").strip()
    clients = services(request).clients
    if tenant:
        mine = await clients.list(tenant=tenant)
        found = [TenantClients(tenant=tenant, clients=mine)] if mine else []
    else:
        found = await clients.tenants(after=query.get("after") or None, limit=PAGE)
    return pages(request).render(
        "tenants.html",
        view=_view(request),
        tenants=found,
        tenant=tenant,
        scopes=_SCOPES,
        next_after=found[-1].tenant if len(found) == PAGE and not tenant else None,
        notice=query.get("notice", ""),
        now=services(request).console.now(),
    )


@get("/clients/new", include_in_schema=False)
async def new_client(request: Request[Any, Any, Any]) -> Response[str]:
    """Confirm the creation of a client: its tenant and its scopes."""
    tenant = str(request.query_params.get("tenant", ""))
    return pages(request).render(
        "client_new.html", view=_view(request), tenant=tenant, scopes=_SCOPES
    )


@post("/clients", include_in_schema=False)
async def create_client(request: Request[Any, Any, Any]) -> Response[str]:
    """Create a client (audited) and show its secret this once."""
    view = _view(request)
    form = await checked_form(request, view)
    raw = await request.form()
    chosen = [str(v) for v in raw.getall("scope")] if "scope" in raw else []
    new = await services(request).clients.create(
        form.get("tenant", "").strip(), require_scopes(chosen), actor=view.session.actor
    )
    return _secret_page(request, new, created=True)


@get("/clients/{client_id:str}/{action:str}", include_in_schema=False)
async def confirm(
    request: Request[Any, Any, Any], client_id: FromPath[str], action: FromPath[str]
) -> Response[str]:
    """Confirm revoking a client or giving it a new secret."""
    _check(action)
    client = await services(request).clients.get(client_id)
    return pages(request).render(
        "client_confirm.html", view=_view(request), client=client, action=action
    )


@post("/clients/{client_id:str}/{action:str}", include_in_schema=False)
async def act(
    request: Request[Any, Any, Any], client_id: FromPath[str], action: FromPath[str]
) -> Response[Any]:
    """Revoke a client, or give it a new secret shown this once (audited)."""
    view = _view(request)
    await checked_form(request, view)
    _check(action)
    clients = services(request).clients
    if action == "secret":
        new = await clients.rotate_secret(client_id, actor=view.session.actor)
        return _secret_page(request, new, created=False)
    revoked = await clients.revoke(client_id, actor=view.session.actor)
    return redirect(
        f"{view.base}/tenants", tenant=revoked.tenant, notice=f"Client {revoked.id} revoked."
    )


def _check(action: str) -> None:
    if action not in {"revoke", "secret"}:
        raise NotFoundError(f"There is no action {action[:40]!r}")


CLIENT_PAGES = [tenants, new_client, create_client, confirm, act]
