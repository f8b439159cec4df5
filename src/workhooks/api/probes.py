"""Probes for load balancers and orchestrators: ``/health`` (alive) and ``/ready``.

``/ready`` answers 503 with the problems it found while this process cannot do its work:
the database does not answer, or (where a delivery worker runs) its leases are not being
renewed. The API and every worker serve both; a worker serves them with ``/metrics`` on a
port of its own (``create_probe_app``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State

from workhooks.api.errors import exception_handlers
from workhooks.api.routes_metrics import MetricsSource
from workhooks.api.routes_metrics import metrics as metrics_route

__all__ = ["Readiness", "always_ready", "create_probe_app", "health", "ready"]

Readiness = Callable[[], Awaitable[list[str]]]
"""Returns what keeps the process from being ready; an empty list when it is ready."""


async def always_ready() -> list[str]:
    """Readiness of an app without a database to check (tests, tools)."""
    return []


@get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    """Liveness probe: the process is up and answering."""
    return {"status": "ok"}


@get("/ready", include_in_schema=False)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Readiness probe: 200 when this process can do its work, else 503 with the problems."""
    check: Readiness = request.app.state.get("readiness", always_ready)
    problems = await check()
    if problems:
        return Response({"status": "unavailable", "problems": problems}, status_code=503)
    return Response({"status": "ready"}, status_code=200)


def create_probe_app(
    *, metrics: MetricsSource, metrics_token: str | None, readiness: Readiness
) -> Litestar:
    """The small app a ``workhooks worker`` serves: ``/health``, ``/ready`` and ``/metrics``."""
    return Litestar(
        route_handlers=[health, ready, metrics_route],
        exception_handlers=exception_handlers(),
        state=State({"metrics": metrics, "metrics_token": metrics_token, "readiness": readiness}),
        openapi_config=None,
        logging_config=None,
    )
