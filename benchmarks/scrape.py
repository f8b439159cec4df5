"""What one ``/metrics`` scrape costs with 100,000 webhooks, some of them behind.

    .venv/bin/python -m benchmarks.scrape [--postgres ADMIN_URL] [--webhooks N] [--behind N]

10,000 tenants share the webhooks (ten each by default); the tenants of ``--behind``
webhooks then write one change each, so those webhooks are behind and the rest idle. The
app (built by ``bootstrap.runtime``, no worker running) answers ``GET /metrics`` from
loopback 20 times; the figures are the median and slowest time and the size of the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import Backend, bench_settings, draft
from benchmarks.fleet import insert_webhooks, seed_tenants
from workhooks.bootstrap import runtime

__all__ = ["scrape"]

TENANTS = 10_000
SCRAPES = 20


async def scrape(backend: Backend, *, webhooks: int, behind: int) -> dict[str, Any]:
    """Seed, then time ``SCRAPES`` scrapes; return the figures."""
    tenants = [f"scrape-{n:05}" for n in range(min(TENANTS, webhooks))]
    per_tenant = max(1, webhooks // len(tenants))
    async with backend.database() as url, runtime(bench_settings(url)) as rt:
        await seed_tenants(rt.store, tenants)
        hooks = [
            (t, f"https://hooks.example.com/{t}/{i}") for t in tenants for i in range(per_tenant)
        ]
        await insert_webhooks(url, hooks)
        for tenant in tenants[: max(0, behind // per_tenant)]:
            await rt.store.put_work_interruptions(tenant, [draft(1, 1)])
        app: Any = rt.app
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            times, size = [], 0
            for _ in range(SCRAPES):
                started = time.perf_counter()
                answer = await http.get("/metrics")
                times.append((time.perf_counter() - started) * 1000)
                size = len(answer.content)
    return {
        "store": backend.name,
        "webhooks": len(hooks),
        "tenants": len(tenants),
        "behind": max(0, behind // per_tenant) * per_tenant,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "bytes": size,
    }


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backends = [Backend.sqlite(Path(folder))]
        if args.postgres:
            backends.append(Backend.postgres(Path(folder), args.postgres))
        for backend in backends:
            print(await scrape(backend, webhooks=args.webhooks, behind=args.behind), flush=True)


def main() -> None:
    """Parse the arguments and print one line of figures per store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="ADMIN_URL")
    parser.add_argument("--webhooks", type=int, default=100_000)
    parser.add_argument("--behind", type=int, default=1_000)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
