"""Delivery measures: sustained deliveries/s, commit-to-receipt latency, SQL per delivery.

The worker runs in this process (the real ``DeliveryWorker`` and ``AiohttpSender``, built by
``bootstrap.runtime``); the receiver is its own process, so each has a core of its own.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    TENANT,
    Backend,
    Receiver,
    bench_settings,
    draft,
    load_changes,
    setup_tenant,
)
from benchmarks.processes import worker_process
from benchmarks.rss import RssSampler, sampling
from workhooks.bootstrap import Runtime, running_worker, runtime

__all__ = ["StatementCounter", "latency", "offer", "percentiles", "tail", "throughput"]

LATENCY_RECORDS = 10_000
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass
class StatementCounter:
    """Counts the SQL statements a store sends (its trace hook calls ``trace``)."""

    statements: int = 0
    data_statements: int = 0

    def trace(self, sql: str) -> None:
        """Count one statement; BEGIN/COMMIT/ROLLBACK are not data statements."""
        self.statements += 1
        words = sql.split(None, 1)
        if not words or words[0].upper().rstrip(";") not in _TRANSACTION_CONTROL:
            self.data_statements += 1

    def reset(self) -> None:
        """Start counting from zero."""
        self.statements = self.data_statements = 0

    def per(self, deliveries: int) -> dict[str, float]:
        """Statements per delivery, all and data only."""
        return {
            "statements_per_delivery": self.statements / deliveries,
            "data_statements_per_delivery": self.data_statements / deliveries,
        }


async def throughput(
    backend: Backend, receiver: Receiver, *, changes: int, webhooks: int = 1
) -> dict[str, Any]:
    """Load ``changes`` changes of distinct records, then time the worker delivering them all.

    Every change goes to each of ``webhooks`` webhooks (all on the one receiver host, so
    they share its pool of connections): ``changes * webhooks`` deliveries.
    """
    counter = StatementCounter()
    expected = changes * webhooks
    async with backend.database() as url:
        settings = bench_settings(url)
        store = backend.store(url, settings, counter.trace)
        async with runtime(settings, store=store) as rt:
            await setup_tenant(rt, [receiver.hook_url(f"t{n}") for n in range(webhooks)])
            await load_changes(rt.store, changes, records=changes)
            await receiver.reset()
            counter.reset()
            memory = RssSampler(interval=0.1)
            memory.watch("worker", os.getpid(), started_here=False)
            started = time.monotonic()
            async with running_worker(rt), sampling(memory):
                stats = await receiver.wait(count=expected)
            # Counted until the worker stopped: its last windows' writes are included.
            statements = counter.per(stats["count"])
    seconds = stats["last_at"] - started
    rss = memory.summary()["worker"]
    return {
        "webhooks": webhooks,
        "changes": changes,
        "deliveries": stats["count"],
        "seconds": seconds,
        "per_second": stats["count"] / seconds,
        # This process runs the worker: its resident memory before and during the drain.
        "rss_before_mb": rss["first_mb"],
        "rss_peak_mb": rss["peak_mb"],
        **statements,
    }


async def _write(
    rt: Runtime,
    n: int,
    size: int,
    tenants: list[str],
    written_at: dict[tuple[str, int], tuple[float, float]],
) -> None:
    """Write the ``n``-th group of ``size`` changes as one request would.

    Writes go to the tenants in turn; each change is keyed by its tenant's hook name and its
    version (versions are per tenant). Notes when the write started and when its commit was
    acknowledged: the commit itself happened in between (a worker in another process may
    even deliver before this process has read the acknowledgment).
    """
    which = n % len(tenants)
    first = n * size
    changes = [draft(1 + (first + k) % LATENCY_RECORDS, first + k) for k in range(size)]
    started = time.monotonic()
    written = await rt.services.records.put_work_interruptions(tenants[which], changes)
    acknowledged = time.monotonic()
    for one in written:
        written_at[(_hook(which), one.record.change_version)] = (started, acknowledged)


def _hook(which: int) -> str:
    return f"latency-{which}"


async def offer(
    rate: float, total: int, write: Callable[[int], Awaitable[None]], *, in_flight: int = 8
) -> float:
    """Start write ``n`` at ``n / rate`` s whether or not earlier ones finished (open loop).

    At most ``in_flight`` writes run at once (if the store cannot keep up, the offered rate
    drops, and the achieved rate says so). Returns the seconds until the last write finished.
    """
    slots = asyncio.Semaphore(in_flight)
    tasks: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        try:
            await write(n)
        finally:
            slots.release()

    started = time.monotonic()
    for n in range(total):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        task = asyncio.create_task(one(n))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return time.monotonic() - started


def percentiles(samples: list[float]) -> dict[str, Any]:
    """p50/p95/p99/max of ``samples`` and the 0.1-step quantile curve (for the plot)."""
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=1000, method="inclusive")
    return {
        "p50_ms": cuts[499],
        "p95_ms": cuts[949],
        "p99_ms": cuts[989],
        "max_ms": ordered[-1],
        "curve_ms": [round(c, 3) for c in cuts],
    }


def tail(samples_ms: list[float], written: int) -> dict[str, Any]:
    """Nearest-rank p50/p99/max over ``written`` changes, of which ``samples_ms`` arrived.

    Missing changes count as the slowest: a percentile that falls on one is None, and so
    is the max while any is missing.
    """
    ordered = sorted(samples_ms)

    def rank(q: float) -> float | None:
        index = max(0, math.ceil(q * written) - 1)
        return ordered[index] if index < len(ordered) else None

    return {
        "written": written,
        "received": len(ordered),
        "p50_ms": rank(0.5),
        "p99_ms": rank(0.99),
        "max_ms": ordered[-1] if ordered and len(ordered) == written else None,
    }


async def latency(
    backend: Backend,
    receiver: Receiver,
    folder: Path,
    *,
    rate: int,
    seconds: float,
    separate_worker: bool = False,
    changes_per_write: int = 1,
    tenants: int = 1,
    in_flight: int = 8,
    warmup_seconds: float = 1.0,
) -> dict[str, Any]:
    """Write ``rate`` changes/s for ``seconds`` (open loop); time each from commit to receipt.

    The writer is the record service, called as the API calls it, with up to ``in_flight``
    writes in flight, each of ``changes_per_write`` changes (one transaction), to
    ``tenants`` tenants in turn (each with one webhook). One tenant's writes commit one
    after another (its versions are handed out in commit order, contract decision 10), so
    its single-change write rate is bounded by one commit flush per write; several tenants
    commit side by side. By default the worker
    shares this process, as in ``workhooks serve`` (the only shape SQLite supports: a write
    wakes the worker in-process). With ``separate_worker`` a real ``workhooks worker``
    process delivers, woken by PostgreSQL's NOTIFY: an API node and a worker, as
    docs/deployment.md runs them. A change's clock starts when its write starts (so it
    includes the write itself: an upper bound of commit to receipt) and stops when the
    receiver has read it. The first ``warmup_seconds`` of writes at the same rate are
    timed apart (``warmup_*``): they pay for starting pools, connections and prepared
    statements, which a running service has already paid.
    """
    writes = max(2, int(rate * seconds) // changes_per_write)
    total = writes * changes_per_write
    counter = StatementCounter()
    written_at: dict[tuple[str, int], tuple[float, float]] = {}
    warm_at: dict[tuple[str, int], tuple[float, float]] = {}
    warm_writes = int(rate * warmup_seconds) // changes_per_write
    names = [TENANT] if tenants == 1 else [f"{TENANT}-{i:02d}" for i in range(tenants)]
    async with backend.database() as url:
        settings = bench_settings(url)
        store = backend.store(url, settings, counter.trace)
        async with runtime(settings, store=store) as rt, AsyncExitStack() as stack:
            for which, name in enumerate(names):
                await setup_tenant(rt, [receiver.hook_url(_hook(which))], tenant=name)
            await receiver.reset(arrivals=True)
            if separate_worker:
                await stack.enter_async_context(worker_process(url, folder))
            else:
                await stack.enter_async_context(running_worker(rt))
            if warm_writes:
                await offer(
                    rate / changes_per_write,
                    warm_writes,
                    lambda n: _write(rt, writes + n, changes_per_write, names, warm_at),
                    in_flight=in_flight,
                )
                await receiver.wait(count=len(warm_at), timeout=120)
            counter.reset()
            offered_seconds = await offer(
                rate / changes_per_write,
                writes,
                lambda n: _write(rt, n, changes_per_write, names, written_at),
                in_flight=in_flight,
            )
            await receiver.wait(count=len(warm_at) + total, timeout=120)
        arrivals = await receiver.hook_arrivals()
    warm = sorted(
        (arrivals[v] - started) * 1000 for v, (started, _) in warm_at.items() if v in arrivals
    )
    received = [(arrivals[v], times) for v, times in written_at.items() if v in arrivals]
    # The figure is measured from the start of the write: an upper bound of commit to
    # receipt (it includes the write's own round trips and any queueing for the store).
    samples = [(at - started) * 1000 for at, (started, _) in received]
    from_ack = sorted((at - acked) * 1000 for at, (_, acked) in received)
    return {
        "offered_per_second": rate,
        "achieved_per_second": total / offered_seconds,
        "changes": total,
        "changes_per_write": changes_per_write,
        "tenants": tenants,
        "in_flight": in_flight,
        "received": len(samples),
        "measured_from": "start of the write",
        "p50_from_acknowledgment_ms": from_ack[len(from_ack) // 2],
        "p99_from_acknowledgment_ms": from_ack[int(len(from_ack) * 0.99)],
        "worker": "separate process" if separate_worker else "same process",
        # Statements of this process: the writes, plus the worker's when it runs here.
        "statements_per_change": counter.statements / total,
        **percentiles(samples),
        "warmup_seconds": warmup_seconds,
        "warmup_p99_ms": warm[int(len(warm) * 0.99)] if warm else None,
        "warmup_max_ms": warm[-1] if warm else None,
    }
