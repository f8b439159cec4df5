"""What makes fan-out cheap: windows read and rendered once, outcomes written together.

- :class:`SharedReads` reads a tenant's changes after a cursor once for every webhook at
  that cursor (single flight, then kept briefly), and renders each event body once per
  set of external references. Reads asked for together (windows starting at the same
  time, of many tenants) go to the store in one statement. A window read earlier is still
  a correct window: versions are handed out in commit order, so no change can later
  appear below its last version; a record changed since is delivered again later, in its
  newer state.
- :class:`GroupCommit` applies the outcomes of windows that finish together in one store
  transaction, without making any window wait for another: the first outcome is written
  at once, and those that arrive while it is written go together in the next.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import msgspec

from workhooks.documents import event_document
from workhooks.domain.records import WorkInterruption
from workhooks.storage.protocol import DeliveryStore, RecordStore, ReferenceStore, WindowOutcome

__all__ = ["GroupCommit", "SharedReads", "Window", "WindowStore"]

_encode = msgspec.json.Encoder().encode
A = TypeVar("A")
R = TypeVar("R")


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """Records changed after a cursor, in version order, with their rendered event bodies."""

    records: Sequence[WorkInterruption]
    bodies: Sequence[bytes]


_Key = tuple[str, int, int, tuple[str, ...]]


class WindowStore(RecordStore, ReferenceStore, Protocol):
    """What windows are read from: the changed records and their people's references."""


class SharedReads:
    """Windows by ``(tenant, cursor, size, reference keys)``, read once, kept ``max_age``."""

    def __init__(self, store: WindowStore, *, max_entries: int = 64, max_age: float = 1.0) -> None:
        self._store = store
        self._batches: _Batches[tuple[str, int, int], list[WorkInterruption]] = _Batches(
            store.read_changes_many, name="delivery-batched-reads"
        )
        self._max_entries = max_entries
        self._max_age = max_age
        self._entries: OrderedDict[_Key, tuple[float, asyncio.Task[Window]]] = OrderedDict()

    def forget(self, tenant: str) -> None:
        """Drop the tenant's windows (it has new changes: later reads coalesce more)."""
        for key in [k for k in self._entries if k[0] == tenant]:
            del self._entries[key]

    async def window(self, tenant: str, *, after: int, size: int, keys: tuple[str, ...]) -> Window:
        """The window after ``after``: shared with every webhook asking for the same one."""
        key = (tenant, after, size, keys)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or now - entry[0] > self._max_age or entry[1].cancelled():
            task = asyncio.ensure_future(self._read(tenant, after=after, size=size, keys=keys))
            entry = self._entries[key] = (now, task)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        task = entry[1]
        try:
            # Shielded: a webhook whose window is cancelled must not cancel the others' read.
            window = await asyncio.shield(task)
        except Exception:
            if self._entries.get(key, (0.0, None))[1] is task:
                del self._entries[key]
            raise
        if not window.records and self._entries.get(key, (0.0, None))[1] is task:
            del self._entries[key]  # an empty answer may be stale the moment a write lands
        return window

    async def _read(self, tenant: str, *, after: int, size: int, keys: tuple[str, ...]) -> Window:
        records = await self._batches((tenant, after, size))
        references = None
        if keys and records:
            people = {r.person_id for r in records if not r.deleted}
            references = await self._store.references_for(tenant, people, keys)
        bodies = [
            _encode(event_document(r, person_references=_people(references, r.person_id)))
            for r in records
        ]
        return Window(records=records, bodies=bodies)


class _Batches(Generic[A, R]):
    """Calls ``run`` with a batch of items: the first at once, then whatever gathered while
    the previous batch ran; each caller gets its own item's result (or the batch's error)."""

    def __init__(self, run: Callable[[list[A]], Awaitable[Sequence[R]]], *, name: str) -> None:
        self._run = run
        self._name = name
        self._pending: list[tuple[A, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: A) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(), name=self._name)
        return await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._run([item for item, _ in batch])
            except Exception as exc:  # reported to every caller of the batch
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():
                    done.set_result(result)


def _people(references: dict[int, dict[str, str]] | None, person: int) -> dict[str, str] | None:
    return None if references is None else references.get(person, {})


class GroupCommit:
    """Applies window outcomes, batching those that are ready at the same time."""

    def __init__(self, store: DeliveryStore) -> None:
        self._store = store
        self._batches = _Batches(self._apply, name="delivery-group-commit")

    async def apply(self, outcome: WindowOutcome) -> bool | None:
        """Apply ``outcome`` (with whatever else is waiting).

        None if it did not land (the cursor moved or the lease was lost); else whether the
        webhook may send on (still enabled and not deleted).
        """
        return await self._batches(outcome)

    async def _apply(self, outcomes: list[WindowOutcome]) -> list[bool | None]:
        applied = await self._store.apply_windows(outcomes)
        return [applied.get(outcome.webhook_id) for outcome in outcomes]
