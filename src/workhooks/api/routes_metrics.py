"""``GET /metrics``: Prometheus text for operators.

It names tenants and webhook ids, so it answers only clients on loopback unless an
operator sets a metrics token, which callers then send as a bearer token.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get

from workhooks.errors import AuthenticationError

__all__ = ["MetricsSource", "metrics"]

MetricsSource = Callable[[], Awaitable[bytes]]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allowed(request: Request[Any, Any, Any], token: str | None) -> bool:
    if token is None:
        return _is_loopback(request.client.host if request.client else None)
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The delivery metrics of this process and the backlog of every webhook."""
    if not _allowed(request, request.app.state.get("metrics_token")):
        raise AuthenticationError(
            "Metrics need the metrics token (or a request from loopback when none is set)"
        )
    source: MetricsSource = request.app.state["metrics"]
    return Response(await source(), media_type=CONTENT_TYPE)
