"""The wire documents of records and change events (contract B5).

A delivery's ``data`` is exactly what ``GET /work-interruptions/{id}`` returns, so both
are built here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from workhooks.domain.change_version import format_version
from workhooks.domain.records import WorkInterruption

__all__ = [
    "TEST_CHANGE_TYPE",
    "ChangeType",
    "delete_document",
    "document_of_test_event",
    "event_document",
    "work_interruption_document",
]

TEST_CHANGE_TYPE = "Test"
"""The ``changeType`` of a test event: no record changed, nothing to apply."""


class ChangeType(StrEnum):
    """The kinds of change items and events."""

    INSERT_OR_UPDATE = "InsertOrUpdate"
    DELETE = "Delete"


def work_interruption_document(
    record: WorkInterruption, *, person_references: dict[str, str] | None = None
) -> dict[str, Any]:
    """Return the JSON document of a live work interruption."""
    person: dict[str, Any] = {"id": record.person_id}
    if person_references is not None:
        person["externalReferences"] = person_references
    return {
        "changeVersion": format_version(record.change_version),
        "id": record.id,
        "person": person,
        "date": record.date.isoformat(),
        "durationInMinutes": record.duration_in_minutes,
        "startTimeInMinutes": record.start_time_in_minutes,
        "endTimeInMinutes": record.end_time_in_minutes,
    }


def delete_document(record: WorkInterruption) -> dict[str, Any]:
    """A ``Delete`` item for a record: only its version and id."""
    return {
        "changeType": ChangeType.DELETE.value,
        "data": {"changeVersion": format_version(record.change_version), "id": record.id},
    }


def event_document(
    record: WorkInterruption, *, person_references: dict[str, str] | None = None
) -> dict[str, Any]:
    """Return the change event for a record: ``InsertOrUpdate`` with the record, or ``Delete``."""
    if record.deleted:
        return delete_document(record)
    return {
        "changeType": ChangeType.INSERT_OR_UPDATE.value,
        "data": work_interruption_document(record, person_references=person_references),
    }


def document_of_test_event(*, webhook_id: str, collection: str, sent_at: str) -> dict[str, Any]:
    """The body of a test event: marked ``Test``, naming its webhook, with an example event.

    ``example`` shows the shape of a real event of the collection; it is not a record of the
    tenant, and a consumer applies nothing from a test event.
    """
    example = {
        "changeType": ChangeType.INSERT_OR_UPDATE.value,
        "data": {
            "changeVersion": "0000000000000000002A",
            "id": 42,
            "person": {"id": 7},
            "date": "2025-01-06",
            "durationInMinutes": 30,
            "startTimeInMinutes": 720,
            "endTimeInMinutes": 750,
        },
    }
    return {
        "changeType": TEST_CHANGE_TYPE,
        "data": {
            "webhookId": webhook_id,
            "collectionName": collection,
            "sentAt": sent_at,
            "message": "A test event sent on request: no record changed, apply nothing.",
            "example": example,
        },
    }
