"""Measure the delivery path on SQLite: throughput, commit-to-receipt latency, SQL per delivery.

Run: ``.venv/bin/python benchmarks/delivery.py [--records 20000] [--rate 500 --seconds 5]``

Everything runs on this machine: a SQLite file in a temporary folder, the real worker and
aiohttp sender, and a minimal keep-alive receiver on loopback. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from aiohttp import web

from workhooks.bootstrap import Runtime, running_worker, runtime
from workhooks.config import Settings
from workhooks.domain.change_version import parse_version
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore

TENANT = "bench"


@dataclass
class Counter:
    """Counts SQL statements and received deliveries."""

    statements: int = 0
    data_statements: int = 0
    received: int = 0
    received_at: dict[int, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def trace(self, sql: str) -> None:
        self.statements += 1
        if sql.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.data_statements += 1


@asynccontextmanager
async def receiver(counter: Counter) -> AsyncIterator[str]:
    """A minimal receiver: reads the body, notes the arrival time of each change version."""
    decode = msgspec.json.Decoder().decode

    async def handle(request: web.Request) -> web.Response:
        body = decode(await request.read())
        counter.received_at[parse_version(body["data"]["changeVersion"])] = time.perf_counter()
        counter.received += 1
        if counter.expected and counter.received >= counter.expected:
            counter.done.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


def _draft(record_id: int, n: int) -> WorkInterruptionDraft:
    return WorkInterruptionDraft(
        id=record_id,
        person_id=1 + record_id % 50,
        date=dt.date(2026, 1, 1) + dt.timedelta(days=n % 300),
        duration_in_minutes=n % 60,
        start_time_in_minutes=600,
        end_time_in_minutes=660,
    )


async def _setup(rt: Runtime, url: str) -> None:
    await rt.services.records.put_people(TENANT, [PersonDraft(id=i) for i in range(1, 51)])
    await rt.services.webhooks.create(
        TENANT, destination_url=url, collection_name="work-interruptions"
    )


async def throughput(path: Path, records: int, postgres: str | None = None) -> dict[str, float]:
    """Load a backlog of ``records`` changes, then time the worker draining it."""
    counter = Counter(expected=records)
    store: Store = SqliteStore(str(path), trace=counter.trace)
    settings = Settings(database_url=f"sqlite:///{path}", dev=True)
    if postgres is not None:
        store = PostgresStore(postgres)
        settings = Settings(database_url=postgres, dev=True)
    async with receiver(counter) as url, runtime(settings, store=store) as rt:
        await _setup(rt, url)
        for start in range(0, records, 1000):
            drafts = [_draft(i, i) for i in range(start + 1, min(start + 1000, records) + 1)]
            await rt.services.records.put_work_interruptions(TENANT, drafts)
        counter.statements = counter.data_statements = 0
        started = time.perf_counter()
        async with running_worker(rt):
            await asyncio.wait_for(counter.done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
    return {
        "deliveries": counter.received,
        "seconds": elapsed,
        "per_second": counter.received / elapsed,
        # Counted on SQLite only (its trace hook); PostgreSQL runs the same queries.
        "statements_per_delivery": counter.statements / counter.received,
        "data_statements_per_delivery": counter.data_statements / counter.received,
    }


async def latency(
    path: Path, rate: int, seconds: float, postgres: str | None = None
) -> dict[str, float]:
    """Write single changes at ``rate``/s for ``seconds``; measure commit-to-receipt times."""
    total = int(rate * seconds)
    counter = Counter(expected=total)
    settings = Settings(database_url=postgres or f"sqlite:///{path}", dev=True)
    committed_at: dict[int, float] = {}
    async with receiver(counter) as url, runtime(settings) as rt:
        await _setup(rt, url)
        async with running_worker(rt):
            started = time.perf_counter()
            for n in range(total):
                due = started + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                (written,) = await rt.services.records.put_work_interruptions(
                    TENANT, [_draft(1 + n % 10_000, n)]
                )
                committed_at[written.record.change_version] = time.perf_counter()
            await asyncio.wait_for(counter.done.wait(), timeout=120)
    samples = sorted(
        (counter.received_at[v] - t) * 1000
        for v, t in committed_at.items()
        if v in counter.received_at
    )
    quantiles = statistics.quantiles(samples, n=100)
    return {
        "offered_per_second": rate,
        "changes": total,
        "p50_ms": quantiles[49],
        "p95_ms": quantiles[94],
        "p99_ms": quantiles[98],
        "max_ms": samples[-1],
    }


@asynccontextmanager
async def scratch_databases(admin_url: str | None, count: int) -> AsyncIterator[list[Any]]:
    """``count`` fresh PostgreSQL databases (dropped after), or ``None``s without a server."""
    if admin_url is None:
        yield [None] * count
        return
    names = [f"workhooks_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    admin = await asyncpg.connect(admin_url)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        yield [f"{admin_url.rpartition('/')[0]}/{name}" for name in names]
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="run on PostgreSQL instead: a throw-away database is created on this server",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        async with scratch_databases(args.postgres, 2) as (first, second):
            tp = await throughput(Path(folder) / "throughput.db", args.records, first)
            lat = await latency(Path(folder) / "latency.db", args.rate, args.seconds, second)
    print("| measure | value |")
    print("|---|---|")
    drained = f"{tp['deliveries']:.0f} deliveries in {tp['seconds']:.2f} s"
    print(f"| backlog drained, 1 webhook | {drained} |")
    print(f"| sustained deliveries/s, 1 webhook | {tp['per_second']:.0f} |")
    all_sql = tp["statements_per_delivery"]
    if args.postgres is None:
        print(f"| SQL statements per delivery (all, incl. BEGIN/COMMIT) | {all_sql:.3f} |")
        data_sql = tp["data_statements_per_delivery"]
        print(f"| SQL statements per delivery (data only) | {data_sql:.3f} |")
    print(
        f"| commit-to-receipt at {lat['offered_per_second']}/s ({lat['changes']:.0f} changes) | "
        f"p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, "
        f"max {lat['max_ms']:.1f} ms |"
    )


if __name__ == "__main__":
    asyncio.run(main())
