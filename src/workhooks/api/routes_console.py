"""The console's actions and searches as API routes: the pages hold nothing the API lacks.

A tenant's own webhooks (``connector-protimeapi-webhooks.write``): retry now, recover,
resend one record, send a test event, and portal links. Every tenant's (the
``workhooks-operator`` scope, under ``/operator/v1``): search webhooks and deliveries, read
the audit log, disable, retry now, recover, resend, test events, portal links. Every action
is audited with the calling client as its actor.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from workhooks.api.console_wire import DisableIn, RecoverIn, ResendIn
from workhooks.api.openapi import documented, errors
from workhooks.api.paths import API_PREFIX, OPERATOR_PREFIX
from workhooks.api.security import principal_of, requires, services_of
from workhooks.documents import (
    AuditList,
    OperatorDeliveryPage,
    OperatorWebhookPage,
    PortalLink,
    Recovered,
    SentTestEvent,
    audit_document,
    found_delivery_document,
    portal_link_document,
    sent_test_document,
    state_document,
)
from workhooks.domain.operators import AuditAction, client_actor
from workhooks.domain.scopes import Scope
from workhooks.domain.search import (
    delivery_next,
    parse_delivery_search,
    parse_instant,
    parse_webhook_search,
    webhook_next,
)

__all__ = ["TENANT_CONSOLE_HANDLERS", "operator_router"]


def _actor(request: Request[Any, Any, Any]) -> str:
    return client_actor(principal_of(request).client_id)


async def _recover(
    request: Request[Any, Any, Any], tenant: str, webhook_id: str, since: str
) -> Recovered:
    moved = await services_of(request).console.recover(
        _actor(request), tenant, webhook_id, since=parse_instant(since, "since")
    )
    return Recovered(changesSentAgain=moved)


async def _resend(
    request: Request[Any, Any, Any], tenant: str, webhook_id: str, record_id: int
) -> Recovered:
    moved = await services_of(request).console.resend(
        _actor(request), tenant, webhook_id, record_id
    )
    return Recovered(changesSentAgain=moved)


async def _test_event(
    request: Request[Any, Any, Any], tenant: str, webhook_id: str
) -> Response[SentTestEvent]:
    attempt = await services_of(request).console.send_test_event(
        _actor(request), tenant, webhook_id
    )
    location = f"{API_PREFIX}/webhooks/{webhook_id}/deliveries/{attempt.message_id}"
    return Response(sent_test_document(attempt), status_code=201, headers={"Location": location})


_RESENT = "How many change versions are sent again (0: the record's change is still to come)"
_TESTED = "The test event's attempt (also in the delivery history, as a test)"


def _portal_link(request: Request[Any, Any, Any], tenant: str) -> PortalLink:
    token, expires_at = services_of(request).sessions.portal_link(tenant, _actor(request))
    base = str(request.base_url).rstrip("/")
    url = f"{base}/portal/{quote(tenant, safe='')}/link?{urlencode({'token': token})}"
    return portal_link_document(url, expires_at)


# -- a tenant's own webhooks -------------------------------------------------------------


@post(
    "/webhooks/{webhook_id:str}/retry",
    status_code=204,
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    responses=errors(404, 409),
)
async def retry_own(webhook_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
    """Retry now: cut the back-off of an enabled webhook short (audited); 409 when Disabled."""
    await services_of(request).console.retry_now(
        _actor(request), principal_of(request).tenant, webhook_id
    )


@post(
    "/webhooks/{webhook_id:str}/recover",
    status_code=200,
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    **documented("How many change versions are sent again", 404, 409),
)
async def recover_own(
    webhook_id: FromPath[str], data: JSONBody[RecoverIn], request: Request[Any, Any, Any]
) -> Recovered:
    """Recover: send again everything tried since ``since`` (audited); 409 when Disabled."""
    return await _recover(request, principal_of(request).tenant, webhook_id, data.since)


@post(
    "/webhooks/{webhook_id:str}/resend",
    status_code=200,
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    **documented(_RESENT, 404, 409),
)
async def resend_own(
    webhook_id: FromPath[str], data: JSONBody[ResendIn], request: Request[Any, Any, Any]
) -> Recovered:
    """Resend the current state of one work interruption (a tombstone when deleted) through
    the delivery engine, with every change after it (audited); 409 when Disabled."""
    return await _resend(request, principal_of(request).tenant, webhook_id, data.recordId)


@post(
    "/webhooks/{webhook_id:str}/test-events",
    status_code=201,
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    **documented(_TESTED, 404, 409),
)
async def test_event_own(
    webhook_id: FromPath[str], request: Request[Any, Any, Any]
) -> Response[SentTestEvent]:
    """Send a signed test event to the webhook's destination now and answer its outcome.

    Audited; never moves the cursor nor counts toward disabling; 409 when Disabled, 429
    past 5 per minute per webhook.
    """
    return await _test_event(request, principal_of(request).tenant, webhook_id)


@post(
    "/portal-links",
    status_code=201,
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    **documented("A sign-in link to the tenant's delivery portal"),
)
async def portal_link_own(request: Request[Any, Any, Any]) -> PortalLink:
    """A short-lived link that signs its bearer in to this tenant's delivery portal."""
    tenant = principal_of(request).tenant
    await services_of(request).console.record(
        _actor(request), AuditAction.PORTAL_LINK, tenant=tenant
    )
    return _portal_link(request, tenant)


