"""External references and groups of people in SQLite (``ReferenceStore``, ``GroupStore``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence

from workhooks.domain.external_references import custom_keys
from workhooks.domain.groups import GroupKind, PersonGroup, check_parent, group_has_subgroups
from workhooks.errors import ConflictError
from workhooks.storage import rows
from workhooks.storage.rows import json_text
from workhooks.storage.sqlite.base import CODEC, Q, SqliteBase

__all__ = ["SqliteReferences"]


class SqliteReferences(SqliteBase):
    """What people are called elsewhere, and the groups they are in."""

    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each person's non-empty values of ``keys`` (predefined and custom), in one snapshot."""
        params = {
            "tenant": tenant,
            "ids": json_text(sorted(person_ids)),
            "keys": json_text(custom_keys(keys)),
        }

        def run(c: sqlite3.Connection) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
            return (
                c.execute(Q["predefined_references"].sql, params).fetchall(),
                c.execute(Q["custom_references"].sql, params).fetchall(),
            )

        people, custom = await self._read(run)
        return rows.references(people, custom, keys)

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references, or None when the person does not exist."""
        key = {"tenant": tenant, "id": person_id}

        def run(c: sqlite3.Connection) -> dict[str, str] | None:
            if rows.live_person(c.execute(Q["get_person_any"].sql, key).fetchone()) is None:
                return None
            found = c.execute(Q["person_custom_references"].sql, key)
            return {r["key"]: r["value"] for r in found}

        return await self._read(run)

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set one custom reference; False if the person does not exist; 409 on a taken value."""
        params = {"tenant": tenant, "id": person_id, "key": key, "value": value}

        def run(c: sqlite3.Connection) -> bool:
            if rows.live_person(c.execute(Q["get_person_any"].sql, params).fetchone()) is None:
                return False
            owner = c.execute(Q["reference_owner"].sql, params).fetchone()
            if owner is not None and owner["person_id"] != person_id:
                raise ConflictError.duplicate_reference(key, value, owner["person_id"])
            c.execute(Q["upsert_person_reference"].sql, params)
            return True

        return await self._write(run)

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group and its people; the org tree stays a tree."""
        params = rows.group_params(tenant, group, CODEC)

        def run(c: sqlite3.Connection) -> bool:
            if group.parent_id is not None:
                above = {**params, "id": group.parent_id}
                ancestors = {row["id"] for row in c.execute(Q["group_ancestors"].sql, above)}
                check_parent(group, ancestors)
            created = c.execute(Q["get_group"].sql, params).fetchone() is None
            c.execute(Q["upsert_group"].sql, params)
            c.execute(Q["delete_group_members"].sql, params)
            c.execute(Q["insert_group_members"].sql, params)
            return created

        return await self._write(run)

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}

        def run(c: sqlite3.Connection) -> PersonGroup | None:
            row = c.execute(Q["get_group"].sql, params).fetchone()
            if row is None:
                return None
            return rows.group(kind, row, c.execute(Q["group_members"].sql, params).fetchall())

        return await self._read(run)

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group; ``ConflictError`` while org-groups are below it."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(Q["group_has_children"].sql, params).fetchone()[0]:
                raise group_has_subgroups(group_id)
            c.execute(Q["delete_group_members"].sql, params)
            return bool(c.execute(Q["delete_group"].sql, params).rowcount == 1)

        return await self._write(run)
