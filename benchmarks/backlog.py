"""Backlog drain: the receiver is down while many changes hit few records, then comes back.

Three processes: this one loads the changes with the store's batch writes (1,000 per
transaction, as an import would), a real ``workhooks worker`` process delivers, and the
receiver process is started only after the load, on the port the webhook points at. The
worker keeps probing while the receiver is down, so the webhook is backing off when the
receiver returns; the retry schedule is set to 1 s steps so the figure measures the drain,
not the production schedule (whose second step is 5 minutes).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Backend, bench_settings, load_changes, receiver_process, setup_tenant
from benchmarks.processes import free_port, worker_process
from benchmarks.rss import RssSampler, sampling
from workhooks.bootstrap import runtime

__all__ = ["RETRY_STEP_SECONDS", "backlog"]

RETRY_STEP_SECONDS = 1
_RETRY_STEPS = 3_600  # never exhausted (which would disable the webhook) within a run


async def backlog(
    backend: Backend, folder: Path, *, changes: int, records: int, rss_interval: float = 0.25
) -> dict[str, Any]:
    """Load ``changes`` changes over ``records`` records with the receiver down; time the drain."""
    sampler = RssSampler(interval=rss_interval)
    port = free_port()
    env = {"WORKHOOKS_RETRY_SCHEDULE": ",".join([str(RETRY_STEP_SECONDS)] * _RETRY_STEPS)}
    async with backend.database() as url:
        settings = bench_settings(url)
        async with runtime(settings) as rt:
            await setup_tenant(rt, [f"http://127.0.0.1:{port}/hook/backlog"])
            async with worker_process(url, folder, env) as worker, sampling(sampler):
                sampler.watch("loader (benchmark process)", os.getpid(), started_here=False)
                sampler.watch("workhooks worker", worker.pid)
                started = time.monotonic()
                final = await load_changes(rt.store, changes, records)
                loaded_at = time.monotonic()
                async with receiver_process(port) as receiver:
                    sampler.watch("receiver", receiver.pid)
                    await receiver.expect(final)
                    stats = await receiver.wait(final=True, timeout=600)
                    sampler.sample()
                    # Anything still arriving after the final state (duplicates) is counted too.
                    stats = {**stats, "count": (await receiver.stats())["count"]}
    back = receiver.listening_at
    return {
        "changes": changes,
        "records": records,
        "load_seconds": loaded_at - started,
        "load_changes_per_second": changes / (loaded_at - started),
        "seconds_to_final_state": stats["final_at"] - back,
        "seconds_to_first_delivery": stats["first_at"] - back,
        "drain_seconds": stats["final_at"] - stats["first_at"],
        "deliveries": stats["count"],
        "retry_step_seconds": RETRY_STEP_SECONDS,
        "rss": sampler.summary(),
        "receiver_back_at": back - sampler.started_at,
        "load_done_at": loaded_at - sampler.started_at,
    }