TENANT_CONSOLE_HANDLERS = [retry_own, recover_own, resend_own, test_event_own, portal_link_own]


# -- every tenant's (operators) ----------------------------------------------------------


Text = FromQuery[str | None]


def _given(**values: str | None) -> dict[str, str]:
    return {name: value for name, value in values.items() if value is not None}


@get("/webhooks", **documented("A page of webhooks"))
async def search_webhooks(
    request: Request[Any, Any, Any],
    q: Text = None,
    tenant: Text = None,
    status: Text = None,
    failing: Text = None,
    limit: Text = None,
    after: Text = None,
) -> OperatorWebhookPage:
    """Webhooks across tenants, by ``(tenant, id)``.

    ``q`` matches a webhook id or tenant, or any part of the destination; ``status`` is
    Enabled or Disabled; ``failing=1`` keeps failing webhooks; ``limit`` is 1 to 200 (50);
    ``after`` comes from ``nextLink``.
    """
    params = _given(q=q, tenant=tenant, status=status, failing=failing, limit=limit, after=after)
    search = parse_webhook_search(params, tenant=None)
    console = services_of(request).console
    found = await console.webhooks(search)
    page = OperatorWebhookPage(value=[state_document(s, now=console.now()) for s in found])
    after = webhook_next(search, found)
    if after is not None:
        page.nextLink = f"{OPERATOR_PREFIX}/webhooks?{urlencode({**params, 'after': after})}"
    return page


@get("/deliveries", **documented("A page of deliveries"))
async def search_deliveries(
    request: Request[Any, Any, Any],
    tenant: Text = None,
    webhook: Text = None,
    record: Text = None,
    status: Text = None,
    code: Text = None,
    error: Text = None,
    since: Text = None,
    until: Text = None,
    limit: Text = None,
    after: Text = None,
) -> OperatorDeliveryPage:
    """Deliveries across webhooks, newest last attempt first.

    ``record`` is a record id, ``status`` Succeeded or Failed, ``code`` the last HTTP status,
    ``error`` the last error class, ``since``/``until`` ISO 8601 times (UTC when without an
    offset), ``limit`` 1 to 200 (50), ``after`` from ``nextLink``.
    """
    params = _given(
        tenant=tenant,
        webhook=webhook,
        record=record,
        status=status,
        code=code,
        error=error,
        since=since,
        until=until,
        limit=limit,
        after=after,
    )
    search = parse_delivery_search(params, tenant=None)
    found = await services_of(request).console.deliveries(search)
    page = OperatorDeliveryPage(value=[found_delivery_document(f) for f in found])
    after = delivery_next(search, found)
    if after is not None:
        page.nextLink = f"{OPERATOR_PREFIX}/deliveries?{urlencode({**params, 'after': after})}"
    return page


