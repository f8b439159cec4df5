"""The ASGI app factory: routes, the error table and the services, nothing built at import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig

from workhooks import __version__
from workhooks.api.errors import exception_handlers
from workhooks.api.limits import uri_length_limit
from workhooks.api.paths import API_PREFIX
from workhooks.api.routes_auth import discovery, jwks, token
from workhooks.api.routes_metrics import MetricsSource
from workhooks.api.routes_metrics import metrics as metrics_route
from workhooks.api.routes_reads import READ_HANDLERS
from workhooks.api.routes_records import RECORD_HANDLERS
from workhooks.api.routes_webhooks import WEBHOOK_HANDLERS
from workhooks.api.schemas import check_body_types
from workhooks.services.container import Services

__all__ = ["API_PREFIX", "create_app"]

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


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
        route_handlers=[*READ_HANDLERS, *RECORD_HANDLERS, *WEBHOOK_HANDLERS],
        before_request=check_body_types,
    )
    return Litestar(
        route_handlers=[api, token, discovery, jwks, health, metrics_route],
        exception_handlers=exception_handlers(),
        state=State({"services": services, "metrics": metrics, "metrics_token": metrics_token}),
        lifespan=list(lifespan),
        openapi_config=OpenAPIConfig(title="workhooks", version=__version__, path="/docs"),
        debug=debug,
        request_max_body_size=4 * 1024 * 1024,
        middleware=[uri_length_limit],
    )
