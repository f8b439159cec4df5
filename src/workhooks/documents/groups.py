"""Documents of org-groups and circles: the groups behind ``person in org-group(...)`` and
``person in circle(...)``."""

from __future__ import annotations

from workhooks.documents.base import Document
from workhooks.domain.groups import PersonGroup

__all__ = [
    "Circle",
    "OrgGroup",
    "OrgGroupRef",
    "PersonRef",
    "circle_document",
    "org_group_document",
]


class PersonRef(Document):
    """A person by id."""

    id: int


class OrgGroupRef(Document):
    """An org-group by id."""

    id: int


class OrgGroup(Document):
    """An org-group: ``person in org-group(id)`` selects its people and those of the groups
    below it."""

    id: int
    name: str
    parent: OrgGroupRef | None
    people: list[PersonRef]


class Circle(Document):
    """A circle: ``person in circle(id)`` selects its people."""

    id: int
    name: str
    people: list[PersonRef]


def _people(group: PersonGroup) -> list[PersonRef]:
    return [PersonRef(id=pid) for pid in sorted(group.people)]


def org_group_document(group: PersonGroup) -> OrgGroup:
    """The document of an org-group: its parent (null at the top) and people, by id."""
    parent = None if group.parent_id is None else OrgGroupRef(id=group.parent_id)
    return OrgGroup(id=group.id, name=group.name, parent=parent, people=_people(group))


def circle_document(group: PersonGroup) -> Circle:
    """The document of a circle: its people, by id."""
    return Circle(id=group.id, name=group.name, people=_people(group))
