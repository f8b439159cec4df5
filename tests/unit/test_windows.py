"""Shared window reads and group commit: what keeps fan-out cheap (no sockets, no disk)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from workhooks.delivery.windows import GroupCommit, SharedReads
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.storage.memory import InMemoryStore
from workhooks.storage.protocol import WindowOutcome

TENANT = "acme"


class CountingStore(InMemoryStore):
    """The in-memory store, counting reads of changes and batches of window outcomes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.batches: list[int] = []
        self.gate: asyncio.Event | None = None

    async def read_changes(self, tenant: str, *, after: int, limit: int) -> list[WorkInterruption]:
        """Count, then read."""
        self.reads += 1
        await asyncio.sleep(0)  # a real read yields: concurrent callers overlap
        return await super().read_changes(tenant, after=after, limit=limit)

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Record the batch size; wait for ``gate`` (a slow write) when set."""
        self.batches.append(len(outcomes))
        if self.gate is not None:
            await self.gate.wait()
        return {o.webhook_id: True for o in outcomes}


async def _store_with_records(count: int) -> CountingStore:
    store = CountingStore()
    await store.put_people(TENANT, [PersonDraft(id=1)])
    drafts = [
        WorkInterruptionDraft(
            id=n,
            person_id=1,
            date=dt.date(2024, 3, 4),
            duration_in_minutes=5,
            start_time_in_minutes=600,
            end_time_in_minutes=605,
        )
        for n in range(1, count + 1)
    ]
    await store.put_work_interruptions(TENANT, drafts)
    return store


def _outcome(webhook_id: str) -> WindowOutcome:
    return WindowOutcome(
        webhook_id=webhook_id,
        tenant=TENANT,
        expected_cursor=0,
        cursor=1,
        failures=0,
        next_attempt_at=None,
        disabled_reason=None,
        attempts=(),
    )


async def test_webhooks_at_one_cursor_share_one_read_and_one_rendering() -> None:
    """Concurrent and later asks for the same window read the store once and share bodies."""
    store = await _store_with_records(3)
    reads = SharedReads(store)
    together = await asyncio.gather(
        *(reads.window(TENANT, after=1, size=500, keys=()) for _ in range(50))
    )
    later = await reads.window(TENANT, after=1, size=500, keys=())
    assert store.reads == 1
    assert all(w is together[0] for w in [*together, later])
    assert [r.id for r in later.records] == [1, 2, 3]
    assert len(later.bodies) == 3
    assert b'"changeType":"InsertOrUpdate"' in later.bodies[0]


async def test_a_write_of_the_tenant_makes_the_next_ask_read_again() -> None:
    """``forget`` drops the tenant's windows, so a later window coalesces the newer changes."""
    store = await _store_with_records(2)
    reads = SharedReads(store)
    await reads.window(TENANT, after=1, size=500, keys=())
    reads.forget("globex")
    await reads.window(TENANT, after=1, size=500, keys=())
    assert store.reads == 1
    reads.forget(TENANT)
    await reads.window(TENANT, after=1, size=500, keys=())
    assert store.reads == 2


async def test_an_empty_window_is_never_kept() -> None:
    """Nothing after the cursor is not remembered: the next ask reads again."""
    store = await _store_with_records(1)
    reads = SharedReads(store)
    for _ in range(3):
        window = await reads.window(TENANT, after=99, size=500, keys=())
        assert window.records == []
    assert store.reads == 3


async def test_windows_with_other_sizes_or_references_are_read_apart() -> None:
    """The size and the reference keys are part of what is shared."""
    store = await _store_with_records(2)
    reads = SharedReads(store)
    await reads.window(TENANT, after=1, size=500, keys=())
    await reads.window(TENANT, after=1, size=1, keys=())
    referenced = await reads.window(TENANT, after=1, size=500, keys=("@employee-number",))
    assert store.reads == 3
    assert b'"externalReferences":{}' in referenced.bodies[0]


async def test_outcomes_that_finish_during_a_write_go_together_in_the_next() -> None:
    """The first outcome is written at once; those arriving meanwhile share one batch."""
    store = CountingStore()
    store.gate = asyncio.Event()
    commits = GroupCommit(store)
    first = asyncio.ensure_future(commits.apply(_outcome("a")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    rest: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(commits.apply(_outcome(name))) for name in ("b", "c", "d")
    ]
    await asyncio.sleep(0)
    store.gate.set()
    assert await first is True
    assert [await r for r in rest] == [True, True, True]
    assert store.batches == [1, 3]


async def test_an_outcome_that_did_not_land_is_none() -> None:
    """A refused compare-and-set reports None to its window, not an error."""
    store = InMemoryStore()
    assert await GroupCommit(store).apply(_outcome("unknown")) is None
