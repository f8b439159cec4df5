"""Wire schemas of request bodies (msgspec Structs); the answers are ``workhooks.documents``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException

from workhooks.domain.groups import GroupKind, PersonGroup
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft, parse_date
from workhooks.errors import InvalidRecordError

__all__ = [
    "ApiClientIn",
    "CircleIn",
    "OrgGroupIn",
    "PersonBatchIn",
    "PersonIn",
    "PersonRefIn",
    "ReferenceValueIn",
    "WebhookIn",
    "WorkInterruptionBatchIn",
    "WorkInterruptionIn",
    "check_body_types",
]


def _require_id(value: int | None) -> int:
    if value is None:
        raise InvalidRecordError(
            "Every record of a batch needs an id", reasons=("id: is required",)
        )
    return value


class PersonRefIn(msgspec.Struct, frozen=True):
    """``{"id": <person id>}``."""

    id: int


class WorkInterruptionIn(msgspec.Struct, frozen=True):
    """The body of ``PUT /work-interruptions/{id}``; ``id`` may be given and must match."""

    person: PersonRefIn
    date: str
    durationInMinutes: int
    startTimeInMinutes: int
    endTimeInMinutes: int
    id: int | None = None

    def draft(self, record_id: int | None = None) -> WorkInterruptionDraft:
        """Convert to a domain draft (checking the date); ``record_id`` defaults to ``id``."""
        record_id = _require_id(record_id if record_id is not None else self.id)
        return WorkInterruptionDraft(
            id=record_id,
            person_id=self.person.id,
            date=parse_date(self.date, field="date"),
            duration_in_minutes=self.durationInMinutes,
            start_time_in_minutes=self.startTimeInMinutes,
            end_time_in_minutes=self.endTimeInMinutes,
        )


class WorkInterruptionBatchIn(msgspec.Struct, frozen=True):
    """``{"value": [...]}``: up to 1,000 work interruptions upserted atomically."""

    value: list[WorkInterruptionIn]


class PersonIn(msgspec.Struct, frozen=True):
    """The body of ``PUT /people/{id}``."""

    badgeNumber: str | None = None
    employeeNumber: str | None = None
    id: int | None = None

    def draft(self, person_id: int | None = None) -> PersonDraft:
        """Convert to a domain draft; ``person_id`` defaults to ``id``."""
        person_id = _require_id(person_id if person_id is not None else self.id)
        return PersonDraft(
            id=person_id, badge_number=self.badgeNumber, employee_number=self.employeeNumber
        )


class PersonBatchIn(msgspec.Struct, frozen=True):
    """``{"value": [...]}``: up to 1,000 people upserted atomically."""

    value: list[PersonIn]


class ReferenceValueIn(msgspec.Struct, frozen=True):
    """The body of ``PUT /people/{id}/external-references/{key}``."""

    value: str


class OrgGroupIn(msgspec.Struct, frozen=True):
    """The body of ``PUT /org-groups/{id}``: its name, parent (none at the top of the tree)
    and people (all of them: the list replaces the group's people)."""

    name: str
    parent: PersonRefIn | None = None
    people: list[PersonRefIn] = msgspec.field(default_factory=list)

    def group(self, group_id: int) -> PersonGroup:
        """The domain group."""
        return PersonGroup(
            kind=GroupKind.ORG_GROUP,
            id=group_id,
            name=self.name,
            parent_id=None if self.parent is None else self.parent.id,
            people=frozenset(p.id for p in self.people),
        )


class CircleIn(msgspec.Struct, frozen=True):
    """The body of ``PUT /circles/{id}``: its name and people (the list replaces them all)."""

    name: str
    people: list[PersonRefIn] = msgspec.field(default_factory=list)

    def group(self, group_id: int) -> PersonGroup:
        """The domain group."""
        return PersonGroup(
            kind=GroupKind.CIRCLE,
            id=group_id,
            name=self.name,
            people=frozenset(p.id for p in self.people),
        )


class WebhookIn(msgspec.Struct, frozen=True):
    """The body of ``POST /webhooks``."""

    destinationUrl: str
    collectionName: str


class ApiClientIn(msgspec.Struct, frozen=True):
    """The body of ``POST /operator/clients``: the tenant and scope names (``all`` allowed)."""

    tenant: str
    scopes: list[str]


async def check_body_types(request: Request[Any, Any, Any]) -> None:
    """Reject a JSON body whose values have the wrong JSON type, before Litestar converts it.

    Litestar converts bodies with ``strict=False``, which silently turns ``"5"`` into ``5``;
    the Protime contract wants a 400 ``validationErrors`` for a wrong type instead.
    """
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return
    try:
        raw = await request.json()
    except SerializationException:
        return  # malformed JSON: Litestar's own body parsing reports it
    except (UnicodeDecodeError, RecursionError) as exc:
        # msgspec raises these past Litestar's own handling: invalid UTF-8 in a string,
        # and nesting deeper than the decoder follows (Python's recursion limit).
        problem = "not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else "nested too deeply"
        raise ValidationException(
            detail="Validation failed",
            extra=[{"key": "", "message": f"the JSON body is {problem}", "source": "body"}],
        ) from exc
    try:
        msgspec.convert(raw, field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        key = where.rstrip("`").lstrip(".")
        raise ValidationException(
            detail="Validation failed", extra=[{"key": key, "message": message, "source": "body"}]
        ) from exc
