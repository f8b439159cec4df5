"""The wire documents of ``workhooks.documents``: what they render, byte for byte, and that the
same Struct reads back what it wrote (it is the schema too)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from workhooks import documents
from workhooks.documents import (
    DeleteItem,
    UpsertItem,
    error_body,
    event_document,
    work_interruption_document,
)
from workhooks.documents.base import instant, instant_ms
from workhooks.domain.change_version import MAX_CHANGE_VERSION
from workhooks.domain.records import MAX_RECORD_ID, MINUTES_PER_DAY, WorkInterruption

RECORD_KEYS = [
    "changeVersion",
    "id",
    "person",
    "date",
    "durationInMinutes",
    "startTimeInMinutes",
    "endTimeInMinutes",
]

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
REFERENCES = st.one_of(st.none(), st.dictionaries(st.text(max_size=8), st.text(max_size=8)))

encode = msgspec.json.encode


def _wire(record: WorkInterruption, references: dict[str, str] | None) -> dict[str, Any]:
    """The contract's document of a record, written out by hand."""
    person: dict[str, Any] = {"id": record.person_id}
    if references is not None:
        person["externalReferences"] = references
    return {
        "changeVersion": f"{record.change_version:020X}",
        "id": record.id,
        "person": person,
        "date": record.date.isoformat(),
        "durationInMinutes": record.duration_in_minutes,
        "startTimeInMinutes": record.start_time_in_minutes,
        "endTimeInMinutes": record.end_time_in_minutes,
    }


def test_record_document_is_the_documented_bytes() -> None:
    """A live record encodes to the documented fields, in order, with wire-formatted values."""
    assert encode(work_interruption_document(RECORD)) == (
        b'{"changeVersion":"0000000000000000002A","id":42,"person":{"id":7},'
        b'"date":"2024-03-01","durationInMinutes":30,"startTimeInMinutes":480,'
        b'"endTimeInMinutes":510}'
    )


def test_person_references_appear_only_when_asked_for() -> None:
    """Without references the person has no ``externalReferences`` at all (not null)."""
    plain = json.loads(encode(work_interruption_document(RECORD)))
    asked = json.loads(encode(work_interruption_document(RECORD, person_references={})))
    assert plain["person"] == {"id": 7}
    assert asked["person"] == {"id": 7, "externalReferences": {}}


def test_tombstone_event_is_delete_with_only_version_and_id() -> None:
    """A tombstone's event carries its change type first, then only its version and id."""
    tomb = dataclasses.replace(RECORD, change_version=0x2B, deleted=True)
    expected = b'{"changeType":"Delete","data":{"changeVersion":"0000000000000000002B","id":42}}'
    assert encode(event_document(tomb)) == expected
    assert encode(event_document(tomb, person_references={"payroll": "P-7"})) == expected


def test_live_event_wraps_the_get_document() -> None:
    """The event of a live record is ``InsertOrUpdate`` around exactly its GET document."""
    references = {"hr": "H-1"}
    event = event_document(RECORD, person_references=references)
    document = work_interruption_document(RECORD, person_references=references)
    assert encode(event) == b'{"changeType":"InsertOrUpdate","data":' + encode(document) + b"}"


@given(RECORDS, REFERENCES)
def test_events_are_the_contract_documents(
    record: WorkInterruption, references: dict[str, str] | None
) -> None:
    """Every event encodes to the contract's shape, keys in order, and reads back as itself."""
    body = encode(event_document(record, person_references=references))
    decoded = json.loads(body)
    if record.deleted:
        assert list(decoded) == ["changeType", "data"]
        assert decoded["data"] == {
            "changeVersion": f"{record.change_version:020X}",
            "id": record.id,
        }
    else:
        assert decoded == {"changeType": "InsertOrUpdate", "data": _wire(record, references)}
        assert list(decoded["data"]) == RECORD_KEYS
    again = msgspec.json.decode(body, type=UpsertItem | DeleteItem)
    assert encode(again) == body


def test_error_body_leaves_out_empty_reasons() -> None:
    """A Protime error body has ``reasons`` only when there are some."""
    assert encode(error_body("NotFound", "gone")) == (
        b'{"error":{"code":"NotFound","message":"gone"}}'
    )
    assert encode(error_body("InvalidFilter", "bad", ("filter: x",))) == (
        b'{"error":{"code":"InvalidFilter","message":"bad","reasons":["filter: x"]}}'
    )


def test_times_keep_their_offset_as_python_writes_it() -> None:
    """Times are written with ``+00:00`` (not ``Z``); delivery times to the millisecond."""
    at = dt.datetime(2026, 3, 2, 10, 0, 5, 250_000, tzinfo=dt.UTC)
    assert instant(at) == "2026-03-02T10:00:05.250000+00:00"
    assert instant_ms(at) == "2026-03-02T10:00:05.250+00:00"
    assert instant_ms(None) is None


def test_the_package_exports_every_document_and_renderer() -> None:
    """``__all__`` names exactly the public Structs and ``*_document`` functions of the modules."""
    modules = ("auth", "console", "errors", "groups", "records", "webhooks")
    public = {
        name
        for module in modules
        for name in __import__(f"workhooks.documents.{module}", fromlist=["_"]).__all__
    }
    assert set(documents.__all__) == public | {"Document"}
    for name in documents.__all__:
        value = getattr(documents, name)
        assert callable(value) or isinstance(value, type) or name == "OAuthErrorName", name


def test_every_example_of_a_document_reads_as_that_document() -> None:
    """Each OpenAPI example named after a document decodes into its Struct and encodes back."""
    from workhooks.api.openapi_examples import EXAMPLES

    checked = 0
    for name, example in EXAMPLES.items():
        shape = getattr(documents, name, None)
        if not (isinstance(shape, type) and issubclass(shape, documents.Document)):
            continue
        body = encode(example)
        assert json.loads(encode(msgspec.json.decode(body, type=shape))) == example, name
        checked += 1
    assert checked >= 30
