"""The ASGI app factory: routes, the error table and the services, nothing built at import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import HeaderParameter

from workhooks import __version__
from workhooks.api.errors import exception_handlers
from workhooks.api.limits import uri_length_limit
from workhooks.api.paths import API_PREFIX
from workhooks.api.routes_auth import discovery, jwks, token
from workhooks.api.routes_console import TENANT_CONSOLE_HANDLERS, operator_router
from workhooks.api.routes_metrics import MetricsSource
from workhooks.api.routes_metrics import metrics as metrics_route
from workhooks.api.routes_reads import READ_HANDLERS
from workhooks.api.routes_records import RECORD_HANDLERS
from workhooks.api.routes_webhooks import WEBHOOK_HANDLERS
from workhooks.api.schemas import check_body_types
from workhooks.services.container import Services
from workhooks.web import Pages, web_routers

__all__ = ["API_PREFIX", "create_app"]

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


@get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this server (the browsable page is at ``/docs``)."""
    document: dict[str, Any] = request.app.openapi_schema.to_schema()
    return document


@get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}


async def _no_metrics() -> bytes:
    return b""


def create_app(
    services: Services,
    *,
    metrics: MetricsSource = _no_metrics,
    metrics_token: str | None = None,
    lifespan: Sequence[Lifespan] = (),
    debug: bool = False,
) -> Litestar:
    """Build the workhooks ASGI application around ``services``.

    ``metrics`` renders ``/metrics``; without ``metrics_token`` only loopback may read it.
    """
    api = Router(
        path=API_PREFIX,
        route_handlers=[
            *READ_HANDLERS,
            *RECORD_HANDLERS,
            *WEBHOOK_HANDLERS,
            *TENANT_CONSOLE_HANDLERS,
        ],
        before_request=check_body_types,
        security=[{"bearer": []}],
        parameters={
            "user_agent": HeaderParameter(
                name="User-Agent",
                required=True,
                description="ServiceName/Version (Company), e.g. Payroll/2.1 (Acme)",
            )
        },
    )
    return Litestar(
        route_handlers=[
            api,
            operator_router(),
            token,
            discovery,
            jwks,
            health,
            metrics_route,
            openapi_document,
            *web_routers(),
        ],
        exception_handlers=exception_handlers(),
        state=State(
            {
                "services": services,
                "metrics": metrics,
                "metrics_token": metrics_token,
                "pages": Pages(),
            }
        ),
        lifespan=list(lifespan),
        openapi_config=OpenAPIConfig(
            title="workhooks",
            version=__version__,
            description=(
                "Protime-compatible webhooks and read API for work interruptions. "
                "Take a token at /tenants/{tenant}/connect/token (client credentials)."
            ),
            path="/docs",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        debug=debug,
        request_max_body_size=4 * 1024 * 1024,
        middleware=[uri_length_limit],
    )
