"""Test doubles shared by workhooks' own tests and by integrators' tests.

``FakeClock`` replaces the clock, ``ScriptedSender`` replaces the network for the delivery
worker, and ``Receiver`` is a real HTTP receiver on loopback that records deliveries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from workhooks.delivery.sender import SendResult
from workhooks.domain.retry import classify_status
from workhooks.storage.sealing import Sealer, parse_master_keys

__all__ = [
    "TEST_MASTER_KEY",
    "FakeClock",
    "Receiver",
    "RecordedRequest",
    "ScriptedSender",
    "sealer_for_tests",
]

# A fixed master key for tests (``Settings(master_key=TEST_MASTER_KEY)``); never use it.
TEST_MASTER_KEY = "dGVzdHMgb25seTogbmV2ZXIgYSByZWFsIG1hc3Rlcmw="


def sealer_for_tests() -> Sealer:
    """The sealer of ``TEST_MASTER_KEY``, for stores built directly in tests."""
    return Sealer(parse_master_keys(TEST_MASTER_KEY, source="TEST_MASTER_KEY"))


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        """Return the current fake instant."""
        return self._now

    def advance(self, delta: dt.timedelta | float) -> None:
        """Move time forward by ``delta`` (seconds when a number)."""
        self._now += delta if isinstance(delta, dt.timedelta) else dt.timedelta(seconds=delta)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request a fake or real receiver got."""

    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class ScriptedSender:
    """A ``Sender`` that records requests and answers with ``status_for(url, body)``.

    By default every request succeeds with 204; ``status_for`` may return a status code or a
    ready ``SendResult`` (to simulate timeouts and connection failures).
    """

    status_for: Callable[[str, bytes], int | SendResult] = lambda _url, _body: 204
    requests: list[RecordedRequest] = field(default_factory=list)

    async def send(self, url: str, *, headers: Mapping[str, str], body: bytes) -> SendResult:
        """Record the request and answer as scripted."""
        self.requests.append(RecordedRequest(url=url, headers=dict(headers), body=body))
        answer = self.status_for(url, body)
        if isinstance(answer, SendResult):
            return answer
        return SendResult(status_code=answer, failure=classify_status(answer), latency_ms=0.1)


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that records every POST to ``/hook``.

    ``status`` is the status it answers with; change it to simulate outages.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.status = 204
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.status < 300:
            self.requests.append(
                RecordedRequest(url=str(request.url), headers=dict(request.headers), body=body)
            )
        async with self._arrived:
            self._arrived.notify_all()
        return web.Response(status=self.status)

    async def start(self, port: int = 0) -> str:
        """Listen on a free loopback port; return the hook URL."""
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self.url

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[RecordedRequest]:
        """Wait until at least ``count`` accepted deliveries arrived; return them."""
        return await self.wait_until(lambda requests: len(requests) >= count, within=within)

    async def wait_until(
        self, predicate: Callable[[list[RecordedRequest]], bool], *, within: float = 10.0
    ) -> list[RecordedRequest]:
        """Wait until ``predicate(requests)`` holds, re-checked at each arrival; return them."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: predicate(self.requests))
        return list(self.requests)
