"""Source-side record use cases: validate, write with the next change version, wake delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from workhooks.domain.records import (
    Person,
    PersonDraft,
    WorkInterruption,
    WorkInterruptionDraft,
    validate_person,
    validate_work_interruption,
)
from workhooks.errors import InvalidRecordError, NotFoundError
from workhooks.storage.protocol import RecordStore, Written

__all__ = ["MAX_BATCH", "RecordService"]

MAX_BATCH = 1000


def _check_batch(size: int) -> None:
    if size == 0:
        raise InvalidRecordError("A batch needs at least one record", reasons=("value: is empty",))
    if size > MAX_BATCH:
        raise InvalidRecordError(
            f"A batch holds at most {MAX_BATCH} records",
            reasons=(f"value: {size} records given, at most {MAX_BATCH} allowed",),
        )


def _check_unique(ids: Sequence[int]) -> None:
    counts = Counter(ids)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        raise InvalidRecordError(
            "A batch names a record twice",
            reasons=tuple(f"id: {i} appears more than once" for i in duplicates),
        )


class RecordService:
    """Writes and reads people and work interruptions for one tenant at a time.

    ``on_change`` is called with the tenant after every committed write, so delivery
    workers in this process wake at once instead of at their next poll.
    """

    def __init__(self, store: RecordStore, *, on_change: Callable[[str], None]) -> None:
        self._store = store
        self._on_change = on_change

    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Validate and upsert people (one or a batch) atomically."""
        _check_batch(len(drafts))
        _check_unique([d.id for d in drafts])
        for draft in drafts:
            validate_person(draft)
        written = await self._store.put_people(tenant, drafts)
        self._on_change(tenant)
        return written

    async def get_person(self, tenant: str, person_id: int) -> Person:
        """Return a live person or raise ``NotFoundError``."""
        person = await self._store.get_person(tenant, person_id)
        if person is None:
            raise NotFoundError(f"Person {person_id} does not exist")
        return person

    async def delete_person(self, tenant: str, person_id: int) -> None:
        """Delete a person (leaving a tombstone) or raise ``NotFoundError``."""
        if await self._store.delete_person(tenant, person_id) is None:
            raise NotFoundError(f"Person {person_id} does not exist")
        self._on_change(tenant)

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Validate and upsert work interruptions (one or a batch) atomically."""
        _check_batch(len(drafts))
        _check_unique([d.id for d in drafts])
        for draft in drafts:
            validate_work_interruption(draft)
        written = await self._store.put_work_interruptions(tenant, drafts)
        self._on_change(tenant)
        return written

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption:
        """Return a live work interruption or raise ``NotFoundError``."""
        record = await self._store.get_work_interruption(tenant, record_id)
        if record is None:
            raise NotFoundError(f"Work interruption {record_id} does not exist")
        return record

    async def delete_work_interruption(self, tenant: str, record_id: int) -> None:
        """Delete a work interruption (leaving a tombstone) or raise ``NotFoundError``."""
        if await self._store.delete_work_interruption(tenant, record_id) is None:
            raise NotFoundError(f"Work interruption {record_id} does not exist")
        self._on_change(tenant)
