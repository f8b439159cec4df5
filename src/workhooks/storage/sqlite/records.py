"""People and work interruptions in SQLite (the ``RecordStore`` slice).

One writer: a write reads what it needs to know (which ids are live, which people exist),
reserves its versions on the tenant's row and writes its rows, all in one transaction; the
domain (``domain.writes``) makes the answer of those facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence

from workhooks.domain.records import Person, PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.writes import (
    Written,
    check_people_known,
    people_at,
    person_in_use,
    person_tombstone,
    work_interruption_tombstone,
    work_interruptions_at,
    written,
)
from workhooks.storage import rows
from workhooks.storage.rows import json_text
from workhooks.storage.sqlite.base import CODEC, Q, SqliteBase

__all__ = ["SqliteRecords"]


def _reserve(c: sqlite3.Connection, tenant: str, count: int, *, work: bool) -> int:
    """Reserve ``count`` versions; return the first. Single writer: commit order holds.

    ``work`` marks a write of work interruptions: it unsettles the tenant.
    """
    params = {"tenant": tenant, "count": count, "work": work}
    (head,) = c.execute(Q["next_version"].sql, params).fetchone()
    return int(head) - count + 1


def _live(c: sqlite3.Connection, query: str, tenant: str, ids: Collection[int]) -> set[int]:
    params = {"tenant": tenant, "ids": json_text(sorted(ids))}
    return {row["id"] for row in c.execute(Q[query].sql, params)}


class SqliteRecords(SqliteBase):
    """Writes of records with their versions, and reads of them."""

    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people in one transaction."""
        if not drafts:
            return []

        def run(c: sqlite3.Connection) -> list[Written[Person]]:
            live = _live(c, "live_people", tenant, {d.id for d in drafts})
            people = people_at(drafts, _reserve(c, tenant, len(drafts), work=False))
            c.executemany(
                Q["upsert_person"].sql,
                [
                    {
                        "tenant": tenant,
                        "id": p.id,
                        "badge_number": p.badge_number,
                        "employee_number": p.employee_number,
                        "change_version": p.change_version,
                    }
                    for p in people
                ],
            )
            return written(people, live)

        return await self._write(run)

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a person that no live work interruption refers to."""
        key = {"tenant": tenant, "id": person_id}

        def run(c: sqlite3.Connection) -> Person | None:
            if rows.live_person(c.execute(Q["get_person_any"].sql, key).fetchone()) is None:
                return None
            if c.execute(Q["person_in_use"].sql, key).fetchone() is not None:
                raise person_in_use(person_id)
            tomb = person_tombstone(person_id, _reserve(c, tenant, 1, work=False))
            c.execute(Q["tombstone_person"].sql, {**key, "change_version": tomb.change_version})
            c.execute(Q["delete_person_references"].sql, key)
            return tomb

        return await self._write(run)

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Check the people, then upsert every record in one transaction."""
        if not drafts:
            return []

        def run(c: sqlite3.Connection) -> list[Written[WorkInterruption]]:
            wanted = {d.person_id for d in drafts}
            check_people_known(wanted, _live(c, "live_people", tenant, wanted))
            live = _live(c, "live_work_interruptions", tenant, {d.id for d in drafts})
            records = work_interruptions_at(drafts, _reserve(c, tenant, len(drafts), work=True))
            c.executemany(
                Q["upsert_work_interruption"].sql,
                [
                    {
                        "tenant": tenant,
                        "id": r.id,
                        "person_id": r.person_id,
                        "date": CODEC.day(r.date),
                        "duration_in_minutes": r.duration_in_minutes,
                        "start_time_in_minutes": r.start_time_in_minutes,
                        "end_time_in_minutes": r.end_time_in_minutes,
                        "change_version": r.change_version,
                    }
                    for r in records
                ],
            )
            return written(records, live)

        return await self._write(run)

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Replace a live record by its tombstone."""
        key = {"tenant": tenant, "id": record_id}

        def run(c: sqlite3.Connection) -> WorkInterruption | None:
            row = c.execute(Q["get_work_interruption_any"].sql, key).fetchone()
            record = rows.live_work_interruption(row, CODEC)
            if record is None:
                return None
            version = _reserve(c, tenant, 1, work=True)
            c.execute(Q["tombstone_work_interruption"].sql, {**key, "change_version": version})
            return work_interruption_tombstone(record, version)

        return await self._write(run)

    async def read_changes_many(
        self, requests: Sequence[tuple[str, int, int]]
    ) -> list[list[WorkInterruption]]:
        """Every request's range read, in one read transaction and one thread hop.

        (SQLite takes no correlated ``LIMIT``, so each request is its own statement.)
        """
        sql = Q["read_changes"].sql

        def run(c: sqlite3.Connection) -> list[list[WorkInterruption]]:
            return [
                [
                    rows.work_interruption(r, CODEC)
                    for r in c.execute(sql, {"tenant": tenant, "after": after, "limit": limit})
                ]
                for tenant, after, limit in requests
            ]

        return await self._read(run)
