"""The SDK wired to the real app in-process: transports that count, and a sync-to-ASGI bridge."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx

from tests.conftest import Api
from workhooks.client import AsyncClient, Client, PersonRef, WorkInterruptionWrite
from workhooks.domain.scopes import Scope

SDK_AGENT = "SdkContractTests/1.0 (workhooks)"


class CountingTransport(httpx.AsyncBaseTransport):
    """An ASGI transport on the app that counts requests per path."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Count the request, then let the app answer it."""
        self.paths[request.url.path] += 1
        return await self._inner.handle_async_request(request)

    @property
    def token_requests(self) -> int:
        """How many token requests went out."""
        return sum(n for path, n in self.paths.items() if path.endswith("/connect/token"))


class BridgeTransport(httpx.BaseTransport):
    """A blocking transport that runs each request on the app's event loop.

    Use the blocking ``Client`` from a worker thread (``asyncio.to_thread``) while the test's
    loop, which owns the app and its store, stays free to answer.
    """

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop = loop
        self.requests = 0

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` on the app's loop and wait for it here."""
        self.requests += 1
        request.read()
        future = asyncio.run_coroutine_threadsafe(self._answer(request), self._loop)
        return future.result(timeout=30)


async def async_sdk(
    api: Api,
    scopes: Iterable[Scope] = tuple(Scope),
    *,
    tenant: str = "acme",
    clock: Any = None,
    **options: Any,
) -> tuple[AsyncClient, CountingTransport]:
    """An ``AsyncClient`` of a new client of ``tenant`` on the app, and its counting transport."""
    client_id, secret = await api.credentials(tenant, scopes)
    transport = CountingTransport(api.rt.app)
    client = AsyncClient(
        "http://testserver",
        tenant=tenant,
        client_id=client_id,
        client_secret=secret,
        user_agent=SDK_AGENT,
        transport=transport,
        clock=clock or api.clock.now,
        **options,
    )
    return client, transport


async def sync_sdk(
    api: Api, scopes: Iterable[Scope] = tuple(Scope)
) -> tuple[Client, BridgeTransport]:
    """A blocking ``Client`` on the app (call it through ``asyncio.to_thread``)."""
    client_id, secret = await api.credentials("acme", scopes)
    transport = BridgeTransport(api.rt.app, asyncio.get_running_loop())
    client = Client(
        "http://testserver",
        tenant="acme",
        client_id=client_id,
        client_secret=secret,
        user_agent=SDK_AGENT,
        transport=transport,
        clock=api.clock.now,
    )
    return client, transport


def record(
    record_id: int, *, person: int = 1, day: str = "2025-03-04", minutes: int = 30
) -> WorkInterruptionWrite:
    """A work interruption to write through the SDK."""
    return WorkInterruptionWrite(
        id=record_id,
        person=PersonRef(id=person),
        date=dt.date.fromisoformat(day),
        duration_in_minutes=minutes,
        start_time_in_minutes=600,
        end_time_in_minutes=600 + minutes,
    )
