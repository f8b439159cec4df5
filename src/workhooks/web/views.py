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
from workhooks.services.console import ConsoleService
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
    RESEND = "resend"
    TEST_EVENT = "test-event"


PORTAL_ACTIONS = frozenset({Action.RETRY, Action.RECOVER, Action.RESEND, Action.TEST_EVENT})


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


def _allowed(view: View) -> list[Action]:
    return [a for a in Action if view.is_operator or a in PORTAL_ACTIONS]


def _action(view: View, name: str) -> Action:
    if name not in {a.value for a in _allowed(view)}:
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
        actions=_allowed(view),
        notice=request.query_params.get("notice", ""),
    )


async def delivery_page(
    request: Request[Any, Any, Any], view: View, tenant: str, webhook_id: str, delivery_id: str
) -> Response[str]:
    """One delivery and each of its attempts: status, latency, error, excerpt, next retry."""
    console = services(request).console
    detail = await console.delivery(_tenant(view, tenant), webhook_id, delivery_id)
    return pages(request).render(
        "delivery.html",
        view=view,
        detail=detail,
        now=console.now(),
        may_resend=Action.RESEND in _allowed(view),
        notice=request.query_params.get("notice", ""),
    )


def _record_id(text: str) -> int:
    """A record id typed into a form."""
    try:
        record_id = int(text.strip())
    except ValueError:
        record_id = 0
    if record_id < 1:
        raise InvalidRequestError(
            "Resend needs a record id", reasons=("record: the id of a work interruption",)
        )
    return record_id


async def confirm_page(
    request: Request[Any, Any, Any], view: View, tenant: str, webhook_id: str, action: str
) -> Response[str]:
    """Ask before acting: what the action does, on which webhook."""
    chosen = _action(view, action)
    console = services(request).console
    state = await console.webhook(_tenant(view, tenant), webhook_id)
    record = request.query_params.get("record", "")
    preview = None
    if chosen is Action.RESEND and record:
        preview = await console.resend_preview(tenant, webhook_id, _record_id(record))
    return pages(request).render(
        "confirm.html",
        view=view,
        state=state,
        action=chosen.value,
        now=console.now(),
        record=record,
        preview=preview,
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
    if chosen is Action.TEST_EVENT:
        attempt = await console.send_test_event(actor, tenant, webhook_id)
        target = view.delivery_url(tenant, webhook_id, attempt.message_id)
        return redirect(target, notice="Test event sent.")
    notice = await _run(console, chosen, actor, tenant, webhook_id, form)
    return redirect(view.webhook_url(tenant, webhook_id), notice=notice)


async def audit_page(request: Request[Any, Any, Any], view: View) -> Response[str]:
    """Who did what, when: the latest audit entries (a portal sees its tenant's only)."""
    console = services(request).console
    entries = await console.audit(tenant=view.tenant, limit=100)
    return pages(request).render("audit.html", view=view, entries=entries, now=console.now())


async def _run(
    console: ConsoleService,
    chosen: Action,
    actor: str,
    tenant: str,
    webhook_id: str,
    form: dict[str, str],
) -> str:
    """Run an action on the webhook; return the notice its page shows next."""
    if chosen is Action.DISABLE:
        await console.disable(actor, tenant, webhook_id, reason=form.get("reason", ""))
        return "Disabled."
    if chosen is Action.RETRY:
        await console.retry_now(actor, tenant, webhook_id)
        return "Retrying now."
    if chosen is Action.RESEND:
        record_id = _record_id(form.get("record", ""))
        moved = await console.resend(actor, tenant, webhook_id, record_id)
        return f"Resending record {record_id}: {moved} change versions will be sent again."
    since_text = form.get("since", "").strip()
    if not since_text:
        raise InvalidRequestError(
            "Recover needs a time", reasons=("since: the time to send again from",)
        )
    moved = await console.recover(
        actor, tenant, webhook_id, since=parse_instant(since_text, "since")
    )
    return f"Recovering: {moved} change versions will be sent again."
