"""Tenant isolation over real sockets: a tenant whose destinations hang never delays another's.

The real runtime (store, worker loop, aiohttp sender) runs on SQLite and on PostgreSQL. The
"noisy" tenant's 100 webhooks point at destinations that take the connection and then never
answer (or answer only at the end); once they hold every slot the noisy tenant may hold, the
"calm" tenant writes 20 changes, which must reach its real receiver long before a single
noisy delivery could time out, and be recorded as successes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest
from aiohttp import web

from tests.postgres import reset_database
from tests.reliability import report
from workhooks.bootstrap import Runtime, running_worker, runtime
from workhooks.config import Settings
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.domain.webhooks import WebhookStatus
from workhooks.testing import TEST_MASTER_KEY, Receiver, RecordedRequest

pytestmark = [pytest.mark.timeout(60), pytest.mark.reliability]

NOISY, CALM = "noisy", "calm"
NOISY_WEBHOOKS = 100
CALM_CHANGES = 20
DELIVERY_TIMEOUT_SECONDS = 30.0
WITHIN_SECONDS = 10.0  # well below the delivery timeout: no noisy window can have ended
# Below the noisy tenant's 100 webhooks, so that without a fair share its hung windows would
# take every slot; origins get as many, so that on one origin the share is what holds them.
# The worker claims up to twice this many webhooks: all of the noisy tenant's 100.
WINDOWS_IN_FLIGHT = 64
# Here the noisy tenant alone has more due webhooks (100) than the worker claims (2 x 16).
FEW_WINDOWS_IN_FLIGHT = 16


def lone_share(windows_in_flight: int) -> int:
    """The slots a tenant may hold while it is the only one with work: capacity // (1 + 1)."""
    return windows_in_flight // 2


class Destinations(Protocol):
    """Noisy destinations: they count connections and hold them until released."""

    urls: list[str]

    async def wait_for_connections(self, count: int, *, within: float) -> None:
        """Wait until ``count`` connections (or requests) are being held."""
        ...

    def release(self) -> None:
        """Let every held connection end, and every later one end at once."""
        ...

    async def stop(self) -> None:
        """Release, stop listening and wait for every handler to end."""
        ...


class _Held:
    """Counts held connections and wakes whoever waits for a number of them."""

    def __init__(self) -> None:
        self.count = 0
        self.released = asyncio.Event()
        self._changed = asyncio.Condition()

    async def arrived(self) -> None:
        async with self._changed:
            self.count += 1
            self._changed.notify_all()

    async def wait_for(self, count: int, *, within: float) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: self.count >= count)


