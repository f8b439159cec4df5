"""What every page shares: templates, the signed-in view, cookies, CSRF-checked forms, errors."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jinja2
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from workhooks.api.errors import handle_workhooks_error
from workhooks.errors import InvalidRequestError, WorkhooksError
from workhooks.services.container import Services
from workhooks.services.sessions import Session

__all__ = [
    "CONSOLE_COOKIE",
    "PORTAL_COOKIE",
    "SIGN_IN_COOKIE",
    "Pages",
    "View",
    "checked_form",
    "error_handler",
    "new_sign_in_token",
    "pages",
    "redirect",
    "services",
    "session_cookie",
]

CONSOLE_COOKIE = "workhooks_console"
PORTAL_COOKIE = "workhooks_portal"
SIGN_IN_COOKIE = "workhooks_sign_in"
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def services(request: Request[Any, Any, Any]) -> Services:
    """The services the app was built with."""
    found: Services = request.app.state["services"]
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    """Who is looking and where their pages live.

    An operator's view (``tenant`` None) spans every tenant under ``/console``; a portal
    view is locked to one tenant under ``/portal/<tenant>``: every search it makes passes
    that tenant, so a portal page can never show another tenant's data.
    """

    session: Session
    csrf: str
    base: str

    @property
    def tenant(self) -> str | None:
        """The tenant this view is locked to (None: all tenants)."""
        return self.session.tenant

    @property
    def is_operator(self) -> bool:
        """Whether this view spans every tenant."""
        return self.session.is_operator

    def webhook_url(self, tenant: str, webhook_id: str) -> str:
        """The page of one webhook."""
        if self.is_operator:
            return f"{self.base}/tenants/{tenant}/webhooks/{webhook_id}"
        return f"{self.base}/webhooks/{webhook_id}"

    def delivery_url(self, tenant: str, webhook_id: str, delivery_id: str) -> str:
        """The page of one delivery and its attempts."""
        return f"{self.webhook_url(tenant, webhook_id)}/deliveries/{delivery_id}"


def _age(value: dt.datetime | None, now: dt.datetime) -> str:
    if value is None:
        return "-"
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 120:
        text = f"{seconds}s"
    elif seconds < 7200:
        text = f"{seconds // 60}m"
    elif seconds < 172800:
        text = f"{seconds // 3600}h"
    else:
        text = f"{seconds // 86400}d"
    return f"in {text}" if future else f"{text} ago"


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0"
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def _when(value: dt.datetime | None) -> str:
    return "-" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Pages:
    """Renders the packaged Jinja2 templates (autoescaped) into HTML responses."""

    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("workhooks.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(when=_when, duration=_duration)
        self._env.globals.update(age=_age, urlencode=urlencode)

    def render(
        self,
        template: str,
        *,
        status_code: int = 200,
        cookies: list[Cookie] | None = None,
        media_type: str = "text/html; charset=utf-8",
        **context: Any,
    ) -> Response[str]:
        """A page (HTML unless told) with the console's security headers."""
        html = self._env.get_template(template).render(**context)
        return Response(
            html,
            media_type=media_type,
            status_code=status_code,
            headers=_HEADERS,
            cookies=cookies or [],
        )


def pages(request: Request[Any, Any, Any]) -> Pages:
    """The app's page renderer."""
    found: Pages = request.app.state["pages"]
    return found


def session_cookie(
    request: Request[Any, Any, Any], name: str, value: str, *, path: str, max_age: int | None
) -> Cookie:
    """An HTTP-only, SameSite=Strict cookie, Secure when the page was served over https."""
    return Cookie(
        key=name,
        value=value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def new_sign_in_token() -> str:
    """The double-submit token of a sign-in form (there is no session yet to bind it to)."""
    return secrets.token_hex(16)


def redirect(path: str, *, cookies: list[Cookie] | None = None, **query: str) -> Redirect:
    """A 303 to ``path`` (after a form post), with query parameters when given."""
    target = f"{path}?{urlencode(query)}" if query else path
    return Redirect(target, status_code=303, headers=_HEADERS, cookies=cookies or [])


async def checked_form(request: Request[Any, Any, Any], view: View) -> dict[str, str]:
    """The posted form, refused unless it carries the session's CSRF token."""
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not services(request).sessions.csrf_matches(view.session, fields.get("csrf")):
        raise InvalidRequestError(
            "The form is missing its security token or it is stale",
            reasons=("csrf: reload the page and submit the form again",),
        )
    return fields


def error_handler(request: Request[Any, Any, Any], exc: WorkhooksError) -> Response[str]:
    """A deliberate error as an HTML page, with the status the API answers for it."""
    status = handle_workhooks_error(request, exc).status_code or 500
    return pages(request).render(
        "error.html",
        status_code=status,
        message=exc.message,
        reasons=exc.reasons,
        view=request.state.get("view"),
    )
