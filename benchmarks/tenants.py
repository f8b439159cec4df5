"""Many tenants: T tenants with one webhook each, a drain spread over all, then a trickle.

Per T, on a fresh database: each tenant gets ``tenants_changes / T`` changes (distinct
records, the store's writes) while no engine runs; then the real engine starts
(``benchmarks.engine``) and drains them all. The drain rate is deliveries per second from
the first receipt to the last, so the engine's start-up is left out; T = 1 is the reference
of the same run. Then, with the engine caught up, a trickle of single-change writes through
the API at ``tenants_trickle_rate``/s, write ``i`` to tenant ``i * T / writes`` (evenly over
all tenants, each written tenant a different one while T exceeds the writes), each timed
from the start of its write until the receiver has it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import Backend, Receiver, draft, say
from benchmarks.delivery import offer, tail
from benchmarks.engine import (
    ApiWriter,
    Write,
    create_clients,
    engine_env,
    engine_processes,
    engine_settings,
)
from benchmarks.fleet import insert_webhooks, seed_tenants
from benchmarks.sizes import Sizes
from workhooks.bootstrap import runtime
from workhooks.domain.records import WorkInterruptionDraft
from workhooks.storage.protocol import Store

__all__ = ["tenants"]


def _change(record_id: int, n: int) -> WorkInterruptionDraft:
    """A change of person 1 (the one person each tenant has)."""
    return dataclasses.replace(draft(record_id, n), person_id=1)


async def _load(store: Store, names: list[str], per_tenant: int, parallel: int = 8) -> None:
    """``per_tenant`` changes of distinct records to each tenant, one batch write each."""
    slots = asyncio.Semaphore(parallel)

    async def one(tenant: str) -> None:
        async with slots:
            await store.put_work_interruptions(
                tenant, [_change(r, r) for r in range(1, per_tenant + 1)]
            )

    await asyncio.gather(*(one(t) for t in names))


async def _trickle(
    writer: ApiWriter, receiver: Receiver, targets: list[str], rate: int, first_id: int
) -> dict[str, Any]:
    """One write to each of ``targets`` in turn at ``rate``/s; their commit-to-receipt."""
    writes: list[Write] = []

    async def write(i: int) -> None:
        writes.append(await writer.put(targets[i], _change(first_id + i, i)))

    await receiver.reset(arrivals=True)
    seconds = await offer(rate, len(targets), write)
    await receiver.wait(count=len(targets), timeout=120)
    arrivals = await receiver.hook_arrivals()
    samples = [
        (arrivals[(w.tenant, w.version)] - w.started) * 1000
        for w in writes
        if (w.tenant, w.version) in arrivals
    ]
    return {"trickle_achieved_per_second": len(targets) / seconds, **tail(samples, len(writes))}


async def _one(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes, count: int
) -> dict[str, Any]:
    """The drain and the trickle with ``count`` tenants."""
    names = [f"tn{i:05d}" for i in range(count)]
    per_tenant = max(1, sizes.tenants_changes // count)
    writes = max(2, round(sizes.tenants_trickle_rate * sizes.tenants_trickle_seconds))
    targets = [names[(i * count // writes) % count] for i in range(writes)]
    env = engine_env()
    async with backend.database() as url, runtime(engine_settings(url, env)) as rt:
        setup_started = time.monotonic()
        await seed_tenants(rt.store, names, people=1)
        await insert_webhooks(url, [(t, receiver.hook_url(t)) for t in names])
        clients = await create_clients(rt, sorted(set(targets)))
        await _load(rt.store, names, per_tenant)
        setup = time.monotonic() - setup_started
        await receiver.reset()
        started = time.monotonic()
        async with (
            engine_processes(url, folder, env) as engine,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http,
        ):
            ready = time.monotonic()
            stats = await receiver.wait(count=per_tenant * count, timeout=600)
            writer = ApiWriter(http, engine.api)
            await writer.sign_in(clients)
            trickle = await _trickle(
                writer, receiver, targets, sizes.tenants_trickle_rate, per_tenant + 1
            )
    drained = stats["count"]
    return {
        "tenants": count,
        "changes_per_tenant": per_tenant,
        "deliveries": drained,
        "drain_per_second": drained / max(stats["last_at"] - stats["first_at"], 1e-9),
        "seconds_to_first_delivery": stats["first_at"] - started,
        "engine_start_seconds": ready - started,
        "setup_seconds": setup,
        "trickle_tenants": len(set(targets)),
        **trickle,
    }


async def tenants(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes
) -> dict[str, Any]:
    """Every tenant count of ``sizes.tenants_counts``, with the ratio to one tenant's rate."""
    runs = []
    for count in sizes.tenants_counts:
        say(f"[{backend.name}] many tenants: {count:,} tenants ...")
        runs.append(await _one(backend, receiver, folder, sizes, count))
    reference = next((r["drain_per_second"] for r in runs if r["tenants"] == 1), None)
    for run in runs:
        run["ratio_to_one_tenant"] = (
            None if reference is None else run["drain_per_second"] / reference
        )
    return {
        "changes": sizes.tenants_changes,
        "trickle_rate": sizes.tenants_trickle_rate,
        "trickle_seconds": sizes.tenants_trickle_seconds,
        "engine_env": engine_env(),
        "runs": runs,
    }
