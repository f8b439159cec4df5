"""Helpers of the PostgreSQL scale-out tests: many receivers, a writer that survives outages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from aiohttp import web

API = "/connector/protimeapi/api/v1"
__all__ = ["API", "Receivers", "source_state", "write_until_acknowledged"]


class Receivers:
    """One loopback server with a hook per webhook (``/hook/<n>``), recording arrivals in order."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.events.setdefault(request.match_info["n"], []).append(json.loads(await request.read()))
        return web.Response(status=204)

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/hook/{n}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def newest(self, n: str) -> tuple[dict[int, dict[str, Any]], list[str]]:
        """Hook ``n``'s newest event per id, and every version that arrived after a newer one."""
        newest: dict[int, dict[str, Any]] = {}
        regressions = []
        for event in self.events.get(n, []):
            data = event["data"]
            held = newest.get(data["id"])
            if held is not None and data["changeVersion"] < held["data"]["changeVersion"]:
                regressions.append(f"hook {n}, id {data['id']}: {data['changeVersion']} late")
                continue
            newest[data["id"]] = event
        return newest, regressions

    def matches(self, n: str, source: dict[int, dict[str, Any]]) -> bool:
        """Whether hook ``n`` holds exactly the source state (deleted ids absent or Delete)."""
        newest, _ = self.newest(n)
        for record_id, event in newest.items():
            if record_id not in source and event["changeType"] != "Delete":
                return False
        return all(
            record_id in newest and newest[record_id]["data"] == record
            for record_id, record in source.items()
        )


async def write_until_acknowledged(
    http: httpx.AsyncClient, method: str, url: str, body: Any = None
) -> httpx.Response:
    """Repeat a write through outages (transport errors, 503) until the API answers it."""
    for _ in range(1200):
        try:
            answer = await http.request(method, url, json=body)
        except httpx.TransportError:
            await asyncio.sleep(0.05)
            continue
        if answer.status_code == 503:
            await asyncio.sleep(0.05)
            continue
        return answer
    raise AssertionError(f"{method} {url} never acknowledged")


async def source_state(http: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    """Every live work interruption of 2026, through the read API's pages."""
    state: dict[int, dict[str, Any]] = {}
    url: str | None = f"{API}/work-interruptions"
    params: dict[str, str] | None = {"filter": "date ge '2026-01-01' and date le '2026-12-31'"}
    while url is not None:
        answer = (
            await write_until_acknowledged(http, "GET", url)
            if params is None
            else (await http.get(url, params=params))
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        state.update({record["id"]: record for record in page["value"]})
        url, params = page.get("nextLink"), None
    return state
