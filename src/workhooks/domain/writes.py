"""What a write makes of drafts: records at their change versions, tombstones, whether each
write created its record, and the rules a write checks (unknown people, a person in use).

Every store reports facts (the versions it reserved, the ids that were live before the
write, the people that exist); these functions turn the facts into the answer, so each rule
is written once whatever the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from workhooks.domain.records import Person, PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.errors import ConflictError, UnknownPersonError

__all__ = [
    "Written",
    "check_people_known",
    "people_at",
    "person_in_use",
    "person_tombstone",
    "work_interruption_tombstone",
    "work_interruptions_at",
    "written",
]

T = TypeVar("T", Person, WorkInterruption)


@dataclass(frozen=True, slots=True, kw_only=True)
class Written(Generic[T]):
    """A record after a write, and whether the write created it (else it replaced it)."""

    record: T
    created: bool


def people_at(drafts: Sequence[PersonDraft], first: int) -> list[Person]:
    """The people a batch writes: the n-th draft gets version ``first + n``."""
    return [
        Person(
            id=d.id,
            badge_number=d.badge_number,
            employee_number=d.employee_number,
            change_version=first + n,
        )
        for n, d in enumerate(drafts)
    ]


def work_interruptions_at(
    drafts: Sequence[WorkInterruptionDraft], first: int
) -> list[WorkInterruption]:
    """The work interruptions a batch writes: the n-th draft gets version ``first + n``."""
    return [
        WorkInterruption(
            id=d.id,
            person_id=d.person_id,
            date=d.date,
            duration_in_minutes=d.duration_in_minutes,
            start_time_in_minutes=d.start_time_in_minutes,
            end_time_in_minutes=d.end_time_in_minutes,
            change_version=first + n,
        )
        for n, d in enumerate(drafts)
    ]


def person_tombstone(person_id: int, version: int) -> Person:
    """What is left of a deleted person: its id and the version of the delete."""
    return Person(
        id=person_id,
        badge_number=None,
        employee_number=None,
        change_version=version,
        deleted=True,
    )


def work_interruption_tombstone(record: WorkInterruption, version: int) -> WorkInterruption:
    """A deleted work interruption: its last fields, marked deleted at the delete's version."""
    return dataclasses.replace(record, change_version=version, deleted=True)


def written(records: Sequence[T], live: Collection[int]) -> list[Written[T]]:
    """Pair each record of a batch with whether the write created it.

    A record is created when its id was not live before the write (never written, or a
    tombstone) and no earlier draft of the same batch wrote it.
    """
    seen = set(live)
    found = []
    for record in records:
        found.append(Written(record=record, created=record.id not in seen))
        seen.add(record.id)
    return found


def check_people_known(person_ids: Collection[int], live: Collection[int]) -> None:
    """Raise ``UnknownPersonError`` naming every person of ``person_ids`` not in ``live``."""
    missing = sorted(set(person_ids).difference(live))
    if missing:
        raise UnknownPersonError.for_ids(missing)


def person_in_use(person_id: int) -> ConflictError:
    """The error for deleting a person that live work interruptions still refer to."""
    return ConflictError(
        f"Person {person_id} still has work interruptions",
        reasons=(f"id: delete the work interruptions of person {person_id} first",),
    )
