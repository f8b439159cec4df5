"""Org-groups and circles of people, managed by the source (the people API's scopes).

They are what ``person in org-group(...)`` and ``person in circle(...)`` select; see
``workhooks.domain.groups`` for what each kind means.
"""

from __future__ import annotations

from workhooks.domain.groups import GroupKind, PersonGroup, validate_group
from workhooks.errors import NotFoundError
from workhooks.storage.protocol import GroupStore

__all__ = ["GroupService"]


class GroupService:
    """Creates, replaces, reads and deletes the groups of one tenant at a time."""

    def __init__(self, store: GroupStore) -> None:
        self._store = store

    async def put(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group with its people (all of them); True when created."""
        validate_group(group)
        return await self._store.put_group(tenant, group)

    async def get(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup:
        """Return a group, or raise ``NotFoundError``."""
        group = await self._store.get_group(tenant, kind, group_id)
        if group is None:
            raise NotFoundError(f"The {kind.value} {group_id} does not exist")
        return group

    async def delete(self, tenant: str, kind: GroupKind, group_id: int) -> None:
        """Delete a group (an org-group only once no group is below it), or ``NotFoundError``."""
        if not await self._store.delete_group(tenant, kind, group_id):
            raise NotFoundError(f"The {kind.value} {group_id} does not exist")
