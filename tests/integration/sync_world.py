"""An in-process world for the sync engine: the real app, its worker, and the engine as receiver."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from workhooks.bootstrap import Runtime, runtime
from workhooks.client import (
    AsyncClient,
    PersonRef,
    PersonWrite,
    SqliteSink,
    SyncEngine,
    SyncOptions,
    SyncScope,
    WorkInterruptionWrite,
)
from workhooks.config import Settings
from workhooks.delivery.sender import SendResult
from workhooks.domain.retry import classify_status
from workhooks.domain.scopes import Scope
from workhooks.testing import FakeClock

HOOK = "https://mirror.example.com/hook"
SCOPE = SyncScope(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
AGENT = "SyncEngineTests/1.0 (workhooks)"


class EngineSender:
    """A delivery ``Sender`` that hands each POST to the engine, as its receiver would.

    ``status`` (when set) answers instead, to simulate an outage or a 410.
    """

    def __init__(self) -> None:
        self.engine: SyncEngine | None = None
        self.status: int | None = None
        self.answers: list[int] = []

    async def send(self, url: str, *, headers: Mapping[str, str], body: bytes) -> SendResult:
        """Deliver to the engine (or answer ``status``) and report the outcome."""
        assert url == HOOK
        status = self.status
        if status is None:
            assert self.engine is not None
            status = self.engine.receive(headers, body).status
        self.answers.append(status)
        return SendResult(status_code=status, failure=classify_status(status), latency_ms=0.1)


class HookedTransport(httpx.AsyncBaseTransport):
    """The app's ASGI transport with an optional hook run before each request."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.before: Callable[[httpx.Request], Awaitable[None]] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the hook, then let the app answer."""
        if self.before is not None:
            await self.before(request)
        return await self._inner.handle_async_request(request)


@dataclass
class World:
    """The runtime, a writer client, the engine's sink and a way to make more engines."""

    rt: Runtime
    clock: FakeClock
    sender: EngineSender
    writer: AsyncClient
    sink: SqliteSink
    engine: SyncEngine
    transport: HookedTransport
    new_engine: Callable[[SqliteSink], SyncEngine]

    async def put(self, record_id: int, day: str = "2026-03-04", minutes: int = 30) -> None:
        """Write a work interruption of person 1."""
        await self.writer.put_work_interruption(
            WorkInterruptionWrite(
                id=record_id,
                person=PersonRef(id=1),
                date=dt.date.fromisoformat(day),
                duration_in_minutes=minutes,
                start_time_in_minutes=60,
                end_time_in_minutes=60 + minutes,
            )
        )

    async def deliver(self) -> None:
        """Let the worker deliver everything due now."""
        while await self.rt.worker.run_once():
            pass

    async def server_versions(self) -> dict[int, str]:
        """``{id: changeVersion}`` of the server's records in the scope."""
        records = self.writer.iter_work_interruptions(SCOPE.filter)
        return {r.id: r.change_version async for r in records}

    def mirror_versions(self) -> dict[int, str]:
        """``{id: changeVersion}`` of the sink's live records in the scope."""
        return self.sink.versions_between(SCOPE.date_from, SCOPE.date_to)


@contextlib.asynccontextmanager
async def open_world(tmp_path: Path, *, page_size: int = 1000) -> AsyncIterator[World]:
    """Start the app with the engine as the only receiver; close everything after."""
    clock = FakeClock(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC))
    sender = EngineSender()
    settings = Settings.of(database_url="memory://", page_size=page_size)
    async with runtime(settings, clock=clock, sender=sender) as rt:
        new = await rt.services.clients.create("acme", frozenset(Scope))
        transport = HookedTransport(rt.app)

        def client() -> AsyncClient:
            return AsyncClient(
                "http://testserver",
                tenant="acme",
                client_id=new.client.id,
                client_secret=new.secret,
                user_agent=AGENT,
                transport=transport,
                clock=clock.now,
            )

        def new_engine(sink: SqliteSink) -> SyncEngine:
            engine = SyncEngine(
                engine_client,
                sink,
                SyncOptions(destination_url=HOOK, scope=SCOPE),
                clock=clock.now,
            )
            sender.engine = engine
            return engine

        async with client() as writer, client() as engine_client:
            await writer.put_person(PersonWrite(id=1))
            with SqliteSink(str(tmp_path / "mirror.db")) as sink:
                yield World(
                    rt=rt,
                    clock=clock,
                    sender=sender,
                    writer=writer,
                    sink=sink,
                    engine=new_engine(sink),
                    transport=transport,
                    new_engine=new_engine,
                )
