"""Tests for ``workhooks.domain.writes``: what a write makes of drafts, and what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

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
from workhooks.errors import ConflictError, UnknownPersonError

DAY = dt.date(2024, 3, 1)


def draft(record_id: int, person_id: int = 1) -> WorkInterruptionDraft:
    """A work interruption draft of an hour from eight."""
    return WorkInterruptionDraft(
        id=record_id,
        person_id=person_id,
        date=DAY,
        duration_in_minutes=60,
        start_time_in_minutes=480,
        end_time_in_minutes=540,
    )


def test_people_take_consecutive_versions_from_the_first() -> None:
    """The n-th person of a batch gets the first reserved version plus n, and its fields."""
    drafts = [PersonDraft(id=7, badge_number="B7"), PersonDraft(id=8, employee_number="E8")]
    assert people_at(drafts, 41) == [
        Person(id=7, badge_number="B7", employee_number=None, change_version=41),
        Person(id=8, badge_number=None, employee_number="E8", change_version=42),
    ]


def test_work_interruptions_take_consecutive_versions_and_keep_every_field() -> None:
    """A work interruption is its draft at its version, live."""
    (first, second) = work_interruptions_at([draft(3, person_id=9), draft(4)], 10)
    assert first == WorkInterruption(
        id=3,
        person_id=9,
        date=DAY,
        duration_in_minutes=60,
        start_time_in_minutes=480,
        end_time_in_minutes=540,
        change_version=10,
    )
    assert (second.id, second.change_version, second.deleted) == (4, 11, False)


def test_a_person_tombstone_keeps_only_its_id_and_version() -> None:
    """A deleted person forgets its numbers."""
    assert person_tombstone(5, 12) == Person(
        id=5, badge_number=None, employee_number=None, change_version=12, deleted=True
    )


def test_a_work_interruption_tombstone_keeps_its_fields_at_the_new_version() -> None:
    """A deleted work interruption is its last state, deleted, at the delete's version."""
    (record,) = work_interruptions_at([draft(3)], 10)
    tomb = work_interruption_tombstone(record, 15)
    assert tomb.deleted
    assert tomb.change_version == 15
    assert (tomb.id, tomb.person_id, tomb.date) == (3, 1, DAY)


def test_a_record_is_created_unless_it_was_live_before() -> None:
    """Ids live before the write are replaced; the others are created."""
    records = people_at([PersonDraft(id=1), PersonDraft(id=2)], 1)
    assert [w.created for w in written(records, {2})] == [True, False]
    assert written(records, {2})[0] == Written(record=records[0], created=True)


def test_a_second_draft_of_one_id_in_a_batch_replaces_the_first() -> None:
    """Only the first write of a new id in a batch creates it."""
    records = work_interruptions_at([draft(3), draft(3), draft(4)], 1)
    assert [w.created for w in written(records, ())] == [True, False, True]


def test_known_people_pass_the_check() -> None:
    """Work interruptions of live people may be written."""
    check_people_known([1, 2, 2], {1, 2, 3})


def test_every_unknown_person_is_named_in_order() -> None:
    """The error names each missing person once, smallest id first."""
    with pytest.raises(UnknownPersonError) as caught:
        check_people_known([9, 4, 9, 1], {1})
    assert caught.value.reasons == (
        "person.id: person 4 does not exist",
        "person.id: person 9 does not exist",
    )


def test_a_person_in_use_is_a_conflict_that_says_what_to_do() -> None:
    """Deleting a person with work interruptions asks to delete those first."""
    error = person_in_use(6)
    assert isinstance(error, ConflictError)
    assert error.message == "Person 6 still has work interruptions"
    assert error.reasons == ("id: delete the work interruptions of person 6 first",)
