"""SIGTERM lets the in-flight delivery finish, records it, and exits 0."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tests.e2e.conftest import AGENT, start_server, stop_server

API = "/connector/protimeapi/api/v1"

pytestmark = pytest.mark.e2e


class SlowReceiver:
    """Answers 204 after a delay; tells when a request has arrived."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.bodies: list[bytes] = []
        self.arrived = asyncio.Event()
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        self.arrived.set()
        await asyncio.sleep(self.delay)
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"


async def test_sigterm_finishes_the_in_flight_delivery_and_exits_zero(tmp_path: Path) -> None:
    """A delivery in flight at SIGTERM completes and is not sent again after a restart."""
    receiver = SlowReceiver(delay=1.5)
    url = await receiver.start()
    server = await asyncio.to_thread(start_server, tmp_path)
    try:
        token = await asyncio.to_thread(server.token, "acme", "all")
        headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            hook = await http.post(
                f"{API}/webhooks",
                json={"destinationUrl": url, "collectionName": "work-interruptions"},
            )
            assert hook.status_code == 201
            assert (await http.put(f"{API}/people/1", json={})).status_code == 201
            record = {
                "person": {"id": 1},
                "date": "2026-05-04",
                "durationInMinutes": 5,
                "startTimeInMinutes": 60,
                "endTimeInMinutes": 65,
            }
            assert (await http.put(f"{API}/work-interruptions/1", json=record)).status_code == 201
            await asyncio.wait_for(receiver.arrived.wait(), timeout=10)

        code = await asyncio.to_thread(stop_server, server, signal.SIGTERM)
        assert code == 0, server.log.read_text()

        # After a restart only the new change arrives: the first was acknowledged and recorded.
        receiver.arrived.clear()
        receiver.delay = 0
        server = await asyncio.to_thread(start_server, tmp_path, database_url=server.database_url)
        token = await asyncio.to_thread(server.token, "acme", "all")
        headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            record["durationInMinutes"] = 4
            assert (await http.put(f"{API}/work-interruptions/2", json=record)).status_code == 201
            await asyncio.wait_for(receiver.arrived.wait(), timeout=10)
        assert len(receiver.bodies) == 2
        assert b'"id":2' in receiver.bodies[1]
    finally:
        await asyncio.to_thread(stop_server, server)
        if receiver.runner is not None:
            await receiver.runner.cleanup()
