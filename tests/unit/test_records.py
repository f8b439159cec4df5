"""Tests for the record rules in ``workhooks.domain.records``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.records import (
    MAX_RECORD_ID,
    MINUTES_PER_DAY,
    Person,
    PersonDraft,
    WorkInterruption,
    WorkInterruptionDraft,
    live,
    parse_date,
    validate_person,
    validate_work_interruption,
)
from workhooks.errors import InvalidRecordError

WORK_INTERRUPTION_FIELDS = (
    "id",
    "person.id",
    "startTimeInMinutes",
    "endTimeInMinutes",
    "durationInMinutes",
)

VALID = WorkInterruptionDraft(
    id=1,
    person_id=2,
    date=dt.date(2024, 3, 1),
    duration_in_minutes=30,
    start_time_in_minutes=480,
    end_time_in_minutes=510,
)


def reasons_of(draft: WorkInterruptionDraft) -> tuple[str, ...]:
    """Return the reasons validation gives for ``draft`` (empty when it is valid)."""
    try:
        validate_work_interruption(draft)
    except InvalidRecordError as exc:
        return exc.reasons
    return ()


def names_a_field(reason: str, fields: tuple[str, ...]) -> bool:
    """Tell whether ``reason`` starts with one of ``fields`` followed by a colon."""
    return any(reason.startswith(f"{field}: ") for field in fields)


# -- parse_date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("0001-01-01", dt.date(1, 1, 1)),
        ("9999-12-31", dt.date(9999, 12, 31)),
    ],
)
def test_parse_date_accepts_calendar_dates(text: str, expected: dt.date) -> None:
    """A ``YYYY-MM-DD`` calendar date parses to that date."""
    assert parse_date(text, field="date") == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-1-01",
        "2024-01-1",
        "24-01-01",
        "2024/01/01",
        "20240101",
        "",
        "2024-01-01T00:00",
        " 2024-01-01",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-01-0a",
        "2024-01-٠١",
        "２０２４-01-01",
    ],
)
def test_parse_date_refuses_other_forms_and_names_the_field(text: str) -> None:
    """Anything but a valid ``YYYY-MM-DD`` date raises, with a reason naming the field."""
    with pytest.raises(InvalidRecordError) as caught:
        parse_date(text, field="dateFrom")
    assert caught.value.reasons
    assert all(reason.startswith("dateFrom: ") for reason in caught.value.reasons)
    assert "dateFrom" in caught.value.message


@given(st.dates())
def test_parse_date_round_trips_iso_dates(date: dt.date) -> None:
    """Every date's ISO form parses back to the same date."""
    assert parse_date(date.isoformat(), field="date") == date


# -- validate_work_interruption --------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"id": 1, "person_id": MAX_RECORD_ID},
        {"id": MAX_RECORD_ID},
        {"start_time_in_minutes": 0, "end_time_in_minutes": MINUTES_PER_DAY},
        {"start_time_in_minutes": 600, "end_time_in_minutes": 600},
        {"duration_in_minutes": 0},
        {"duration_in_minutes": MINUTES_PER_DAY},
    ],
)
def test_valid_work_interruptions_pass(changes: dict[str, Any]) -> None:
    """Drafts within every bound, boundaries included, are accepted."""
    assert reasons_of(dataclasses.replace(VALID, **changes)) == ()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": 0}, "id"),
        ({"id": -1}, "id"),
        ({"id": 2**63}, "id"),
        ({"person_id": 0}, "person.id"),
        ({"person_id": 2**63}, "person.id"),
        ({"start_time_in_minutes": -1}, "startTimeInMinutes"),
        ({"start_time_in_minutes": 1441, "end_time_in_minutes": 1441}, "startTimeInMinutes"),
        ({"end_time_in_minutes": 1441}, "endTimeInMinutes"),
        ({"start_time_in_minutes": 0, "end_time_in_minutes": -1}, "endTimeInMinutes"),
        ({"start_time_in_minutes": 600, "end_time_in_minutes": 599}, "endTimeInMinutes"),
        ({"duration_in_minutes": -1}, "durationInMinutes"),
        ({"duration_in_minutes": 1441}, "durationInMinutes"),
    ],
)
def test_invalid_work_interruptions_name_the_broken_field(
    changes: dict[str, Any], field: str
) -> None:
    """Each broken rule is reported, and every reason starts with the field it concerns."""
    reasons = reasons_of(dataclasses.replace(VALID, **changes))
    assert reasons
    assert all(names_a_field(reason, WORK_INTERRUPTION_FIELDS) for reason in reasons)
    assert any(reason.startswith(f"{field}: ") for reason in reasons)


