"""Wake-ups: a burst of writes shares searches for work; no wake-up goes unanswered."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from collections.abc import Collection
from typing import Any

from workhooks.bootstrap.building import worker_options
from workhooks.config import Settings
from workhooks.delivery.worker import DeliveryWorker
from workhooks.domain.retry import RetryPolicy
from workhooks.domain.webhooks import Webhook
from workhooks.storage.memory import InMemoryStore
from workhooks.testing import FakeClock, ScriptedSender

GAP = 0.02
BURST = 100


class SearchLog(InMemoryStore):
    """The in-memory store, noting when each search for due webhooks started."""

    def __init__(self) -> None:
        super().__init__()
        self.searches: list[float] = []

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Collection[str] = (),
        after: str = "",
        full: Collection[str] = (),
    ) -> list[Webhook]:
        self.searches.append(asyncio.get_running_loop().time())
        return await super().due_webhooks(
            now=now, limit=limit, holding=holding, after=after, full=full
        )


async def _worker(store: SearchLog, **options: Any) -> DeliveryWorker:
    await store.open()
    return DeliveryWorker(
        store,
        ScriptedSender(),
        FakeClock(),
        policy=RetryPolicy.from_seconds("1"),
        rng=random.Random(0),
        options=dataclasses.replace(
            worker_options(Settings.of(poll_interval_seconds=30)), **options
        ),
    )


async def test_a_burst_of_wake_ups_shares_searches_and_the_last_one_is_answered() -> None:
    """100 wake-ups a millisecond apart cost at most one search per search gap (not 100),
    and a search starts after the last of them, so no write waits for the next poll."""
    store = SearchLog()
    worker = await _worker(store, search_gap_seconds=GAP)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(GAP * 2)  # the start-up search
    loop = asyncio.get_running_loop()
    started = loop.time()
    before = len(store.searches)
    last_wake = started
    for _ in range(BURST):
        worker.wake("acme")
        last_wake = loop.time()
        await asyncio.sleep(0.001)
    await asyncio.sleep(GAP * 3)
    stop.set()
    await running
    during = store.searches[before:]
    assert during, "the wake-ups were never answered"
    assert during[-1] >= last_wake, "the last wake-up of the burst had no search after it"
    assert len(during) <= (last_wake - started) / GAP + 2


async def test_without_a_gap_every_wake_up_may_search() -> None:
    """The same burst with no search gap searches far more often: the gap is what shares."""
    store = SearchLog()
    worker = await _worker(store, search_gap_seconds=0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(GAP * 2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    before = len(store.searches)
    for _ in range(BURST):
        worker.wake("acme")
        await asyncio.sleep(0.001)
    elapsed = loop.time() - started
    stop.set()
    await running
    assert len(store.searches) - before > elapsed / GAP + 2
