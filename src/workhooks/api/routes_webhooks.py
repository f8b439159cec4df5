"""The webhooks API: create, list with filter, get, soft delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from workhooks.api.limits import RECORD_BODY_BYTES
from workhooks.api.openapi import documented, errors
from workhooks.api.params import Continuation, FilterText, References
from workhooks.api.paths import API_PREFIX
from workhooks.api.schemas import WebhookIn
from workhooks.api.security import principal_of, requires, services_of
from workhooks.documents import (
    CreatedWebhook,
    DeliveryDetail,
    DeliveryPage,
    Webhook,
    WebhookList,
    created_webhook_document,
    delivery_detail_document,
    delivery_document,
    webhook_document,
)
from workhooks.domain.scopes import Scope

__all__ = ["WEBHOOK_HANDLERS"]


@post(
    "/webhooks",
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    request_max_body_size=RECORD_BODY_BYTES,
    **documented("The new webhook with its key (shown once)", 413),
)
async def create_webhook(
    data: JSONBody[WebhookIn], request: Request[Any, Any, Any], references: References = None
) -> Response[CreatedWebhook]:
    """Create a webhook: 201, ``Location``, and the private ``key`` shown this once."""
    principal = principal_of(request)
    created = await services_of(request).webhooks.create(
        principal.tenant,
        destination_url=data.destinationUrl,
        collection_name=data.collectionName,
        references=references,
    )
    return Response(
        created_webhook_document(created.webhook, created.key),
        status_code=201,
        headers={
            "Location": f"{API_PREFIX}/webhooks/{created.webhook.id}",
            "Cache-Control": "no-store",
        },
    )


@get(
    "/webhooks",
    guards=[requires(Scope.WEBHOOKS_READ)],
    **documented("The webhooks"),
)
async def list_webhooks(
    request: Request[Any, Any, Any], filter_text: FilterText = None
) -> WebhookList:
    """The tenant's webhooks, optionally filtered on ``status`` and ``collection-name``."""
    principal = principal_of(request)
    found = await services_of(request).webhooks.list(principal.tenant, filter_text=filter_text)
    return WebhookList(value=[webhook_document(w) for w in found])


@get(
    "/webhooks/{webhook_id:str}",
    guards=[requires(Scope.WEBHOOKS_READ)],
    **documented("The webhook", 404),
)
async def get_webhook(webhook_id: FromPath[str], request: Request[Any, Any, Any]) -> Webhook:
    """One webhook (never its key)."""
    principal = principal_of(request)
    webhook = await services_of(request).webhooks.get(principal.tenant, webhook_id)
    return webhook_document(webhook)


@delete(
    "/webhooks/{webhook_id:str}",
    status_code=204,
    guards=[requires(Scope.WEBHOOKS_WRITE)],
    responses=errors(404),
)
async def delete_webhook(webhook_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
    """Soft-delete a webhook: deliveries stop, its history stays readable."""
    principal = principal_of(request)
    await services_of(request).webhooks.delete(principal.tenant, webhook_id)


@get(
    "/webhooks/{webhook_id:str}/deliveries",
    guards=[requires(Scope.WEBHOOKS_READ)],
    **documented("A page of deliveries", 404, 409),
)
async def list_deliveries(
    webhook_id: FromPath[str],
    request: Request[Any, Any, Any],
    filter_text: FilterText = None,
    continuation: Continuation = None,
) -> DeliveryPage:
    """The webhook's deliveries, newest first; ``filter`` on ``status`` and ``lastAttemptAt``."""
    principal = principal_of(request)
    page = await services_of(request).deliveries.page(
        principal.tenant,
        webhook_id,
        filter_text=filter_text,
        continuation=continuation,
    )
    body = DeliveryPage(value=[delivery_document(d) for d in page.deliveries])
    if page.continuation is not None:
        query = {"filter": filter_text} if filter_text is not None else {}
        query["continuationToken"] = page.continuation
        body.nextLink = f"{API_PREFIX}/webhooks/{webhook_id}/deliveries?{urlencode(query)}"
    return body


@get(
    "/webhooks/{webhook_id:str}/deliveries/{delivery_id:str}",
    guards=[requires(Scope.WEBHOOKS_READ)],
    **documented("The delivery and its attempts", 404),
)
async def get_delivery(
    webhook_id: FromPath[str], delivery_id: FromPath[str], request: Request[Any, Any, Any]
) -> DeliveryDetail:
    """One delivery with every attempt (time, status, latency, error class, response)."""
    principal = principal_of(request)
    delivery, attempts = await services_of(request).deliveries.get(
        principal.tenant, webhook_id, delivery_id
    )
    return delivery_detail_document(delivery, attempts)


WEBHOOK_HANDLERS = [
    create_webhook,
    list_webhooks,
    get_webhook,
    delete_webhook,
    list_deliveries,
    get_delivery,
]
