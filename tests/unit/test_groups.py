"""Tests for ``workhooks.domain.groups``: the rules of one org-group or circle."""

from __future__ import annotations

import pytest

from workhooks.domain.groups import (
    MAX_GROUP_MEMBERS,
    GroupKind,
    PersonGroup,
    check_parent,
    group_has_subgroups,
    group_in_a_cycle,
    unknown_parent,
    validate_group,
)
from workhooks.errors import ConflictError, InvalidRecordError


def reasons(group: PersonGroup) -> tuple[str, ...]:
    """Validate ``group`` expecting ``InvalidRecordError``; return its reasons."""
    with pytest.raises(InvalidRecordError) as caught:
        validate_group(group)
    return caught.value.reasons


def test_a_valid_org_group_and_circle_pass() -> None:
    """A named org-group below another and a circle of people are valid."""
    validate_group(
        PersonGroup(
            kind=GroupKind.ORG_GROUP, id=2, name="Sales", parent_id=1, people=frozenset({1})
        )
    )
    validate_group(PersonGroup(kind=GroupKind.CIRCLE, id=2, name="Night", people=frozenset({1, 2})))


def test_every_broken_rule_is_a_reason() -> None:
    """Bad ids, a blank name, a parent on a circle and bad person ids are all listed."""
    found = reasons(
        PersonGroup(kind=GroupKind.CIRCLE, id=0, name="  ", parent_id=-1, people=frozenset({0}))
    )
    assert found == (
        "id: must be a positive integer of at most 9223372036854775807",
        "parent.id: must be a positive integer of at most 9223372036854775807",
        "name: 1 to 256 characters, not blank",
        "parent: only org-groups have a parent",
        "people: 0 is not a valid person id",
    )


def test_an_org_group_is_not_its_own_parent_and_names_are_bounded() -> None:
    """A group cannot be its own parent; a name longer than 256 characters is refused."""
    assert reasons(PersonGroup(kind=GroupKind.ORG_GROUP, id=3, name="x" * 257, parent_id=3)) == (
        "name: 1 to 256 characters, not blank",
        "parent.id: an org-group cannot be its own parent",
    )


def test_a_group_holds_at_most_the_maximum_of_people() -> None:
    """More than ``MAX_GROUP_MEMBERS`` people is refused."""
    crowd = frozenset(range(1, MAX_GROUP_MEMBERS + 2))
    found = reasons(PersonGroup(kind=GroupKind.CIRCLE, id=1, name="All", people=crowd))
    assert found == (f"people: at most {MAX_GROUP_MEMBERS} people per group",)


def test_deleting_a_group_with_groups_below_is_a_conflict() -> None:
    """The conflict names the group and what to do."""
    error = group_has_subgroups(7)
    assert isinstance(error, ConflictError)
    assert "org-group 7" in error.reasons[0]


def org_group(group_id: int, parent_id: int | None) -> PersonGroup:
    """An org-group named after its id."""
    return PersonGroup(
        kind=GroupKind.ORG_GROUP, id=group_id, name=f"g{group_id}", parent_id=parent_id
    )


def test_a_root_group_always_fits_its_tree() -> None:
    """A group without a parent needs no ancestors."""
    check_parent(org_group(1, None), ())


def test_a_group_below_an_existing_parent_fits() -> None:
    """A parent with its own ancestors, none of them the group, is accepted."""
    check_parent(org_group(3, 2), {2, 1})


def test_a_parent_that_does_not_exist_is_refused() -> None:
    """No ancestors means the parent is unknown."""
    with pytest.raises(InvalidRecordError) as caught:
        check_parent(org_group(3, 2), ())
    assert caught.value.reasons == ("parent.id: org-group 2 does not exist",)


def test_a_parent_below_the_group_would_close_a_cycle() -> None:
    """The group among its own ancestors is refused."""
    with pytest.raises(InvalidRecordError) as caught:
        check_parent(org_group(1, 3), {3, 2, 1})
    assert caught.value.reasons == ("parent.id: org-group 3 is below org-group 1",)


def test_a_missing_parent_and_a_cycle_are_record_errors_on_the_parent_field() -> None:
    """Both tree errors point the integrator at ``parent.id`` and name the groups involved."""
    missing = unknown_parent(7)
    assert missing.reasons == ("parent.id: org-group 7 does not exist",)
    cycle = group_in_a_cycle(3, 9)
    assert isinstance(cycle, InvalidRecordError)
    assert cycle.reasons == ("parent.id: org-group 9 is below org-group 3",)
