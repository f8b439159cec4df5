"""The operator console under ``/console``: sign-in, overview, webhooks, deliveries, actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from workhooks.domain.operators import AuditAction
from workhooks.errors import AuthenticationError, InvalidRequestError, WorkhooksError
from workhooks.web import views
from workhooks.web.account import ACCOUNT_PAGES
from workhooks.web.clients import CLIENT_PAGES
from workhooks.web.pages import (
    CONSOLE_COOKIE,
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
from workhooks.web.plots import plot

__all__ = ["console_router"]

BASE = "/console"
_PUBLIC = {"public": True}


def _view(request: Request[Any, Any, Any]) -> View:
    view: View = request.state["view"]
    return view


async def _require_operator(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Resolve the operator's session, or send the browser to the sign-in page."""
    if request.route_handler.opt.get("public"):
        return None
    sessions = services(request).sessions
    session = await sessions.read(request.cookies.get(CONSOLE_COOKIE), tenant=None)
    if session is None:
        return redirect(f"{BASE}/sign-in")
    request.state["view"] = View(session=session, csrf=sessions.csrf_token(session), base=BASE)
    return None


def _sign_in_form(
    request: Request[Any, Any, Any], *, error: str = "", status_code: int = 200
) -> Response[str]:
    token = new_sign_in_token()
    cookie = session_cookie(request, SIGN_IN_COOKIE, token, path=BASE, max_age=3600)
    return pages(request).render(
        "sign_in.html",
        view=None,
        action=f"{BASE}/sign-in",
        fields=[("name", "Operator name", "text"), ("password", "Password", "password")],
        title="Operator console",
        token=token,
        error=error,
        status_code=status_code,
        cookies=[cookie],
    )


@get("/sign-in", opt=_PUBLIC, include_in_schema=False)
async def sign_in_form(request: Request[Any, Any, Any]) -> Response[str]:
    """The operator sign-in form."""
    return _sign_in_form(request)


