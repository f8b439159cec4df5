"""People and work interruptions in PostgreSQL (the ``RecordStore`` slice).

Change versions are commit-ordered: every write is one statement (a function of migration
0003) that first locks its tenant's counter row and holds it until its commit, in the same
round trip, so one tenant's versions are handed out and made visible in the same order; a
reader that has seen V never later finds a newly committed change below V. A function
answers facts (the first version it took, the ids live before, the people missing); the
domain (``domain.writes``) makes the answer of them. Once a write has committed, its tenant
is announced (see ``announcer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from workhooks.domain.records import Person, PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.writes import (
    Written,
    check_people_known,
    people_at,
    person_in_use,
    person_tombstone,
    work_interruptions_at,
    written,
)
from workhooks.storage import rows
from workhooks.storage.postgres.base import CODEC, PostgresBase
from workhooks.storage.rows import json_text

__all__ = ["PostgresRecords"]

_D = TypeVar("_D", PersonDraft, WorkInterruptionDraft)


def _last_per_id(drafts: Sequence[_D]) -> list[tuple[int, _D]]:
    """The last draft of each id with its position (a batch may name an id twice)."""
    last: dict[int, tuple[int, _D]] = {}
    for n, draft in enumerate(drafts):
        last[draft.id] = (n, draft)
    return list(last.values())


@dataclass(frozen=True, slots=True)
class _Answer:
    """What a write function answered in its ``(kind, value)`` rows."""

    kind: str = ""  # the outcome of a delete (deleted, in_use, missing); missing people
    first: int = 0  # the first version the write took
    live: frozenset[int] = frozenset()  # ids that were live before the write
    missing: tuple[int, ...] = ()  # people a write of work interruptions named in vain

    @classmethod
    def read(cls, found: Sequence[asyncpg.Record]) -> _Answer:
        values: dict[str, list[int]] = {}
        for row in found:
            values.setdefault(row["kind"], []).append(row["value"])
        first = values.pop("first", None) or values.get("deleted") or [0]
        kinds = sorted(values)
        return cls(
            kind=kinds[0] if len(kinds) == 1 else "",
            first=first[0],
            live=frozenset(values.get("live", ())),
            missing=tuple(sorted(v for v in values.get("missing", ()) if v is not None)),
        )


class PostgresRecords(PostgresBase):
    """Writes of records, one statement each, and reads of them."""

    async def _write(self, name: str, tenant: str, **params: Any) -> _Answer:
        """Run one write function (its own transaction); announce the tenant once committed."""
        answer = _Answer.read(await self._rows(name, tenant=tenant, **params))
        if answer.kind not in ("missing", "in_use"):
            self._announce(tenant)
        return answer

    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people: one statement, committed in the round trip that sends it."""
        if not drafts:
            return []
        people = json_text(
            [
                {
                    "n": n,
                    "id": d.id,
                    "badge_number": d.badge_number,
                    "employee_number": d.employee_number,
                }
                for n, d in _last_per_id(drafts)
            ]
        )
        answer = await self._write("put_people", tenant, count=len(drafts), people=people)
        return written(people_at(drafts, answer.first), answer.live)

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a person no live work interruption refers to (one statement)."""
        answer = await self._write("delete_person", tenant, id=person_id)
        if answer.kind == "in_use":
            raise person_in_use(person_id)
        return person_tombstone(person_id, answer.first) if answer.kind == "deleted" else None

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Check the people and upsert every record: one statement, all or nothing."""
        if not drafts:
            return []
        records = json_text(
            [
                {
                    "n": n,
                    "id": d.id,
                    "person_id": d.person_id,
                    "date": d.date.isoformat(),
                    "duration_in_minutes": d.duration_in_minutes,
                    "start_time_in_minutes": d.start_time_in_minutes,
                    "end_time_in_minutes": d.end_time_in_minutes,
                }
                for n, d in _last_per_id(drafts)
            ]
        )
        wanted = sorted({d.person_id for d in drafts})
        answer = await self._write(
            "put_work_interruptions", tenant, count=len(drafts), records=records, persons=wanted
        )
        # Nothing was written when some are missing.
        check_people_known(wanted, set(wanted).difference(answer.missing))
        return written(work_interruptions_at(drafts, answer.first), answer.live)

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Replace a live record by its tombstone (one statement)."""
        row = await self._row("delete_work_interruption", tenant=tenant, id=record_id)
        if row is None:
            return None
        self._announce(tenant)
        return rows.work_interruption(row, CODEC)

    async def read_changes_many(
        self, requests: Sequence[tuple[str, int, int]]
    ) -> list[list[WorkInterruption]]:
        """One statement (a LATERAL range read per request) for all requests."""
        found_rows = await self._rows(
            "read_changes_many",
            tenants=[tenant for tenant, _, _ in requests],
            afters=[after for _, after, _ in requests],
            limits=[limit for _, _, limit in requests],
        )
        found: list[list[WorkInterruption]] = [[] for _ in requests]
        for row in found_rows:
            found[row["request"] - 1].append(rows.work_interruption(row, CODEC))
        return found
