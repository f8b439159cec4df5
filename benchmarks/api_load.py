"""API requests/s against a real ``workhooks serve`` process (API and worker in one process).

A closed loop of ``concurrency`` aiohttp clients in this process, each sending its next
request as soon as the previous one is answered, for ``seconds`` per endpoint after a short
warm-up. Client and server share the machine's two cores.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from benchmarks.common import (
    TENANT,
    Backend,
    access_token,
    bench_settings,
    load_changes,
    setup_tenant,
)
from benchmarks.delivery import percentiles
from benchmarks.processes import serve_process
from benchmarks.rss import RssSampler, sampling
from workhooks.api.paths import API_PREFIX
from workhooks.bootstrap import runtime
from workhooks.domain.scopes import Scope

__all__ = ["api_load"]

USER_AGENT = "WorkhooksBench/1.0 (workhooks)"
# One day of the loaded records: they spread over 100 days, so a page of records / 100.
_ONE_DAY = "date ge '2026-01-05' and date le '2026-01-05'"
_WARM_UP_REQUESTS = 50

Request = Callable[[aiohttp.ClientSession], Awaitable[int]]


async def _closed_loop(
    http: aiohttp.ClientSession, request: Request, *, seconds: float, concurrency: int
) -> dict[str, Any]:
    """Run ``concurrency`` clients for ``seconds``; requests/s, statuses and latencies."""
    for _ in range(_WARM_UP_REQUESTS):
        await request(http)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while (now := time.monotonic()) < deadline:
            statuses[await request(http)] += 1
            latencies.append((time.monotonic() - now) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    timing = percentiles(latencies) if len(latencies) > 1 else {}
    timing.pop("curve_ms", None)
    return {
        "requests": sum(statuses.values()),
        "ok": ok,
        "errors": sum(statuses.values()) - ok,
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "seconds": elapsed,
        "per_second": ok / elapsed,
        "concurrency": concurrency,
        **timing,
    }


async def _prepare(url: str, records: int) -> tuple[str, str]:
    """The tenant, ``records`` records over 100 days and a client with every scope."""
    async with runtime(bench_settings(url)) as rt:
        await setup_tenant(rt, [])
        await load_changes(rt.store, records, records)
        new = await rt.services.clients.create(TENANT, frozenset(Scope))
    return new.client.id, new.secret


async def api_load(
    backend: Backend, folder: Path, *, seconds: float, concurrency: int, records: int
) -> dict[str, Any]:
    """``POST /webhooks`` and ``GET /work-interruptions`` (a page of a day) requests/s."""
    async with backend.database() as url:
        client = await _prepare(url, records)
        sampler = RssSampler(interval=0.25)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with (
            serve_process(url, folder) as server,
            aiohttp.ClientSession(connector=connector) as http,
            sampling(sampler),
        ):
            sampler.watch("workhooks serve", server.pid)
            assert server.base_url is not None
            api = f"{server.base_url}{API_PREFIX}"
            token = await access_token(http, server.base_url, TENANT, client)
            headers = {"User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}
            body = msgspec.json.encode(
                {
                    "destinationUrl": "http://127.0.0.1:9/hook",
                    "collectionName": "work-interruptions",
                }
            )

            async def create_webhook(session: aiohttp.ClientSession) -> int:
                post_headers = {**headers, "Content-Type": "application/json"}
                async with session.post(f"{api}/webhooks", data=body, headers=post_headers) as r:
                    await r.read()
                    return r.status

            page_size = 0

            async def list_page(session: aiohttp.ClientSession) -> int:
                nonlocal page_size
                params = {"filter": _ONE_DAY}
                async with session.get(
                    f"{api}/work-interruptions", params=params, headers=headers
                ) as r:
                    page = msgspec.json.decode(await r.read())
                    page_size = len(page.get("value", ())) if r.status == 200 else 0
                    return r.status

            posts = await _closed_loop(
                http, create_webhook, seconds=seconds, concurrency=concurrency
            )
            gets = await _closed_loop(http, list_page, seconds=seconds, concurrency=concurrency)
    return {
        "post_webhooks": posts,
        "get_work_interruptions": {**gets, "records_per_page": page_size},
        "rss": sampler.summary(),
    }
