"""Our server arranged the way Protime is: tokens on one host, the API on another.

A small HTTP proxy on loopback stands in for DNS and the two front doors: a client sends
every request through it (``proxy=``), and it routes by host name. ``authentication.<domain>``
serves only the token endpoint and OIDC discovery (``/tenants/...``); ``<tenant>.<domain>``
serves only the API (``/connector/...``). Anything else is a 404 from the proxy, so a client
that looked for tokens on the API host fails as it would against Protime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

DOMAIN = "protime.test"
ENVIRONMENT = f"http://{DOMAIN}"  # a stand-in environment: plain http on loopback
AUTH_HOST = f"authentication.{DOMAIN}"
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "content-encoding",
    "host",
}


@dataclass
class ProtimeFront:
    """The proxy's address and every ``(host, path)`` it was asked for."""

    proxy_url: str
    seen: list[tuple[str, str]] = field(default_factory=list)

    def hosts_of(self, suffix: str) -> set[str]:
        """The hosts asked for paths ending with ``suffix``."""
        return {host for host, path in self.seen if path.endswith(suffix)}


def _allowed(host: str, path: str, tenant: str) -> bool:
    if host == AUTH_HOST:
        return path.startswith(f"/tenants/{tenant}/")
    if host == f"{tenant}.{DOMAIN}":
        return path.startswith("/connector/protimeapi/api/v1/")
    return False


@asynccontextmanager
async def protime_front(app: Any, *, tenant: str) -> AsyncIterator[ProtimeFront]:
    """Listen on loopback as the proxy in front of ``app`` for ``tenant``'s two hosts."""
    backend = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")
    front = ProtimeFront(proxy_url="")

    async def route(request: web.Request) -> web.Response:
        host = request.host.split(":")[0]
        front.seen.append((host, request.path))
        if not _allowed(host, request.path, tenant):
            return web.Response(status=404, text=f"{host} does not serve {request.path}")
        answer = await backend.request(
            request.method,
            request.path_qs,
            content=await request.read(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP},
        )
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.pop("content-length", None)
        return web.Response(status=answer.status_code, body=answer.content, headers=headers)

    proxy = web.Application()
    proxy.router.add_route("*", "/{tail:.*}", route)
    runner = web.AppRunner(proxy, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        front.proxy_url = f"http://127.0.0.1:{port}"
        yield front
    finally:
        await runner.cleanup()
        await backend.aclose()
