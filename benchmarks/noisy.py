"""Noisy neighbours: does tenant A's bad destinations delay tenant B's deliveries?

Tenant B has one healthy webhook (the receiver answers at once); tenant A has K webhooks
whose destinations are slow (200 after ``noisy_slow_seconds``), blackholed (the connection
is accepted, never answered) or refusing (nothing listens), spread over K origins or all
on one. While A writes a change every second (each goes to all of A's webhooks) and B one
every 100 ms, both through the API of the real engine (``benchmarks.engine``), B's changes
are timed from the start of the write until the receiver has them. Each configuration
runs on a fresh database and engine; K = 0 is the reference of the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import Backend, Receiver, draft, say
from benchmarks.delivery import tail
from benchmarks.engine import (
    ApiWriter,
    Write,
    create_clients,
    engine_env,
    engine_processes,
    engine_settings,
)
from benchmarks.fleet import seed_tenants, subscribe
from benchmarks.sinks import Sinks, sinks_process
from benchmarks.sizes import Sizes
from workhooks.bootstrap import runtime

__all__ = ["A_INTERVAL", "B_INTERVAL", "noisy"]

A, B = "noisy-a", "noisy-b"
A_INTERVAL = 1.0  # seconds between tenant A's changes
B_INTERVAL = 0.1  # seconds between tenant B's changes
_STOP_SECONDS = 1.0  # then the engine is killed: hung windows would hold it 15 s


async def _every(
    interval: float, seconds: float, write: Callable[[int], Coroutine[Any, Any, Write]]
) -> list[Write]:
    """Start ``write(n)`` at ``n * interval`` for ``seconds`` (open loop); the writes done."""
    started = time.monotonic()
    tasks: list[asyncio.Task[Write]] = []
    for n in range(max(1, round(seconds / interval))):
        delay = started + n * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(write(n)))
    return list(await asyncio.gather(*tasks))


async def _config(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes, urls: list[str]
) -> dict[str, Any]:
    """One configuration: A's webhooks at ``urls``; B's latency, deliveries and failures."""
    env = engine_env()
    grace = min(5.0, max(1.0, sizes.noisy_seconds / 4))
    async with backend.database() as url, runtime(engine_settings(url, env)) as rt:
        await seed_tenants(rt.store, [A, B])
        (hook_b,) = await subscribe(rt, B, [receiver.hook_url(B)])
        await subscribe(rt, A, urls)
        clients = await create_clients(rt, [A, B])
        await receiver.reset(arrivals=True)
        async with (
            engine_processes(url, folder, env, stop_seconds=_STOP_SECONDS) as engine,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http,
        ):
            writer = ApiWriter(http, engine.api)
            await writer.sign_in(clients)
            a_writes, b_writes = await asyncio.gather(
                _every(A_INTERVAL, sizes.noisy_seconds, lambda n: writer.put(A, draft(n + 1, n))),
                _every(B_INTERVAL, sizes.noisy_seconds, lambda n: writer.put(B, draft(n + 1, n))),
            )
            # B's last changes may still be on their way: wait a little, not forever.
            with contextlib.suppress(TimeoutError):
                await receiver.wait(count=len(b_writes), timeout=grace)
            arrivals = await receiver.hook_arrivals()
            attempts = await rt.store.list_attempts(hook_b, limit=1_000_000)
    samples = [
        (arrivals[(B, w.version)] - w.started) * 1000
        for w in b_writes
        if (B, w.version) in arrivals
    ]
    failed = [a for a in attempts if not a.succeeded]
    return {
        **tail(samples, len(b_writes)),
        "a_changes": len(a_writes),
        "b_attempts": len(attempts),
        "b_failed_attempts": len(failed),
        "b_failure_classes": dict(Counter(str(a.error_class) for a in failed)),
        "engine": engine.shape,
    }


def _configs(sizes: Sizes) -> list[tuple[int, str | None, str | None]]:
    """K = 0 once (the reference), then every K > 0 in every mode and layout."""
    configs: list[tuple[int, str | None, str | None]] = [(0, None, None)]
    for k in sizes.noisy_webhooks:
        if k > 0:
            configs += [(k, m, lay) for m in sizes.noisy_modes for lay in sizes.noisy_layouts]
    return configs


async def noisy(backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes) -> dict[str, Any]:
    """Every configuration of ``sizes``: tenant B's figures beside tenant A's K webhooks."""
    configs = _configs(sizes)
    runs = []
    async with sinks_process(max(sizes.noisy_webhooks), sizes.noisy_slow_seconds) as sinks:
        for n, (k, mode, layout) in enumerate(configs, start=1):
            say(f"[{backend.name}] noisy neighbours {n}/{len(configs)}: K={k} {mode} {layout}")
            urls = _urls(sinks, k, mode, layout)
            found = await _config(backend, receiver, folder, sizes, urls)
            runs.append({"webhooks": k, "mode": mode, "layout": layout, **found})
    return {
        "seconds": sizes.noisy_seconds,
        "slow_seconds": sizes.noisy_slow_seconds,
        "a_interval_seconds": A_INTERVAL,
        "b_interval_seconds": B_INTERVAL,
        "engine_env": engine_env(),
        "runs": runs,
    }


def _urls(sinks: Sinks, k: int, mode: str | None, layout: str | None) -> list[str]:
    if k == 0 or mode is None or layout is None:
        return []
    return sinks.urls(mode, layout, k)
