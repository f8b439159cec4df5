"""The delivery portal under ``/portal/<tenant>``: one tenant's webhooks and deliveries.

A portal session is signed for its tenant: the cookie of one tenant's portal is not valid
at another's, and every page searches the session's tenant only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery

from workhooks.domain.operators import AuditAction
from workhooks.errors import AuthenticationError, WorkhooksError
from workhooks.web import views
from workhooks.web.pages import (
    PORTAL_COOKIE,
    SIGN_IN_COOKIE,
    View,
    checked_form,
    error_handler,
    new_sign_in_token,
    pages,
    redirect,
    services,
    session_cookie,
)

__all__ = ["portal_router"]


def _base(tenant: FromPath[str]) -> str:
    return f"/portal/{quote(tenant, safe='')}"


def _view(request: Request[Any, Any, Any]) -> View:
    view: View = request.state["view"]
    return view


async def _require_tenant_session(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Resolve the portal session of the tenant in the path, or go to its sign-in page."""
    if request.route_handler.opt.get("public"):
        return None
    tenant = str(request.path_params["tenant"])
    sessions = services(request).sessions
    session = await sessions.read(request.cookies.get(PORTAL_COOKIE), tenant=tenant)
    if session is None:
        return redirect(f"{_base(tenant)}/sign-in")
    request.state["view"] = View(
        session=session, csrf=sessions.csrf_token(session), base=_base(tenant)
    )
    return None


def _sign_in_form(
    request: Request[Any, Any, Any],
    tenant: str,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response[str]:
    token = new_sign_in_token()
    cookie = session_cookie(request, SIGN_IN_COOKIE, token, path=_base(tenant), max_age=3600)
    return pages(request).render(
        "sign_in.html",
        view=None,
        action=f"{_base(tenant)}/sign-in",
        fields=[("client_id", "Client id", "text"), ("client_secret", "Client secret", "password")],
        title=f"Delivery portal of {tenant}",
        token=token,
        error=error,
        status_code=status_code,
        cookies=[cookie],
    )


def _signed_in(
    request: Request[Any, Any, Any], tenant: str, value: str, max_age: int
) -> Response[Any]:
    cookie = session_cookie(request, PORTAL_COOKIE, value, path=_base(tenant), max_age=max_age)
    return redirect(_base(tenant), cookies=[cookie])


@get("/sign-in", opt={"public": True})
async def sign_in_form(request: Request[Any, Any, Any], tenant: FromPath[str]) -> Response[str]:
    """The portal sign-in form (the tenant's client credentials)."""
    return _sign_in_form(request, tenant)


@post("/sign-in", opt={"public": True})
async def sign_in(request: Request[Any, Any, Any], tenant: FromPath[str]) -> Response[Any]:
    """Check the client credentials of this tenant and start a portal session."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or form.get("csrf") != expected:
        return _sign_in_form(request, tenant, error="The form expired; try again.", status_code=400)
    svc = services(request)
    try:
        session, value = await svc.sessions.sign_in_client(
            tenant, form.get("client_id", ""), form.get("client_secret", "")
        )
    except AuthenticationError as exc:
        return _sign_in_form(request, tenant, error=exc.message, status_code=401)
    await svc.console.record(session.actor, AuditAction.SIGN_IN, tenant=tenant)
    max_age = int((session.expires_at - svc.console.now()).total_seconds())
    return _signed_in(request, tenant, value, max_age)


@get("/link", opt={"public": True})
async def link(
    request: Request[Any, Any, Any], tenant: FromPath[str], token: FromQuery[str]
) -> Response[Any]:
    """Sign in with a portal link; the token leaves the address bar at once."""
    svc = services(request)
    try:
        session, value = await svc.sessions.sign_in_link(tenant, token)
    except AuthenticationError as exc:
        return _sign_in_form(request, tenant, error=exc.message, status_code=401)
    await svc.console.record(session.actor, AuditAction.SIGN_IN, tenant=tenant)
    max_age = int((session.expires_at - svc.console.now()).total_seconds())
    return _signed_in(request, tenant, value, max_age)


@post("/sign-out")
async def sign_out(request: Request[Any, Any, Any], tenant: FromPath[str]) -> Response[Any]:
    """End the portal session, on the server too (its cookie stops working everywhere)."""
    view = _view(request)
    await checked_form(request, view)
    svc = services(request)
    await svc.sessions.sign_out(view.session)
    await svc.console.record(view.session.actor, AuditAction.SIGN_OUT, tenant=tenant)
    cookie = session_cookie(request, PORTAL_COOKIE, "", path=_base(tenant), max_age=0)
    return redirect(f"{_base(tenant)}/sign-in", cookies=[cookie])


@get("/")
async def webhooks(request: Request[Any, Any, Any]) -> Response[str]:
    """The tenant's webhooks."""
    return await views.webhooks_page(request, _view(request))


@get("/deliveries")
async def deliveries(request: Request[Any, Any, Any]) -> Response[str]:
    """The tenant's delivery log."""
    return await views.deliveries_page(request, _view(request))


@get("/webhooks/{webhook_id:str}")
async def webhook(
    request: Request[Any, Any, Any], tenant: FromPath[str], webhook_id: FromPath[str]
) -> Response[str]:
    """One of the tenant's webhooks."""
    return await views.webhook_page(request, _view(request), tenant, webhook_id)


@get("/webhooks/{webhook_id:str}/deliveries/{delivery_id:str}")
async def delivery(
    request: Request[Any, Any, Any],
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    delivery_id: FromPath[str],
) -> Response[str]:
    """One delivery and its attempts."""
    return await views.delivery_page(request, _view(request), tenant, webhook_id, delivery_id)


@get("/webhooks/{webhook_id:str}/{action:str}")
async def confirm(
    request: Request[Any, Any, Any],
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    action: FromPath[str],
) -> Response[str]:
    """Confirm retry now or recover."""
    return await views.confirm_page(request, _view(request), tenant, webhook_id, action)


@post("/webhooks/{webhook_id:str}/{action:str}")
async def act(
    request: Request[Any, Any, Any],
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    action: FromPath[str],
) -> Response[Any]:
    """Run a confirmed action on one of the tenant's webhooks."""
    return await views.act(request, _view(request), tenant, webhook_id, action)


@get("/audit")
async def audit(request: Request[Any, Any, Any]) -> Response[str]:
    """What was done to the tenant's webhooks, and by whom."""
    return await views.audit_page(request, _view(request))


def portal_router() -> Router:
    """The delivery portal's routes, behind a session of the tenant in the path."""
    return Router(
        path="/portal/{tenant:str}",
        route_handlers=[
            sign_in_form,
            sign_in,
            link,
            sign_out,
            webhooks,
            deliveries,
            webhook,
            delivery,
            confirm,
            act,
            audit,
        ],
        before_request=_require_tenant_session,
        exception_handlers={WorkhooksError: error_handler},
        include_in_schema=False,
    )
