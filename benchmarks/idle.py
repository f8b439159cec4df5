"""Idle fan-out: what many enabled webhooks cost while their tenants write nothing.

One active webhook (its own tenant, pointing at the receiver) and N - 1 idle ones, over one
idle tenant or over min(N, ``idle_tenants``) - 1 idle tenants (each wrote a person and a
work interruption before its webhooks were created, so all are caught up). Per N, after the
worker has settled: its CPU, the database's CPU and the statements per second over
``idle_seconds`` of idling; then the active webhook's commit-to-receipt at
``idle_active_rate`` single-change writes/s.

On SQLite the worker runs in this process with the store's trace hook (statements are
counted exactly; its CPU includes SQLite, which runs in its threads; a write wakes it
in-process). On PostgreSQL it is a real ``workhooks worker`` process woken by NOTIFY;
the database's CPU and transactions are read as ``benchmarks.procstat`` describes.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.common import Backend, Receiver, draft, say
from benchmarks.delivery import StatementCounter, offer, tail
from benchmarks.engine import engine_env, engine_settings
from benchmarks.fleet import insert_webhooks, seed_tenants, subscribe
from benchmarks.processes import worker_process
from benchmarks.procstat import CpuMeter, DatabaseMeter
from benchmarks.rss import read_status_mb
from benchmarks.sizes import Sizes
from workhooks.bootstrap import Runtime, running_worker, runtime

__all__ = ["LAYOUTS", "idle"]

ACTIVE = "idle-active"
LAYOUTS = ("1 tenant", "many tenants")
_SETTLED_PERCENT = 5.0  # settled: the worker's (+ the database's) CPU below this over 1 s
_SETTLE_LIMIT = 15.0  # then measured anyway (an engine that never settles says so itself)


async def _settle(pid: int, meter: DatabaseMeter | None) -> float:
    """Wait until the worker and the database have settled (at most ``_SETTLE_LIMIT`` s)."""
    started = time.monotonic()
    cpu = CpuMeter(pid)
    while time.monotonic() - started < _SETTLE_LIMIT:
        cpu.start()
        if meter is not None:
            await meter.start()
        await asyncio.sleep(1.0)
        cpu.stop()
        database = 0.0 if meter is None else (await meter.stop())["database_cpu_percent"]
        if cpu.percent + database < _SETTLED_PERCENT:
            break
    return time.monotonic() - started


@asynccontextmanager
async def _worker(rt: Runtime, url: str, folder: Path, env: dict[str, str]) -> AsyncIterator[int]:
    """The worker under test: in this process on SQLite, a process on PostgreSQL; its pid."""
    if url.startswith("sqlite:"):
        async with running_worker(rt):
            yield os.getpid()
    else:
        async with worker_process(url, folder, env) as worker:
            yield worker.pid


def _idle_tenants(layout: str, n: int, sizes: Sizes) -> int:
    """How many idle tenants ``n`` webhooks (one active) spread over in ``layout``."""
    return 1 if layout == "1 tenant" else max(1, min(n, sizes.idle_tenants) - 1)


async def _grow(rt: Runtime, url: str, seeded: set[str], have: int, tenants: int, n: int) -> None:
    """Add idle tenants (``seeded`` exist) and webhooks until ``n - 1`` idle ones exist.

    Idle webhook ``j`` belongs to idle tenant ``j % tenants`` and points at a port nobody
    listens on (it is never sent anything).
    """
    names = [f"idle-{t:05d}" for t in range(tenants)]
    await seed_tenants(rt.store, [t for t in names if t not in seeded], people=1, records=1)
    seeded.update(names)
    hooks = [(names[j % tenants], f"http://127.0.0.1:9/idle/{j}") for j in range(have, n - 1)]
    await insert_webhooks(url, hooks)


async def _idle_figures(
    pid: int, seconds: float, counter: StatementCounter, meter: DatabaseMeter | None
) -> dict[str, Any]:
    """Worker CPU, database CPU and statements per second over ``seconds`` of idling."""
    cpu = CpuMeter(pid)
    counter.reset()
    if meter is not None:
        await meter.start()
    cpu.start()
    await asyncio.sleep(seconds)
    cpu.stop()
    found: dict[str, Any] = {"worker_cpu_percent": cpu.percent}
    if meter is None:  # SQLite: in the worker's process, and every statement was traced
        found["database_cpu_percent"] = None
        found["statements_per_second"] = counter.statements / cpu.wall
    else:
        found.update(await meter.stop())
    found["worker_rss_mb"] = read_status_mb(pid).get("VmRSS")
    return found


async def _active(rt: Runtime, receiver: Receiver, sizes: Sizes, first: int) -> dict[str, Any]:
    """The active webhook's commit-to-receipt at the active rate (single-change writes)."""
    total = max(2, round(sizes.idle_active_rate * sizes.idle_active_seconds))
    written: dict[int, float] = {}

    async def write(n: int) -> None:
        started = time.monotonic()
        (one,) = await rt.services.records.put_work_interruptions(ACTIVE, [draft(first + n, n)])
        written[one.record.change_version] = started

    await receiver.reset(arrivals=True)
    seconds = await offer(sizes.idle_active_rate, total, write)
    await receiver.wait(count=total, timeout=120)
    arrivals = await receiver.hook_arrivals()
    samples = [
        (arrivals[(ACTIVE, v)] - t) * 1000 for v, t in written.items() if (ACTIVE, v) in arrivals
    ]
    return {"active_achieved_per_second": total / seconds, **_prefixed(tail(samples, total))}


