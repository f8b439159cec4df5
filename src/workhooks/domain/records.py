"""The records of the source: people and work interruptions, and their validation rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from workhooks.domain.external_references import MAX_REFERENCE_VALUE_LENGTH, is_acceptable_value
from workhooks.errors import InvalidRecordError

__all__ = [
    "MAX_RECORD_ID",
    "MINUTES_PER_DAY",
    "Person",
    "PersonDraft",
    "WorkInterruption",
    "WorkInterruptionDraft",
    "live",
    "parse_date",
    "validate_person",
    "validate_work_interruption",
]

MINUTES_PER_DAY = 24 * 60
MAX_RECORD_ID = 2**63 - 1  # ids are stored as signed 64-bit integers


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonDraft:
    """A person as the source writes it, before it gets a change version."""

    id: int
    badge_number: str | None = None
    employee_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    """A stored person; ``deleted`` marks a tombstone."""

    id: int
    badge_number: str | None
    employee_number: str | None
    change_version: int
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkInterruptionDraft:
    """A work interruption as the source writes it, before it gets a change version."""

    id: int
    person_id: int
    date: dt.date
    duration_in_minutes: int
    start_time_in_minutes: int
    end_time_in_minutes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkInterruption:
    """A stored work interruption; ``deleted`` marks a tombstone that keeps only id and version."""

    id: int
    person_id: int
    date: dt.date
    duration_in_minutes: int
    start_time_in_minutes: int
    end_time_in_minutes: int
    change_version: int
    deleted: bool = False


Stored = TypeVar("Stored", Person, WorkInterruption)


def live(found: Stored | None) -> Stored | None:
    """A stored person or work interruption while it is live; None when nothing was found
    or what was found is a tombstone (a deleted record is gone for every reader and writer).
    """
    return None if found is None or found.deleted else found


def parse_date(text: str, *, field: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` calendar date or raise ``InvalidRecordError`` naming ``field``."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise InvalidRecordError(
            f"{field} must be a date as YYYY-MM-DD",
            reasons=(f"{field}: {text!r} is not a date in the form YYYY-MM-DD",),
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRecordError(
            f"{field} must be a valid calendar date",
            reasons=(f"{field}: {text!r} is not a valid calendar date",),
        ) from exc


def _check_id(value: int, field: str, reasons: list[str]) -> None:
    if not 1 <= value <= MAX_RECORD_ID:
        reasons.append(f"{field}: must be a positive integer of at most {MAX_RECORD_ID}")


def _check_minutes(value: int, field: str, reasons: list[str]) -> None:
    if not 0 <= value <= MINUTES_PER_DAY:
        reasons.append(f"{field}: {value} is outside a day (0 to {MINUTES_PER_DAY} minutes)")


def validate_work_interruption(draft: WorkInterruptionDraft) -> None:
    """Check the business rules of a work interruption; raise ``InvalidRecordError`` with reasons.

    Rules: positive ids; start and end are minutes since midnight within one day, end not
    before start; the duration is between 0 and one day.
    """
    reasons: list[str] = []
    _check_id(draft.id, "id", reasons)
    _check_id(draft.person_id, "person.id", reasons)
    _check_minutes(draft.start_time_in_minutes, "startTimeInMinutes", reasons)
    _check_minutes(draft.end_time_in_minutes, "endTimeInMinutes", reasons)
    if draft.end_time_in_minutes < draft.start_time_in_minutes:
        reasons.append("endTimeInMinutes: must not be before startTimeInMinutes")
    if draft.duration_in_minutes < 0:
        reasons.append("durationInMinutes: must not be negative")
    elif draft.duration_in_minutes > MINUTES_PER_DAY:
        reasons.append(f"durationInMinutes: must be at most {MINUTES_PER_DAY} (one day)")
    if reasons:
        raise InvalidRecordError("The work interruption is not valid", reasons=tuple(reasons))


def validate_person(draft: PersonDraft) -> None:
    """Check the business rules of a person; raise ``InvalidRecordError`` with reasons."""
    reasons: list[str] = []
    _check_id(draft.id, "id", reasons)
    for field, value in (
        ("badgeNumber", draft.badge_number),
        ("employeeNumber", draft.employee_number),
    ):
        if value is not None and not is_acceptable_value(value):
            reasons.append(
                f"{field}: at most {MAX_REFERENCE_VALUE_LENGTH} characters, no control characters"
            )
    if reasons:
        raise InvalidRecordError("The person is not valid", reasons=tuple(reasons))