class HungDestinations:
    """Raw TCP servers on 127.0.0.1 that accept, read nothing and never write a byte."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._held = _Held()
        self._servers: list[asyncio.Server] = []
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self, servers: int) -> None:
        """Listen on ``servers`` loopback ports: as many origins."""
        for _ in range(servers):
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self._servers.append(server)
            self.urls.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook")

    async def _handle(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._held.arrived()
            await self._held.released.wait()
        finally:
            writer.close()
            self._handlers.discard(task)

    async def wait_for_connections(self, count: int, *, within: float) -> None:
        """Wait until ``count`` connections are open and hung."""
        await self._held.wait_for(count, within=within)

    def release(self) -> None:
        """Close every hung connection (the client sees it dropped), and later ones at once."""
        self._held.released.set()

    async def stop(self) -> None:
        """Release, stop listening and wait for every connection handler to end."""
        self.release()
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        if self._handlers:
            await asyncio.wait(set(self._handlers))


class SlowDestination:
    """An aiohttp receiver that answers 200 only once released (at teardown)."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._held = _Held()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on one loopback port."""
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.urls.append(f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook")

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        await self._held.arrived()
        await self._held.released.wait()
        return web.Response(status=200)

    async def wait_for_connections(self, count: int, *, within: float) -> None:
        """Wait until ``count`` requests are waiting for their answer."""
        await self._held.wait_for(count, within=within)

    def release(self) -> None:
        """Answer every waiting request, and later ones at once."""
        self._held.released.set()

    async def stop(self) -> None:
        """Release and stop the server."""
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()


async def _hung_on_one_origin() -> Destinations:
    hung = HungDestinations()
    await hung.start(1)
    return hung


async def _hung_on_many_origins() -> Destinations:
    hung = HungDestinations()
    await hung.start(20)
    return hung


async def _slow_on_one_origin() -> Destinations:
    slow = SlowDestination()
    await slow.start()
    return slow


KINDS: dict[str, Callable[[], Awaitable[Destinations]]] = {
    "hung, one origin": _hung_on_one_origin,
    "hung, 20 origins": _hung_on_many_origins,
    "200 after a long delay": _slow_on_one_origin,
}


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file, and the session's PostgreSQL database emptied (skipped without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'isolation.db'}"
    url: str = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return url


@dataclass
class Rig:
    """The runtime, the noisy destinations and the calm receiver."""

    rt: Runtime
    noisy: Destinations
    receiver: Receiver

    @contextlib.asynccontextmanager
    async def working(self) -> AsyncIterator[None]:
        """Run the worker loop; on the way out release the noisy destinations first, so their
        windows end at once, then stop it: every window it ran is recorded by then."""
        async with running_worker(self.rt):
            try:
                yield
            finally:
                self.noisy.release()


@contextlib.asynccontextmanager
async def open_rig(database_url: str, kind: str, *, windows_in_flight: int) -> AsyncIterator[Rig]:
    """Start the receiver, the noisy destinations and the runtime; stop all, failed or not."""
    settings = Settings.of(
        database_url=database_url,
        dev=True,
        master_key=TEST_MASTER_KEY,
        delivery_timeout_seconds=DELIVERY_TIMEOUT_SECONDS,
        windows_in_flight=windows_in_flight,
        delivery_concurrency=windows_in_flight,
    )
    async with contextlib.AsyncExitStack() as stack:
        receiver = Receiver()
        await receiver.start()
        stack.push_async_callback(receiver.stop)
        noisy = await KINDS[kind]()
        stack.push_async_callback(noisy.stop)
        rt = await stack.enter_async_context(runtime(settings))
        yield Rig(rt=rt, noisy=noisy, receiver=receiver)


def draft(record_id: int) -> WorkInterruptionDraft:
    """A work interruption of person 1."""
    return WorkInterruptionDraft(
        id=record_id,
        person_id=1,
        date=dt.date(2024, 3, 4),
        duration_in_minutes=30,
        start_time_in_minutes=600,
        end_time_in_minutes=630,
    )


def delivered_ids(requests: list[RecordedRequest]) -> set[int]:
    """The record ids the receiver acknowledged."""
    return {int(json.loads(r.body)["data"]["id"]) for r in requests}


async def all_arrived(receiver: Receiver, expected: set[int], *, within: float) -> bool:
    """Whether the receiver acknowledged every id of ``expected`` within ``within`` seconds."""
    try:
        await receiver.wait_until(
            lambda requests: delivered_ids(requests) >= expected, within=within
        )
    except TimeoutError:
        return False
    return True


async def calm_delivered_past_hung_noisy(
    database_url: str, kind: str, *, windows_in_flight: int
) -> None:
    """The scenario: the noisy tenant's windows hang, then the calm tenant writes its changes;
    they must all arrive within 10 s and be recorded as successes only."""
    share = lone_share(windows_in_flight)
    async with open_rig(database_url, kind, windows_in_flight=windows_in_flight) as rig:
        services = rig.rt.services
        for tenant in (NOISY, CALM):
            await services.records.put_people(tenant, [PersonDraft(id=1)])
        for url in itertools.islice(itertools.cycle(rig.noisy.urls), NOISY_WEBHOOKS):
            await services.webhooks.create(
                NOISY, destination_url=url, collection_name="work-interruptions"
            )
        calm = await services.webhooks.create(
            CALM, destination_url=rig.receiver.url, collection_name="work-interruptions"
        )
        expected = set(range(1, CALM_CHANGES + 1))
        async with rig.working():
            await services.records.put_work_interruptions(NOISY, [draft(1)])
            # The noisy tenant now holds every slot it may hold, each hung on its destination.
            await rig.noisy.wait_for_connections(share, within=WITHIN_SECONDS)
            for record_id in sorted(expected):
                await services.records.put_work_interruptions(CALM, [draft(record_id)])
            arrived = await all_arrived(rig.receiver, expected, within=WITHIN_SECONDS)
            got = sorted(delivered_ids(rig.receiver.requests))
            assert arrived, f"calm got {got} of 1..{CALM_CHANGES} in {WITHIN_SECONDS} s"
            # Still hung: the calm deliveries went past them, not after them.
            assert rig.rt.worker.windows_in_flight >= share
        # The worker has stopped, so every window it sent is recorded.
        attempts = await rig.rt.store.list_attempts(calm.webhook.id, limit=10 * CALM_CHANGES)
        assert {a.record_id for a in attempts} == expected
        assert [a for a in attempts if not a.succeeded] == []
        webhook = await rig.rt.store.get_webhook(CALM, calm.webhook.id)
        assert webhook is not None
        assert (webhook.status, webhook.failures) == (WebhookStatus.ENABLED, 0)
        report(
            f"tenant isolation, noisy {kind}, {windows_in_flight} windows"
            f" [{database_url.split(':', 1)[0]}]",
            noisy_webhooks=NOISY_WEBHOOKS,
            calm_sent=CALM_CHANGES,
            calm_received=len(delivered_ids(rig.receiver.requests)),
            calm_failed=0,
        )


@pytest.mark.parametrize("kind", list(KINDS))
async def test_hung_tenant_never_delays_another_tenants_deliveries(
    database_url: str, kind: str
) -> None:
    """With 100 of one tenant's deliveries hung, another tenant's 20 changes all arrive within
    10 s (a third of the delivery timeout) and are recorded as successes only."""
    await calm_delivered_past_hung_noisy(database_url, kind, windows_in_flight=WINDOWS_IN_FLIGHT)


async def test_hung_tenant_with_more_webhooks_than_the_worker_claims_delays_no_one(
    database_url: str,
) -> None:
    """A tenant with more hung webhooks than the worker claims at once (100 > 2 x 16) does not
    keep another tenant's webhook from being claimed: its 20 changes still arrive in 10 s."""
    await calm_delivered_past_hung_noisy(
        database_url, "hung, 20 origins", windows_in_flight=FEW_WINDOWS_IN_FLIGHT
    )
