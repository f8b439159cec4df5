"""External references and groups of people in PostgreSQL (``ReferenceStore``, ``GroupStore``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import asyncpg

from workhooks.domain.external_references import custom_keys
from workhooks.domain.groups import GroupKind, PersonGroup, check_parent, group_has_subgroups
from workhooks.errors import ConflictError
from workhooks.storage import rows
from workhooks.storage.postgres.base import CODEC, PostgresBase, fetch, fetchrow, run

__all__ = ["PostgresReferences"]


class PostgresReferences(PostgresBase):
    """What people are called elsewhere, and the groups they are in."""

    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each live person's non-empty values of ``keys``."""
        params = {"tenant": tenant, "ids": sorted(person_ids), "keys": custom_keys(keys)}
        async with self._tx() as conn:
            people = await fetch(conn, "predefined_references", **params)
            custom = await fetch(conn, "custom_references", **params)
        return rows.references(people, custom, keys)

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references, or None."""
        async with self._tx() as conn:
            person = await fetchrow(conn, "get_person_any", tenant=tenant, id=person_id)
            if rows.live_person(person) is None:
                return None
            found = await fetch(conn, "person_custom_references", tenant=tenant, id=person_id)
        return {r["key"]: r["value"] for r in found}

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set one reference; False for an unknown person; ``ConflictError`` on a taken value."""
        params = {"tenant": tenant, "id": person_id, "key": key, "value": value}
        async with self._tx() as conn:
            person = await fetchrow(conn, "get_person_any", **params)
            if rows.live_person(person) is None:
                return False
            owner = await fetchrow(conn, "reference_owner", **params)
            if owner is not None and owner["person_id"] != person_id:
                raise ConflictError.duplicate_reference(key, value, owner["person_id"])
            try:
                await run(conn, "upsert_person_reference", **params)
            except asyncpg.UniqueViolationError as exc:  # a concurrent writer took it first
                raise ConflictError.duplicate_reference(key, value, -1) from exc
        return True

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group and its people; the org tree stays a tree (the tree
        of a tenant has one writer at a time)."""
        params = rows.group_params(tenant, group, CODEC)
        async with self._tx() as conn:
            await run(conn, "lock_tree", **params)
            if group.parent_id is not None:
                above = await fetch(conn, "group_ancestors", **{**params, "id": group.parent_id})
                check_parent(group, {row["id"] for row in above})
            upserted = await fetchrow(conn, "upsert_group", **params)
            await run(conn, "delete_group_members", **params)
            await run(conn, "insert_group_members", **params)
        assert upserted is not None
        return bool(upserted["created"])

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}
        async with self._tx() as conn:
            row = await fetchrow(conn, "get_group", **params)
            if row is None:
                return None
            members = await fetch(conn, "group_members", **params)
        return rows.group(kind, row, members)

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group; ``ConflictError`` while org-groups are below it."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}
        async with self._tx() as conn:
            await run(conn, "lock_tree", **params)
            children = await fetchrow(conn, "group_has_children", **params)
            if children is not None and children[0]:
                raise group_has_subgroups(group_id)
            await run(conn, "delete_group_members", **params)
            status = await run(conn, "delete_group", **params)
        return status.endswith(" 1")