def _prefixed(found: dict[str, Any]) -> dict[str, Any]:
    return {f"active_{k}": v for k, v in found.items()}


async def _layout(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes, layout: str
) -> list[dict[str, Any]]:
    """One database, grown from the smallest N to the largest; a fresh worker per N."""
    counts = sorted(sizes.idle_webhooks)
    env = engine_env({"WORKHOOKS_MAX_WEBHOOKS_PER_TENANT": str(max(10_000, *counts))})
    counter = StatementCounter()
    runs: list[dict[str, Any]] = []
    async with backend.database() as url, _admin(backend) as admin:
        settings = engine_settings(url, env)
        seeded: set[str] = set()
        for n in counts:
            say(f"[{backend.name}] idle fan-out: {n:,} webhooks, {layout} ...")
            tenants = _idle_tenants(layout, n, sizes)
            # Set up in a runtime of its own, closed before measuring: PostgreSQL publishes
            # a backend's transaction counts up to seconds late, or when the backend exits.
            async with runtime(settings) as rt:
                if not runs:
                    await seed_tenants(rt.store, [ACTIVE])
                    await subscribe(rt, ACTIVE, [receiver.hook_url(ACTIVE)])
                await _grow(rt, url, seeded, runs[-1]["webhooks"] - 1 if runs else 0, tenants, n)
            meter = None if admin is None else DatabaseMeter(admin, url.rpartition("/")[2])
            store = backend.store(url, settings, counter.trace)
            async with (
                runtime(settings, store=store) as rt,
                _worker(rt, url, folder, env) as pid,
            ):
                settle = await _settle(pid, meter)
                found = await _idle_figures(pid, sizes.idle_seconds, counter, meter)
                found.update(await _active(rt, receiver, sizes, 1 + len(runs) * 100_000))
            runs.append(
                {
                    "webhooks": n,
                    "layout": layout,
                    "idle_tenants": tenants,
                    "settle_seconds": settle,
                    **found,
                }
            )
    return runs


@asynccontextmanager
async def _admin(backend: Backend) -> AsyncIterator[asyncpg.Connection | None]:
    if backend.admin_url is None:
        yield None
        return
    conn = await asyncpg.connect(backend.admin_url)
    try:
        yield conn
    finally:
        await conn.close()


async def idle(backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes) -> dict[str, Any]:
    """Both layouts at every size of ``sizes.idle_webhooks``."""
    runs: list[dict[str, Any]] = []
    for layout in LAYOUTS:
        runs += await _layout(backend, receiver, folder, sizes, layout)
    return {
        "idle_seconds": sizes.idle_seconds,
        "active_rate": sizes.idle_active_rate,
        "active_seconds": sizes.idle_active_seconds,
        "worker": "same process" if backend.admin_url is None else "separate process",
        "runs": runs,
    }