def test_every_broken_rule_is_reported_at_once() -> None:
    """Validation collects all reasons instead of stopping at the first."""
    draft = WorkInterruptionDraft(
        id=0,
        person_id=0,
        date=dt.date(2024, 3, 1),
        duration_in_minutes=-1,
        start_time_in_minutes=1441,
        end_time_in_minutes=-1,
    )
    named = {reason.split(": ", 1)[0] for reason in reasons_of(draft)}
    assert named == set(WORK_INTERRUPTION_FIELDS)


@given(
    record_id=st.integers(min_value=1, max_value=MAX_RECORD_ID),
    person_id=st.integers(min_value=1, max_value=MAX_RECORD_ID),
    start=st.integers(min_value=0, max_value=MINUTES_PER_DAY),
    length=st.integers(min_value=0, max_value=MINUTES_PER_DAY),
    duration=st.integers(min_value=0, max_value=MINUTES_PER_DAY),
)
def test_drafts_within_bounds_are_valid(
    record_id: int, person_id: int, start: int, length: int, duration: int
) -> None:
    """Any draft with ids, times and duration inside their ranges is accepted."""
    draft = dataclasses.replace(
        VALID,
        id=record_id,
        person_id=person_id,
        start_time_in_minutes=start,
        end_time_in_minutes=min(start + length, MINUTES_PER_DAY),
        duration_in_minutes=duration,
    )
    assert reasons_of(draft) == ()


@given(
    record_id=st.integers(),
    person_id=st.integers(),
    start=st.integers(),
    end=st.integers(),
    duration=st.integers(),
)
def test_any_reason_names_a_field(
    record_id: int, person_id: int, start: int, end: int, duration: int
) -> None:
    """Whatever the numbers, a draft is refused exactly when a rule breaks, naming the fields."""
    draft = dataclasses.replace(
        VALID,
        id=record_id,
        person_id=person_id,
        start_time_in_minutes=start,
        end_time_in_minutes=end,
        duration_in_minutes=duration,
    )
    day = range(MINUTES_PER_DAY + 1)
    valid = (
        1 <= record_id <= MAX_RECORD_ID
        and 1 <= person_id <= MAX_RECORD_ID
        and start in day
        and end in day
        and duration in day
        and start <= end
    )
    reasons = reasons_of(draft)
    assert bool(reasons) is not valid
    assert all(names_a_field(reason, WORK_INTERRUPTION_FIELDS) for reason in reasons)


# -- validate_person -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    [
        PersonDraft(id=1),
        PersonDraft(id=MAX_RECORD_ID, badge_number="", employee_number="E-1"),
        PersonDraft(id=5, badge_number="b" * 256, employee_number="e" * 256),
    ],
)
def test_valid_people_pass(draft: PersonDraft) -> None:
    """People with an id in range and references of at most 256 characters are accepted."""
    validate_person(draft)


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (PersonDraft(id=0), "id"),
        (PersonDraft(id=2**63), "id"),
        (PersonDraft(id=1, badge_number="b" * 257), "badgeNumber"),
        (PersonDraft(id=1, employee_number="e" * 257), "employeeNumber"),
    ],
)
def test_invalid_people_name_the_broken_field(draft: PersonDraft, field: str) -> None:
    """A broken person rule raises with a reason that starts with the field."""
    with pytest.raises(InvalidRecordError) as caught:
        validate_person(draft)
    assert [reason.split(": ", 1)[0] for reason in caught.value.reasons] == [field]


PERSON = Person(id=7, badge_number="B7", employee_number=None, change_version=3)
RECORD = WorkInterruption(
    id=1,
    person_id=7,
    date=dt.date(2024, 3, 1),
    duration_in_minutes=30,
    start_time_in_minutes=480,
    end_time_in_minutes=510,
    change_version=4,
)


@pytest.mark.parametrize("found", [PERSON, RECORD])
def test_a_live_person_or_record_is_itself(found: Any) -> None:
    """What was found and is not a tombstone is live, as it is."""
    assert live(found) is found


@pytest.mark.parametrize("found", [PERSON, RECORD])
def test_a_tombstone_is_not_live(found: Any) -> None:
    """A deleted person or work interruption counts as absent."""
    assert live(dataclasses.replace(found, deleted=True)) is None


def test_nothing_found_is_not_live() -> None:
    """An id never written is not live either."""
    assert live(None) is None
