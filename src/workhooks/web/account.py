"""The operator's own sessions: where they are signed in, and ending all but this one."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from workhooks.domain.operators import AuditAction
from workhooks.web.pages import View, checked_form, pages, redirect, services

__all__ = ["ACCOUNT_PAGES"]


def _view(request: Request[Any, Any, Any]) -> View:
    view: View = request.state["view"]
    return view


@get("/sessions", include_in_schema=False)
async def sessions(request: Request[Any, Any, Any]) -> Response[str]:
    """The operator's live sessions, newest first, this one marked."""
    view = _view(request)
    svc = services(request)
    return pages(request).render(
        "sessions.html",
        view=view,
        sessions=await svc.sessions.live_sessions(view.session),
        current=view.session.id,
        now=svc.console.now(),
        notice=request.query_params.get("notice", ""),
    )


@post("/sessions/end-others", include_in_schema=False)
async def end_others(request: Request[Any, Any, Any]) -> Response[Any]:
    """End every other session of this operator (audited): their cookies stop working."""
    view = _view(request)
    await checked_form(request, view)
    svc = services(request)
    ended = await svc.sessions.end_other_sessions(view.session)
    await svc.console.record(view.session.actor, AuditAction.END_SESSIONS, detail=f"{ended} ended")
    return redirect(f"{view.base}/sessions", notice=f"{ended} other sessions ended.")


ACCOUNT_PAGES = [sessions, end_others]
