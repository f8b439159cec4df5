"""Tests for the wire documents of records and change events in ``workhooks.domain.events``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.change_version import MAX_CHANGE_VERSION, parse_version
from workhooks.domain.events import ChangeType, event_document, work_interruption_document
from workhooks.domain.records import MAX_RECORD_ID, MINUTES_PER_DAY, WorkInterruption

RECORD_KEYS = {
    "changeVersion",
    "id",
    "person",
    "date",
    "durationInMinutes",
    "startTimeInMinutes",
    "endTimeInMinutes",
}

RECORD = WorkInterruption(
    id=42,
    person_id=7,
    date=dt.date(2024, 3, 1),
    duration_in_minutes=30,
    start_time_in_minutes=480,
    end_time_in_minutes=510,
    change_version=0x2A,
)

RECORDS = st.builds(
    WorkInterruption,
    id=st.integers(min_value=1, max_value=MAX_RECORD_ID),
    person_id=st.integers(min_value=1, max_value=MAX_RECORD_ID),
    date=st.dates(),
    duration_in_minutes=st.integers(min_value=0, max_value=MINUTES_PER_DAY),
    start_time_in_minutes=st.integers(min_value=0, max_value=MINUTES_PER_DAY),
    end_time_in_minutes=st.integers(min_value=0, max_value=MINUTES_PER_DAY),
    change_version=st.integers(min_value=1, max_value=MAX_CHANGE_VERSION),
    deleted=st.booleans(),
)


def test_change_types_are_the_wire_strings() -> None:
    """The change types compare equal to the strings the contract uses."""
    assert {c.name: c.value for c in ChangeType} == {
        "INSERT_OR_UPDATE": "InsertOrUpdate",
        "DELETE": "Delete",
    }


def test_record_document_has_exactly_the_documented_fields() -> None:
    """A live record renders to the documented keys with wire-formatted values."""
    assert work_interruption_document(RECORD) == {
        "changeVersion": "0000000000000000002A",
        "id": 42,
        "person": {"id": 7},
        "date": "2024-03-01",
        "durationInMinutes": 30,
        "startTimeInMinutes": 480,
        "endTimeInMinutes": 510,
    }


def test_record_document_carries_person_references_when_given() -> None:
    """External references of the person appear under ``person.externalReferences`` only."""
    references = {"payroll": "P-7"}
    document = work_interruption_document(RECORD, person_references=references)
    assert document["person"] == {"id": 7, "externalReferences": {"payroll": "P-7"}}
    assert set(document) == RECORD_KEYS


def test_live_record_event_is_insert_or_update_with_the_record_document() -> None:
    """The event of a live record wraps exactly the record's GET document."""
    event = event_document(RECORD)
    assert event == {"changeType": "InsertOrUpdate", "data": work_interruption_document(RECORD)}
    assert set(event["data"]) == RECORD_KEYS


def test_live_record_event_passes_person_references_through() -> None:
    """References given to the event end up in its data, as in the GET document."""
    references = {"hr": "H-1"}
    event = event_document(RECORD, person_references=references)
    assert event["data"] == work_interruption_document(RECORD, person_references=references)
    assert event["data"]["person"]["externalReferences"] == references


def test_tombstone_event_is_delete_with_only_version_and_id() -> None:
    """A tombstone's event carries only its change version and id, whatever else is set."""
    tomb = dataclasses.replace(RECORD, change_version=0x2B, deleted=True)
    expected = {"changeType": "Delete", "data": {"changeVersion": "0000000000000000002B", "id": 42}}
    assert event_document(tomb) == expected
    assert event_document(tomb, person_references={"payroll": "P-7"}) == expected


@given(RECORDS)
def test_events_are_json_and_carry_the_record_version(record: WorkInterruption) -> None:
    """Every event survives a JSON round trip and names the record's id and version."""
    event = event_document(record)
    assert json.loads(json.dumps(event)) == event
    assert event["changeType"] == ("Delete" if record.deleted else "InsertOrUpdate")
    assert event["data"]["id"] == record.id
    assert parse_version(event["data"]["changeVersion"]) == record.change_version
    assert set(event["data"]) == ({"changeVersion", "id"} if record.deleted else RECORD_KEYS)
