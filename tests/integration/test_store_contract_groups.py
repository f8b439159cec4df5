"""The storage contract for org-groups and circles: the tree, its rules, and the people a
``person in org-group(...)`` or ``circle(...)`` filter selects.

Each test takes the ``store`` fixture, so it runs on ``InMemoryStore``, ``SqliteStore``
over a real file and ``PostgresStore`` on the real server alike.
"""

from __future__ import annotations

import asyncio

import pytest

from workhooks.domain.groups import GroupKind, PersonGroup
from workhooks.errors import ConflictError, InvalidRecordError
from workhooks.storage.protocol import Store

pytestmark = pytest.mark.timeout(120)

ORG = GroupKind.ORG_GROUP
CIRCLE = GroupKind.CIRCLE


def org(group_id: int, parent: int | None = None, *people: int) -> PersonGroup:
    """An org-group below ``parent`` holding ``people``."""
    return PersonGroup(
        kind=ORG, id=group_id, name=f"Org {group_id}", parent_id=parent, people=frozenset(people)
    )


def circle(group_id: int, *people: int) -> PersonGroup:
    """A circle of ``people``."""
    return PersonGroup(
        kind=CIRCLE, id=group_id, name=f"Circle {group_id}", people=frozenset(people)
    )


async def test_groups_are_created_replaced_read_and_deleted(store: Store) -> None:
    """A put creates (True) then replaces (False) name, parent and all people; get returns
    what was put; delete removes it (False when there is none)."""
    assert await store.put_group("acme", org(1, None, 1, 2)) is True
    assert await store.put_group("acme", org(2, 1, 3)) is True
    assert await store.get_group("acme", ORG, 2) == org(2, 1, 3)
    replaced = PersonGroup(kind=ORG, id=2, name="Sales", parent_id=None, people=frozenset({4}))
    assert await store.put_group("acme", replaced) is False
    assert await store.get_group("acme", ORG, 2) == replaced
    assert await store.get_group("acme", CIRCLE, 2) is None
    assert await store.get_group("globex", ORG, 2) is None
    assert await store.delete_group("acme", ORG, 2) is True
    assert await store.get_group("acme", ORG, 2) is None
    assert await store.delete_group("acme", ORG, 2) is False
    assert await store.people_in_groups("acme", ORG, [2]) == frozenset()


async def test_org_group_selects_its_people_and_those_of_every_group_below(store: Store) -> None:
    """``org-group(x)`` is x and the groups below it, at any depth, never above or beside."""
    await store.put_group("acme", org(100, None, 1))
    await store.put_group("acme", org(121, 100, 2, 3))
    await store.put_group("acme", org(122, 100, 4))
    await store.put_group("acme", org(130, 121, 5))
    await store.put_group("acme", org(140, 130, 6, 2))
    assert await store.people_in_groups("acme", ORG, [121]) == {2, 3, 5, 6}
    assert await store.people_in_groups("acme", ORG, [121, 122]) == {2, 3, 4, 5, 6}
    assert await store.people_in_groups("acme", ORG, [100]) == {1, 2, 3, 4, 5, 6}
    assert await store.people_in_groups("acme", ORG, [140, 999]) == {6, 2}
    assert await store.people_in_groups("globex", ORG, [100]) == frozenset()


async def test_circles_are_flat_sets_apart_from_org_groups(store: Store) -> None:
    """A circle selects exactly its people; circle and org-group ids do not mix."""
    await store.put_group("acme", circle(2, 1, 2))
    await store.put_group("acme", circle(8, 2, 9))
    await store.put_group("acme", org(2, None, 7))
    assert await store.people_in_groups("acme", CIRCLE, [2, 8]) == {1, 2, 9}
    assert await store.people_in_groups("acme", ORG, [2]) == {7}
    await store.put_group("globex", circle(2, 5))
    assert await store.people_in_groups("acme", CIRCLE, [2]) == {1, 2}


async def test_a_parent_must_exist_and_the_tree_keeps_no_cycle(store: Store) -> None:
    """An unknown parent, or a parent below the group itself, is refused and changes nothing."""
    with pytest.raises(InvalidRecordError) as unknown:
        await store.put_group("acme", org(1, 5))
    assert unknown.value.reasons == ("parent.id: org-group 5 does not exist",)
    assert await store.get_group("acme", ORG, 1) is None
    await store.put_group("acme", org(1, None, 1))
    await store.put_group("acme", org(2, 1))
    await store.put_group("acme", org(3, 2))
    with pytest.raises(InvalidRecordError) as cycle:
        await store.put_group("acme", org(1, 3, 9))
    assert cycle.value.reasons == ("parent.id: org-group 3 is below org-group 1",)
    assert await store.get_group("acme", ORG, 1) == org(1, None, 1)
    assert await store.people_in_groups("acme", ORG, [3]) == frozenset()


async def test_an_org_group_with_groups_below_cannot_be_deleted(store: Store) -> None:
    """Deleting a group that still has groups below it is a conflict; leaves first works."""
    await store.put_group("acme", org(1))
    await store.put_group("acme", org(2, 1, 4))
    with pytest.raises(ConflictError):
        await store.delete_group("acme", ORG, 1)
    assert await store.delete_group("acme", ORG, 2) is True
    assert await store.delete_group("acme", ORG, 1) is True


async def test_two_moves_at_once_cannot_close_a_cycle(store: Store) -> None:
    """Moving 1 below 2 and 2 below 1 at the same time: one move wins, the other is refused."""
    await store.put_group("acme", org(1))
    await store.put_group("acme", org(2))
    results = await asyncio.gather(
        store.put_group("acme", org(1, 2)),
        store.put_group("acme", org(2, 1)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, InvalidRecordError)]
    assert len(refused) == 1, results
    first, second = await store.get_group("acme", ORG, 1), await store.get_group("acme", ORG, 2)
    assert first is not None
    assert second is not None
    assert (first.parent_id, second.parent_id) in ((2, None), (None, 1))
