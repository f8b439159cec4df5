"""Takeover (PostgreSQL): how long a killed worker's webhooks wait before another sends.

Two real ``workhooks worker`` processes share the webhooks of a few tenants, each tenant
writing a change every ``WRITE_INTERVAL`` (through the store in this process, as an API node
would; NOTIFY wakes the workers). After a warm-up, the worker that used more CPU during it
(the one doing more of the work, whatever the engine's way of sharing it) is killed with
SIGKILL. Per webhook, the takeover time is from the kill until the receiver has the first
change written after the kill (so it includes up to one write interval). It is reported
against the lease period (``WORKHOOKS_LEASE_SECONDS``), once per lease of the sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Backend, Receiver, draft, say
from benchmarks.engine import engine_env, engine_settings
from benchmarks.fleet import seed_tenants, subscribe
from benchmarks.processes import worker_process
from benchmarks.procstat import CpuMeter
from benchmarks.sizes import Sizes
from workhooks.bootstrap import Runtime, runtime

__all__ = ["WRITE_INTERVAL", "takeover"]

WRITE_INTERVAL = 0.1  # seconds between one tenant's changes


async def _write_steadily(
    rt: Runtime, tenants: list[str], written: dict[tuple[str, int], float], stop: asyncio.Event
) -> None:
    """Every ``WRITE_INTERVAL``, one change per tenant; note each version's write start."""

    async def one(tenant: str, n: int) -> None:
        started = time.monotonic()
        (done,) = await rt.services.records.put_work_interruptions(tenant, [draft(n, n)])
        written[(tenant, done.record.change_version)] = started

    began = time.monotonic()
    n = 0
    while not stop.is_set():
        n += 1
        await asyncio.gather(*(one(t, n) for t in tenants))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), began + n * WRITE_INTERVAL - time.monotonic())


def _resumed(
    hooks: dict[str, str],
    arrivals: dict[tuple[str, int], float],
    written: dict[tuple[str, int], float],
    killed_at: float,
) -> dict[str, float]:
    """Per hook: seconds from the kill to its first receipt of a change written after it."""
    found: dict[str, float] = {}
    for (hook, version), at in arrivals.items():
        tenant = hooks.get(hook)
        started = None if tenant is None else written.get((tenant, version))
        if started is not None and started >= killed_at:
            found[hook] = min(found.get(hook, at - killed_at), at - killed_at)
    return found


async def _one(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes, lease: float
) -> dict[str, Any]:
    tenants = [f"tk{t}" for t in range(sizes.takeover_tenants)]
    hooks = {f"{t}-{j}": t for t in tenants for j in range(sizes.takeover_webhooks_per_tenant)}
    env = engine_env({"WORKHOOKS_LEASE_SECONDS": f"{lease:g}"})
    warm = min(5.0, max(1.0, lease / 2))
    written: dict[tuple[str, int], float] = {}
    stop = asyncio.Event()
    async with backend.database() as url, runtime(engine_settings(url, env)) as rt:
        await seed_tenants(rt.store, tenants)
        for tenant in tenants:
            await subscribe(
                rt, tenant, [receiver.hook_url(h) for h, t in hooks.items() if t == tenant]
            )
        await receiver.reset(arrivals=True)
        async with worker_process(url, folder, env) as one, worker_process(url, folder, env) as two:
            writing = asyncio.create_task(_write_steadily(rt, tenants, written, stop))
            meters = [CpuMeter(one.pid), CpuMeter(two.pid)]
            for meter in meters:
                meter.start()
            await asyncio.sleep(warm)
            busy = [meter.stop() for meter in meters]
            victim = meters[0] if busy[0] >= busy[1] else meters[1]
            os.kill(victim.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            deadline = killed_at + 2 * lease + 10
            resumed: dict[str, float] = {}
            while time.monotonic() < deadline and len(resumed) < len(hooks):
                await asyncio.sleep(0.25)
                arrivals = await receiver.hook_arrivals(since=killed_at)
                resumed = _resumed(hooks, arrivals, written, killed_at)
            stop.set()
            await writing
    waits = sorted(resumed.values())
    return {
        "lease_seconds": lease,
        "webhooks": len(hooks),
        "tenants": len(tenants),
        "resumed": len(waits),
        "max_seconds": waits[-1] if len(waits) == len(hooks) else None,
        "median_seconds": statistics.median(waits) if waits else None,
        "per_webhook_seconds": waits,
        "waited_up_to_seconds": deadline - killed_at,
        "victim_cpu_share": victim.seconds / max(sum(busy), 1e-9),
        # Webhooks that waited out (most of) a lease: the killed worker held them.
        "stalled": sum(1 for w in waits if w > lease / 2),
        "warm_up_seconds": warm,
    }


async def takeover(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes
) -> dict[str, Any]:
    """One kill per lease period of ``sizes.takeover_leases`` (PostgreSQL only)."""
    if backend.admin_url is None:
        raise ValueError("takeover needs PostgreSQL: SQLite runs one worker per database")
    runs = []
    for lease in sizes.takeover_leases:
        say(f"[{backend.name}] takeover with a {lease:g} s lease ...")
        runs.append(await _one(backend, receiver, folder, sizes, lease))
    return {"write_interval_seconds": WRITE_INTERVAL, "engine_env": engine_env(), "runs": runs}
