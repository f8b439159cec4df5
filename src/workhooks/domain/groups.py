"""Org-groups and circles: the named groups of people ``person in org-group(...)`` and
``person in circle(...)`` select.

Our reading where the public Protime docs are silent: an org-group is a node of the
tenant's organisation tree (an optional parent org-group) holding people, and
``org-group(x)`` selects the people of ``x`` and of every group below it; a circle is a
named set of people, without a tree. A person may be in several groups of either kind.
Members are person ids; an id without a live person simply selects nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from workhooks.domain.records import MAX_RECORD_ID
from workhooks.errors import ConflictError, InvalidRecordError

__all__ = [
    "MAX_GROUP_MEMBERS",
    "MAX_GROUP_NAME_LENGTH",
    "GroupKind",
    "PersonGroup",
    "check_parent",
    "group_has_subgroups",
    "group_in_a_cycle",
    "unknown_parent",
    "validate_group",
]

MAX_GROUP_MEMBERS = 10_000
MAX_GROUP_NAME_LENGTH = 256


class GroupKind(StrEnum):
    """The kinds of groups; values are the list names of the filter (``org-group(...)``)."""

    ORG_GROUP = "org-group"
    CIRCLE = "circle"


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonGroup:
    """An org-group (with an optional ``parent_id``) or a circle, and the people in it."""

    kind: GroupKind
    id: int
    name: str
    parent_id: int | None = None
    people: frozenset[int] = frozenset()


def validate_group(group: PersonGroup) -> None:
    """Check a group's own rules; raise ``InvalidRecordError`` with every reason.

    Rules: positive ids; a name of 1 to 256 characters, not blank; only org-groups have a
    parent, and never themselves; at most ``MAX_GROUP_MEMBERS`` people.
    """
    reasons: list[str] = []
    for field, value in (("id", group.id), ("parent.id", group.parent_id)):
        if value is not None and not 1 <= value <= MAX_RECORD_ID:
            reasons.append(f"{field}: must be a positive integer of at most {MAX_RECORD_ID}")
    if not group.name.strip() or len(group.name) > MAX_GROUP_NAME_LENGTH:
        reasons.append(f"name: 1 to {MAX_GROUP_NAME_LENGTH} characters, not blank")
    if group.parent_id is not None and group.kind is not GroupKind.ORG_GROUP:
        reasons.append("parent: only org-groups have a parent")
    if group.parent_id == group.id:
        reasons.append("parent.id: an org-group cannot be its own parent")
    if len(group.people) > MAX_GROUP_MEMBERS:
        reasons.append(f"people: at most {MAX_GROUP_MEMBERS} people per group")
    reasons.extend(
        f"people: {pid} is not a valid person id"
        for pid in sorted(group.people)
        if not 1 <= pid <= MAX_RECORD_ID
    )
    if reasons:
        raise InvalidRecordError(f"The {group.kind.value} is not valid", reasons=tuple(reasons))


def unknown_parent(parent_id: int) -> InvalidRecordError:
    """The error for a parent org-group that does not exist in the tenant."""
    return InvalidRecordError(
        "The parent org-group does not exist",
        reasons=(f"parent.id: org-group {parent_id} does not exist",),
    )


def group_in_a_cycle(group_id: int, parent_id: int) -> InvalidRecordError:
    """The error for a parent that lies below the group itself."""
    return InvalidRecordError(
        "The org tree cannot have a cycle",
        reasons=(f"parent.id: org-group {parent_id} is below org-group {group_id}",),
    )


def group_has_subgroups(group_id: int) -> ConflictError:
    """The error for deleting an org-group that still has groups below it."""
    return ConflictError(
        f"Org-group {group_id} still has org-groups below it",
        reasons=(f"org-group {group_id}: move or delete the groups below it first",),
    )


def check_parent(group: PersonGroup, ancestors: Collection[int]) -> None:
    """Check where ``group`` hangs in its tree, given its parent and every group above it.

    ``ancestors`` is empty when the parent does not exist (``InvalidRecordError``); the
    group itself among them would close a cycle (``InvalidRecordError``). A group without
    a parent is a root and always fits.
    """
    if group.parent_id is None:
        return
    if not ancestors:
        raise unknown_parent(group.parent_id)
    if group.id in ancestors:
        raise group_in_a_cycle(group.id, group.parent_id)
