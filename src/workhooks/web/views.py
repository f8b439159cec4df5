"""The pages both faces show: the console for every tenant, the portal for one.

Each function takes the signed-in ``View``; a portal view always searches its own tenant.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any

from litestar import Request, Response

from workhooks.domain.search import (
    delivery_next,
    parse_delivery_search,
    parse_instant,
    parse_webhook_search,
    webhook_next,
)
from workhooks.errors import InvalidRequestError, NotFoundError
from workhooks.web.pages import View, checked_form, pages, redirect, services

__all__ = [
    "Action",
    "act",
    "audit_page",
    "confirm_page",
    "deliveries_page",
    "delivery_page",
    "webhook_page",
    "webhooks_page",
]

RECENT_DELIVERIES = 20


class Action(StrEnum):
    """What a user may do to one webhook from the pages (each also an API route)."""

    DISABLE = "disable"
    RETRY = "retry"
    RECOVER = "recover"


PORTAL_ACTIONS = frozenset({Action.RETRY, Action.RECOVER})


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


def _action(view: View, name: str) -> Action:
    allowed = Action if view.is_operator else PORTAL_ACTIONS
    if name not in {a.value for a in allowed}:
        raise NotFoundError(f"There is no action {name[:40]!r}")
    return Action(name)


def _tenant(view: View, tenant: str) -> str:
    """The tenant a page may show: a portal view only ever its own."""
    if view.tenant is not None and tenant != view.tenant:
        raise NotFoundError("Webhook does not exist")
    return tenant


async def webhooks_page(request: Request[Any, Any, Any], view: View) -> Response[str]:
    """Webhooks with status, destination, progress and failures; filtered and paged."""
    params = _query(request)
    search = parse_webhook_search(params, tenant=view.tenant)
    console = services(request).console
    found = await console.webhooks(search)
    return pages(request).render(
        "webhooks.html",
        view=view,
        params=params,
        webhooks=found,
        now=console.now(),
        next_after=webhook_next(search, found),
    )


async def deliveries_page(request: Request[Any, Any, Any], view: View) -> Response[str]:
    """The delivery log: searched by tenant, webhook, record, outcome and time; paged."""
    params = _query(request)
    search = parse_delivery_search(params, tenant=view.tenant)
    console = services(request).console
    found = await console.deliveries(search)
    return pages(request).render(
        "deliveries.html",
        view=view,
        params=params,
        deliveries=found,
        now=console.now(),
        next_after=delivery_next(search, found),
    )


async def webhook_page(
    request: Request[Any, Any, Any], view: View, tenant: str, webhook_id: str
) -> Response[str]:
    """One webhook: its state, its latest deliveries and what may be done to it."""
    console = services(request).console
    state = await console.webhook(_tenant(view, tenant), webhook_id)
    recent = parse_delivery_search({"limit": str(RECENT_DELIVERIES)}, tenant=tenant)
    deliveries = await console.deliveries(replace(recent, webhook_id=webhook_id))
    return pages(request).render(
        "webhook.html",
        view=view,
        state=state,
        deliveries=deliveries,
        now=console.now(),
        actions=[a for a in Action if view.is_operator or a in PORTAL_ACTIONS],
        notice=request.query_params.get("notice", ""),
    )


async def delivery_page(
    request: Request[Any, Any, Any], view: View, tenant: str, webhook_id: str, delivery_id: str
) -> Response[str]:
    """One delivery and each of its attempts: status, latency, error, excerpt, next retry."""
    console = services(request).console
    detail = await console.delivery(_tenant(view, tenant), webhook_id, delivery_id)
    return pages(request).render("delivery.html", view=view, detail=detail, now=console.now())


async def confirm_page(
    request: Request[Any, Any, Any], view: View, tenant: str, webhook_id: str, action: str
) -> Response[str]:
    """Ask before acting: what the action does, on which webhook."""
    chosen = _action(view, action)
    console = services(request).console
    state = await console.webhook(_tenant(view, tenant), webhook_id)
    return pages(request).render(
        "confirm.html", view=view, state=state, action=chosen.value, now=console.now()
    )


async def act(
    request: Request[Any, Any, Any], view: View, tenant: str, webhook_id: str, action: str
) -> Response[Any]:
    """Run a confirmed action (audited by the service), then show the webhook again."""
    form = await checked_form(request, view)
    chosen = _action(view, action)
    tenant = _tenant(view, tenant)
    console = services(request).console
    actor = view.session.actor
    if chosen is Action.DISABLE:
        await console.disable(actor, tenant, webhook_id, reason=form.get("reason", ""))
        notice = "Disabled."
    elif chosen is Action.RETRY:
        await console.retry_now(actor, tenant, webhook_id)
        notice = "Retrying now."
    else:
        since_text = form.get("since", "").strip()
        if not since_text:
            raise InvalidRequestError(
                "Recover needs a time", reasons=("since: the time to send again from",)
            )
        moved = await console.recover(
            actor, tenant, webhook_id, since=parse_instant(since_text, "since")
        )
        notice = f"Recovering: {moved} change versions will be sent again."
    return redirect(view.webhook_url(tenant, webhook_id), notice=notice)


async def audit_page(request: Request[Any, Any, Any], view: View) -> Response[str]:
    """Who did what, when: the latest audit entries (a portal sees its tenant's only)."""
    console = services(request).console
    entries = await console.audit(tenant=view.tenant, limit=100)
    return pages(request).render("audit.html", view=view, entries=entries, now=console.now())
