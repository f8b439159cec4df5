"""Closed-loop single-record writes, run in a process of its own by ``benchmarks.writes``.

    python -m benchmarks.write_load prepare DATABASE_URL TENANTS
    python -m benchmarks.write_load store DATABASE_URL TENANTS WRITERS SECONDS

It imports only what every version of workhooks measured so far offers (the runtime, the
auth service, the store's ``put_work_interruptions``), so the same file drives today's code
and a reference checkout put first on ``PYTHONPATH``. Answers one JSON document on stdout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sys
import time
from typing import Any

from workhooks.bootstrap import runtime
from workhooks.config import Settings
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.domain.scopes import Scope

__all__ = ["PEOPLE", "RECORDS", "tenant_name"]

PEOPLE = 10
RECORDS = 10_000


def tenant_name(n: int) -> str:
    """The name of the ``n``-th measured tenant."""
    return f"writer-{n:02d}"


def _draft(rng: random.Random) -> WorkInterruptionDraft:
    minutes = rng.randrange(1, 600)
    return WorkInterruptionDraft(
        id=rng.randrange(1, RECORDS + 1),
        person_id=rng.randrange(1, PEOPLE + 1),
        date=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(300)),
        duration_in_minutes=minutes,
        start_time_in_minutes=0,
        end_time_in_minutes=minutes,
    )


async def prepare(url: str, tenants: int) -> dict[str, Any]:
    """Each tenant's people and an API client with every scope."""
    clients = []
    async with runtime(Settings(database_url=url, dev=True)) as rt:
        for n in range(tenants):
            tenant = tenant_name(n)
            people = [PersonDraft(id=i) for i in range(1, PEOPLE + 1)]
            await rt.services.records.put_people(tenant, people)
            new = await rt.services.auth.create_client(tenant, frozenset(Scope))
            clients.append({"tenant": tenant, "id": new.client.id, "secret": new.secret})
    return {"clients": clients}


async def store_load(url: str, tenants: int, writers: int, seconds: float) -> dict[str, Any]:
    """``writers`` closed loops of one-record writes through the store, spread over tenants."""
    latencies: list[float] = []
    async with runtime(Settings(database_url=url, dev=True)) as rt:
        store = rt.store

        async def writer(n: int, until: float) -> None:
            rng = random.Random(n)
            tenant = tenant_name(n % tenants)
            while (started := time.perf_counter()) < until:
                await store.put_work_interruptions(tenant, [_draft(rng)])
                latencies.append(time.perf_counter() - started)

        warm = time.perf_counter() + 0.5
        await asyncio.gather(*(writer(n, warm) for n in range(writers)))
        latencies.clear()
        began = time.perf_counter()
        await asyncio.gather(*(writer(n, began + seconds) for n in range(writers)))
        elapsed = time.perf_counter() - began
    return {"writes": len(latencies), "seconds": elapsed, "latencies": latencies}


def main(argv: list[str]) -> int:
    """Run one command; print its JSON answer."""
    command, url, *numbers = argv
    if command == "prepare":
        found = asyncio.run(prepare(url, int(numbers[0])))
    elif command == "store":
        tenants, writers, seconds = int(numbers[0]), int(numbers[1]), float(numbers[2])
        found = asyncio.run(store_load(url, tenants, writers, seconds))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
