"""Broadcast: one change to N webhooks of one tenant, against a 1-webhook drain.

The real engine (``benchmarks.engine``) runs throughout. First the reference: a tenant with
one webhook gets ``broadcast_drain`` changes (the store's batch writes), and the worker's CPU
is read from just before the load until every delivery is in and its cursor stored. Then,
per N, a tenant with N webhooks (all at the one receiver, so they share its origin's
connections) gets one change through the API: the time from the start of the write until
the receiver holds all N, and the worker's CPU per delivery (read until all N cursors are
stored, so the history writes count too). Each N is repeated ``broadcast_repeats`` times,
and more for small N (at least ``broadcast_min_deliveries`` deliveries in all): the time is
the median turn's, the CPU is summed over all turns.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import Backend, Receiver, draft, load_changes, say
from benchmarks.engine import (
    ApiWriter,
    Engine,
    create_clients,
    engine_env,
    engine_processes,
    engine_settings,
)
from benchmarks.fleet import insert_webhooks, seed_tenants, subscribe
from benchmarks.procstat import CpuMeter
from benchmarks.sizes import Sizes
from workhooks.bootstrap import Runtime, runtime

__all__ = ["broadcast", "settled"]

DRAIN = "bc-drain"
_SETTLE_TIMEOUT = 120.0


async def settled(rt: Runtime, tenant: str, version: int, engine: Engine) -> float:
    """Wait until every webhook of ``tenant`` has its cursor at ``version``; the time then."""
    deadline = time.monotonic() + _SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        webhooks = await rt.store.list_webhooks(tenant)
        if all(w.cursor >= version for w in webhooks):
            return time.monotonic()
        await asyncio.sleep(0.1)
    behind = Counter(w.cursor for w in webhooks if w.cursor < version)
    raise TimeoutError(
        f"the webhooks of {tenant} did not reach {version} in {_SETTLE_TIMEOUT} s "
        f"(cursors behind: {dict(behind.most_common(5))})\n{engine.log_tail()}"
    )


async def _drain(
    rt: Runtime, engine: Engine, receiver: Receiver, cpu: CpuMeter, changes: int
) -> dict[str, Any]:
    """The reference: ``changes`` changes of distinct records to the one webhook of DRAIN."""
    await receiver.reset()
    cpu.start()
    final = await load_changes(rt.store, changes, records=changes, tenant=DRAIN)
    stats = await receiver.wait(count=changes)
    await settled(rt, DRAIN, max(final.values()), engine)
    cpu.stop()
    return {
        "deliveries": stats["count"],
        "per_second": stats["count"] / (stats["last_at"] - stats["first_at"]),
        "cpu_per_delivery_us": cpu.seconds / stats["count"] * 1e6,
    }


async def _one(
    writer: ApiWriter, rt: Runtime, engine: Engine, receiver: Receiver, n: int, turn: int
) -> dict[str, Any]:
    """One change to the ``n`` webhooks of tenant ``bc-<n>``."""
    cpu = CpuMeter(engine.worker_pid)
    await receiver.reset()
    cpu.start()
    write = await writer.put(f"bc-{n}", draft(turn, turn))
    stats = await receiver.wait(count=n, timeout=120)
    await settled(rt, f"bc-{n}", write.version, engine)
    cpu.stop()
    return {
        "seconds": stats["last_at"] - write.started,
        "first_ms": (stats["first_at"] - write.started) * 1000,
        "deliveries": stats["count"],
        "cpu_seconds": cpu.seconds,
    }


def _summary(turns: list[dict[str, Any]], drain: dict[str, Any]) -> dict[str, Any]:
    """The turn with the median time, every turn's time, and CPU per delivery of all turns.

    CPU is summed over the turns: the clock ticks every 10 ms, below one small turn's grain.
    """
    middle = sorted(turns, key=lambda t: t["seconds"])[(len(turns) - 1) // 2]
    per_delivery = sum(t["cpu_seconds"] for t in turns) / sum(t["deliveries"] for t in turns)
    return {
        "seconds": middle["seconds"],
        "first_ms": middle["first_ms"],
        "deliveries": middle["deliveries"],
        "turns_seconds": [t["seconds"] for t in turns],
        "cpu_per_delivery_us": per_delivery * 1e6,
        "cpu_ratio_to_drain": (
            per_delivery * 1e6 / drain["cpu_per_delivery_us"]
            if drain["cpu_per_delivery_us"]
            else None  # the drain used less CPU than one clock tick shows
        ),
    }


async def broadcast(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes
) -> dict[str, Any]:
    """The drain reference, then one change to each size of ``sizes.broadcast_webhooks``."""
    env = engine_env()
    names = [f"bc-{n}" for n in sizes.broadcast_webhooks]
    async with backend.database() as url, runtime(engine_settings(url, env)) as rt:
        await seed_tenants(rt.store, [DRAIN, *names])
        await subscribe(rt, DRAIN, [receiver.hook_url(DRAIN)])
        for n, name in zip(sizes.broadcast_webhooks, names, strict=True):
            await insert_webhooks(url, [(name, receiver.hook_url(f"{name}-{i}")) for i in range(n)])
        clients = await create_clients(rt, names)
        async with (
            engine_processes(url, folder, env) as engine,
            aiohttp.ClientSession() as http,
        ):
            writer = ApiWriter(http, engine.api)
            await writer.sign_in(clients)
            say(f"[{backend.name}] broadcast: 1-webhook drain of {sizes.broadcast_drain:,} ...")
            drain = await _drain(
                rt, engine, receiver, CpuMeter(engine.worker_pid), sizes.broadcast_drain
            )
            runs = []
            for n in sizes.broadcast_webhooks:
                say(f"[{backend.name}] broadcast: one change to {n:,} webhooks ...")
                count = max(sizes.broadcast_repeats, -(-sizes.broadcast_min_deliveries // n))
                turns = [
                    await _one(writer, rt, engine, receiver, n, turn)
                    for turn in range(1, count + 1)
                ]
                runs.append({"webhooks": n, **_summary(turns, drain)})
    return {"drain": drain, "runs": runs, "engine": engine.shape, "engine_env": env}