@get("/audit", **documented("The latest audit entries"))
async def audit(request: Request[Any, Any, Any], tenant: FromQuery[str | None] = None) -> AuditList:
    """The latest 100 audit entries, newest first (of one ``tenant`` when given)."""
    entries = await services_of(request).console.audit(tenant=tenant, limit=100)
    return AuditList(value=[audit_document(e) for e in entries])


@post(
    "/tenants/{tenant:str}/webhooks/{webhook_id:str}/disable",
    status_code=204,
    responses=errors(404, 409),
)
async def disable(
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    data: JSONBody[DisableIn],
    request: Request[Any, Any, Any],
) -> None:
    """Disable an enabled webhook for good, with a reason shown to the tenant (audited)."""
    await services_of(request).console.disable(
        _actor(request), tenant, webhook_id, reason=data.reason
    )


@post(
    "/tenants/{tenant:str}/webhooks/{webhook_id:str}/retry",
    status_code=204,
    responses=errors(404, 409),
)
async def retry(
    tenant: FromPath[str], webhook_id: FromPath[str], request: Request[Any, Any, Any]
) -> None:
    """Retry now: cut an enabled webhook's back-off short (audited); 409 when Disabled."""
    await services_of(request).console.retry_now(_actor(request), tenant, webhook_id)


@post(
    "/tenants/{tenant:str}/webhooks/{webhook_id:str}/recover",
    status_code=200,
    **documented("How many change versions are sent again", 404, 409),
)
async def recover(
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    data: JSONBody[RecoverIn],
    request: Request[Any, Any, Any],
) -> Recovered:
    """Recover an enabled webhook since ``since`` (audited); a Disabled one stays disabled."""
    return await _recover(request, tenant, webhook_id, data.since)


@post(
    "/tenants/{tenant:str}/webhooks/{webhook_id:str}/resend",
    status_code=200,
    **documented(_RESENT, 404, 409),
)
async def resend(
    tenant: FromPath[str],
    webhook_id: FromPath[str],
    data: JSONBody[ResendIn],
    request: Request[Any, Any, Any],
) -> Recovered:
    """Resend one work interruption's current state to an enabled webhook (audited)."""
    return await _resend(request, tenant, webhook_id, data.recordId)


@post(
    "/tenants/{tenant:str}/webhooks/{webhook_id:str}/test-events",
    status_code=201,
    **documented(_TESTED, 404, 409),
)
async def test_event(
    tenant: FromPath[str], webhook_id: FromPath[str], request: Request[Any, Any, Any]
) -> Response[SentTestEvent]:
    """Send a signed test event to an enabled webhook's destination now (audited)."""
    return await _test_event(request, tenant, webhook_id)


@post(
    "/tenants/{tenant:str}/portal-links",
    status_code=201,
    **documented("A sign-in link to the tenant's delivery portal"),
)
async def portal_link(tenant: FromPath[str], request: Request[Any, Any, Any]) -> PortalLink:
    """A short-lived link that signs its bearer in to ``tenant``'s delivery portal (audited)."""
    await services_of(request).console.record(
        _actor(request), AuditAction.PORTAL_LINK, tenant=tenant
    )
    return _portal_link(request, tenant)


def operator_router() -> Router:
    """The cross-tenant routes, for tokens with the ``workhooks-operator`` scope."""
    return Router(
        path=OPERATOR_PREFIX,
        route_handlers=[
            search_webhooks,
            search_deliveries,
            audit,
            disable,
            retry,
            recover,
            resend,
            test_event,
            portal_link,
        ],
        guards=[requires(Scope.OPERATOR)],
        tags=["operator"],
    )