@post("/sign-in", opt=_PUBLIC, include_in_schema=False)
async def sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    """Check the operator's password, start a session, audit the sign-in."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or form.get("csrf") != expected:
        return _sign_in_form(request, error="The form expired; try again.", status_code=400)
    svc = services(request)
    try:
        session, value = await svc.sessions.sign_in_operator(
            form.get("name", ""), form.get("password", "")
        )
    except AuthenticationError as exc:
        return _sign_in_form(request, error=exc.message, status_code=401)
    await svc.console.record(session.actor, AuditAction.SIGN_IN)
    max_age = int((session.expires_at - svc.console.now()).total_seconds())
    cookie = session_cookie(request, CONSOLE_COOKIE, value, path=BASE, max_age=max_age)
    return redirect(BASE, cookies=[cookie])


@post("/sign-out", include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    """End the session, on the server too (its cookie stops working everywhere)."""
    view = _view(request)
    await checked_form(request, view)
    svc = services(request)
    await svc.sessions.sign_out(view.session)
    await svc.console.record(view.session.actor, AuditAction.SIGN_OUT)
    cookie = session_cookie(request, CONSOLE_COOKIE, "", path=BASE, max_age=0)
    return redirect(f"{BASE}/sign-in", cookies=[cookie])


@get("/", include_in_schema=False)
async def overview(request: Request[Any, Any, Any]) -> Response[str]:
    """Webhooks by status, the most behind, the destinations failing now."""
    console = services(request).console
    return pages(request).render(
        "overview.html", view=_view(request), overview=await console.overview(), now=console.now()
    )


@get("/rates.svg", include_in_schema=False)
async def rates(request: Request[Any, Any, Any]) -> Response[str]:
    """Deliveries/s and failures/s per minute over the last hour, as an SVG image.

    An image of its own, so the overview shows at once while the attempt log is counted.
    """
    minutes = await services(request).console.last_hour()
    deliveries = plot([m.attempts / 60 for m in minutes])
    failures = plot([m.failures / 60 for m in minutes], top=deliveries.top)
    return pages(request).render(
        "rates.svg",
        media_type="image/svg+xml",
        width=deliveries.width,
        height=deliveries.height,
        deliveries=deliveries,
        failures=failures,
    )


@get("/lag.svg", include_in_schema=False)
async def lag(request: Request[Any, Any, Any]) -> Response[str]:
    """The delivery lag per minute over the last hour (sampled by the workers), as SVG."""
    samples = await services(request).console.lag_last_hour()
    seconds = plot([None if s is None else s.lag_seconds for s in samples])
    behind = next((s.behind for s in reversed(samples) if s is not None), 0)
    return pages(request).render(
        "lag.svg",
        media_type="image/svg+xml",
        width=seconds.width,
        height=seconds.height,
        lag=seconds,
        behind=behind,
    )


@get("/webhooks", include_in_schema=False)
async def webhooks(request: Request[Any, Any, Any]) -> Response[str]:
    """Webhooks across tenants."""
    return await views.webhooks_page(request, _view(request))


@get("/deliveries", include_in_schema=False)
async def deliveries(request: Request[Any, Any, Any]) -> Response[str]:
    """The delivery log across tenants."""
    return await views.deliveries_page(request, _view(request))


@get("/tenants/{tenant:str}/webhooks/{webhook_id:str}", include_in_schema=False)
async def webhook(
    request: Request[Any, Any, Any], tenant: FromPath[str], webhook_id: FromPath[str]
) -> Response[str]:
    """One webhook of a tenant."""
    return await views.webhook_page(request, _view(request), tenant, webhook_id)


@get(
    "/tenants/{tenant:str}/webhooks/{webhook_id:str}/deliveries/{delivery_id:str}",
    include_in_schema=False,
)
async def delivery(
    request: Request[Any, Any, Any],
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    delivery_id: FromPath[str],
) -> Response[str]:
    """One delivery and its attempts."""
    return await views.delivery_page(request, _view(request), tenant, webhook_id, delivery_id)


@get("/tenants/{tenant:str}/webhooks/{webhook_id:str}/{action:str}", include_in_schema=False)
async def confirm(
    request: Request[Any, Any, Any],
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    action: FromPath[str],
) -> Response[str]:
    """Confirm an action."""
    return await views.confirm_page(request, _view(request), tenant, webhook_id, action)


@post("/tenants/{tenant:str}/webhooks/{webhook_id:str}/{action:str}", include_in_schema=False)
async def act(
    request: Request[Any, Any, Any],
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    action: FromPath[str],
) -> Response[Any]:
    """Run a confirmed action."""
    return await views.act(request, _view(request), tenant, webhook_id, action)


@get("/audit", include_in_schema=False)
async def audit(request: Request[Any, Any, Any]) -> Response[str]:
    """The audit log."""
    return await views.audit_page(request, _view(request))


@post("/portal-links", include_in_schema=False)
async def portal_link(request: Request[Any, Any, Any]) -> Response[str]:
    """Create a short-lived sign-in link to one tenant's delivery portal (audited)."""
    view = _view(request)
    form = await checked_form(request, view)
    tenant = form.get("tenant", "").strip()
    if not tenant:
        raise InvalidRequestError("A tenant is required", reasons=("tenant: name the tenant",))
    svc = services(request)
    token, expires_at = svc.sessions.portal_link(tenant, view.session.actor)
    await svc.console.record(view.session.actor, AuditAction.PORTAL_LINK, tenant=tenant)
    base_url = str(request.base_url).rstrip("/")
    link = f"{base_url}/portal/{quote(tenant, safe='')}/link?{urlencode({'token': token})}"
    return pages(request).render(
        "portal_link.html", view=view, tenant=tenant, link=link, expires_at=expires_at
    )


def console_router() -> Router:
    """The operator console's routes, behind an operator session."""
    return Router(
        path=BASE,
        route_handlers=[
            sign_in_form,
            sign_in,
            sign_out,
            overview,
            rates,
            lag,
            webhooks,
            deliveries,
            webhook,
            delivery,
            confirm,
            act,
            audit,
            portal_link,
            *CLIENT_PAGES,
            *ACCOUNT_PAGES,
        ],
        before_request=_require_operator,
        exception_handlers={WorkhooksError: error_handler},
        include_in_schema=False,
    )
