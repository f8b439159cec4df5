"""The ASGI app factory: routes, the error table and the services, nothing built at import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, License
from litestar.params import HeaderParameter

from workhooks import __version__
from workhooks.api.allow import allowed_methods, fix_allow_header
from workhooks.api.errors import exception_handlers
from workhooks.api.limits import BATCH_BODY_BYTES, uri_length_limit
from workhooks.api.openapi_document import SECURITY_SCHEMES, finish, operation_id
from workhooks.api.paths import API_PREFIX, OPERATOR_PREFIX
from workhooks.api.probes import Readiness, always_ready, health, ready
from workhooks.api.rate_limits import RateLimits
from workhooks.api.routes_auth import discovery, jwks, token
from workhooks.api.routes_clients import CLIENT_HANDLERS
from workhooks.api.routes_console import TENANT_CONSOLE_HANDLERS, operator_router
from workhooks.api.routes_groups import GROUP_HANDLERS
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


async def _no_metrics() -> bytes:
    return b""


def create_app(
    services: Services,
    *,
    metrics: MetricsSource = _no_metrics,
    metrics_token: str | None = None,
    rate_limits: RateLimits | None = None,
    readiness: Readiness = always_ready,
    lifespan: Sequence[Lifespan] = (),
    debug: bool = False,
) -> Litestar:
    """Build the workhooks ASGI application around ``services``.

    ``metrics`` renders ``/metrics``; without ``metrics_token`` only loopback may read it.
    ``rate_limits``, when given, limits each client's API requests (429).
    ``readiness`` answers ``/ready``.
    """
    api, operator = (
        Router(
            path=path,
            route_handlers=handlers,
            before_request=check_body_types,
            parameters={
                "user_agent": HeaderParameter(
                    name="User-Agent",
                    annotation=str,
                    required=True,
                    description="ServiceName/Version (Company), e.g. Payroll/2.1 (Acme)",
                )
            },
        )
        for path, handlers in (
            (
                API_PREFIX,
                [
                    *READ_HANDLERS,
                    *RECORD_HANDLERS,
                    *WEBHOOK_HANDLERS,
                    *GROUP_HANDLERS,
                    *TENANT_CONSOLE_HANDLERS,
                ],
            ),
            (OPERATOR_PREFIX, CLIENT_HANDLERS),
        )
    )
    allowed: dict[str, str] = {}
    app = Litestar(
        route_handlers=[
            api,
            operator,
            operator_router(),
            token,
            discovery,
            jwks,
            health,
            ready,
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
                "rate_limits": rate_limits,
                "readiness": readiness,
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
            license=License(name="MIT", identifier="MIT"),
            components=Components(security_schemes=SECURITY_SCHEMES),
            use_handler_docstrings=True,
            operation_id_creator=operation_id,
        ),
        debug=debug,
        logging_config=None,  # workhooks.logs configures logging for the whole process
        request_max_body_size=BATCH_BODY_BYTES,
        middleware=[uri_length_limit],
        before_send=[fix_allow_header(allowed)],
    )
    allowed.update(allowed_methods(app))
    finish(app)
    return app
