"""Documents of the collections: work interruptions, people, their pages and change items.

A webhook event is exactly a delta item (contract B5): ``UpsertItem`` carries the record as
``GET /work-interruptions/{id}`` returns it, ``DeleteItem`` only its version and id; the
``changeType`` tag is written first. A test event (``WebhookTestEvent``, sent on request) is
marked ``Test`` and carries no record of the tenant, only an example of a real event.
"""

from __future__ import annotations

import datetime as dt

from msgspec import UNSET, UnsetType

from workhooks.documents.base import Document
from workhooks.domain.change_version import format_version
from workhooks.domain.records import Person as PersonRecord
from workhooks.domain.records import WorkInterruption as WorkInterruptionRecord

__all__ = [
    "DeleteItem",
    "DeletedRecord",
    "DeltaPage",
    "Person",
    "PersonBatch",
    "PersonOfRecord",
    "PersonReferences",
    "UpsertItem",
    "WebhookTestEvent",
    "WebhookTestEventData",
    "WorkInterruption",
    "WorkInterruptionBatch",
    "WorkInterruptionPage",
    "delete_item",
    "document_of_test_event",
    "event_document",
    "person_document",
    "work_interruption_document",
]

TEST_CHANGE_TYPE = "Test"
"""The ``changeType`` of a test event: no record changed, nothing to apply."""


class PersonOfRecord(Document):
    """The person of a work interruption; ``externalReferences`` only when asked for."""

    id: int
    externalReferences: dict[str, str] | UnsetType = UNSET


class WorkInterruption(Document):
    """A work interruption (also the ``data`` of an ``InsertOrUpdate`` event)."""

    changeVersion: str
    id: int
    person: PersonOfRecord
    date: dt.date
    durationInMinutes: int
    startTimeInMinutes: int
    endTimeInMinutes: int


class WorkInterruptionPage(Document):
    """A page: follow ``nextLink`` until it is absent; a delta walk ends with ``deltaLink``."""

    value: list[WorkInterruption]
    nextLink: str | UnsetType = UNSET
    deltaLink: str | UnsetType = UNSET


class DeletedRecord(Document):
    """What a ``Delete`` item or event carries."""

    changeVersion: str
    id: int


class UpsertItem(Document, tag_field="changeType", tag="InsertOrUpdate"):
    """A record inserted or updated since the token."""

    data: WorkInterruption


class DeleteItem(Document, tag_field="changeType", tag="Delete"):
    """A record deleted since the token, or moved out of the synced date range."""

    data: DeletedRecord


class WebhookTestEventData(Document):
    """What a test event carries: its webhook, when it was sent, and an example event.

    ``example`` shows the shape of a real event of the collection; it is not a record of the
    tenant, and a consumer applies nothing from a test event.
    """

    webhookId: str
    collectionName: str
    sentAt: str
    message: str
    example: UpsertItem


class WebhookTestEvent(Document, tag_field="changeType", tag=TEST_CHANGE_TYPE):
    """The body of a test event: marked ``Test``, naming its webhook, with an example event."""

    data: WebhookTestEventData


class DeltaPage(Document):
    """Changes since the delta token; ``nextLink`` when more follow now, else ``deltaLink``."""

    value: list[UpsertItem | DeleteItem]
    nextLink: str | UnsetType = UNSET
    deltaLink: str | UnsetType = UNSET


class WorkInterruptionBatch(Document):
    """The records of a batch, as stored."""

    value: list[WorkInterruption]


class Person(Document):
    """A person."""

    changeVersion: str
    id: int
    badgeNumber: str | None
    employeeNumber: str | None


class PersonBatch(Document):
    """The people of a batch, as stored."""

    value: list[Person]


class PersonReferences(Document):
    """A person's custom external references by key."""

    externalReferences: dict[str, str]


def work_interruption_document(
    record: WorkInterruptionRecord, *, person_references: dict[str, str] | None = None
) -> WorkInterruption:
    """The document of a live work interruption; the person's references when given."""
    person = (
        PersonOfRecord(id=record.person_id)
        if person_references is None
        else PersonOfRecord(id=record.person_id, externalReferences=person_references)
    )
    return WorkInterruption(
        changeVersion=format_version(record.change_version),
        id=record.id,
        person=person,
        date=record.date,
        durationInMinutes=record.duration_in_minutes,
        startTimeInMinutes=record.start_time_in_minutes,
        endTimeInMinutes=record.end_time_in_minutes,
    )


def delete_item(record: WorkInterruptionRecord) -> DeleteItem:
    """A ``Delete`` item for a record: only its version and id."""
    return DeleteItem(
        data=DeletedRecord(changeVersion=format_version(record.change_version), id=record.id)
    )


def event_document(
    record: WorkInterruptionRecord, *, person_references: dict[str, str] | None = None
) -> UpsertItem | DeleteItem:
    """The change event of a record: ``InsertOrUpdate`` with its document, or ``Delete``."""
    if record.deleted:
        return delete_item(record)
    return UpsertItem(data=work_interruption_document(record, person_references=person_references))


def person_document(person: PersonRecord) -> Person:
    """The document of a person."""
    return Person(
        changeVersion=format_version(person.change_version),
        id=person.id,
        badgeNumber=person.badge_number,
        employeeNumber=person.employee_number,
    )


_EXAMPLE = UpsertItem(
    data=WorkInterruption(
        changeVersion="0000000000000000002A",
        id=42,
        person=PersonOfRecord(id=7),
        date=dt.date(2025, 1, 6),
        durationInMinutes=30,
        startTimeInMinutes=720,
        endTimeInMinutes=750,
    )
)


def document_of_test_event(*, webhook_id: str, collection: str, sent_at: str) -> WebhookTestEvent:
    """The body of a test event of ``webhook_id``, sent at ``sent_at``."""
    return WebhookTestEvent(
        data=WebhookTestEventData(
            webhookId=webhook_id,
            collectionName=collection,
            sentAt=sent_at,
            message="A test event sent on request: no record changed, apply nothing.",
            example=_EXAMPLE,
        )
    )
