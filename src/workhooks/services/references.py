"""Custom external references of people, managed by the integrator.

Values are unique per key within a tenant; setting an empty value removes the reference
(an empty value is never rendered, so there is nothing to keep).
"""

from __future__ import annotations

from workhooks.domain.external_references import validate_custom_key, validate_value
from workhooks.errors import NotFoundError
from workhooks.storage.protocol import ReferenceStore

__all__ = ["ReferenceService"]


class ReferenceService:
    """Reads and changes one person's custom references."""

    def __init__(self, store: ReferenceStore) -> None:
        self._store = store

    async def get(self, tenant: str, person_id: int) -> dict[str, str]:
        """The person's custom references by key."""
        found = await self._store.get_custom_references(tenant, person_id)
        if found is None:
            raise NotFoundError(f"Person {person_id} does not exist")
        return found

    async def set(self, tenant: str, person_id: int, key: str, value: str) -> None:
        """Set (or, with an empty value, remove) one custom reference."""
        validate_custom_key(key)
        validate_value(value)
        if not value:
            await self.get(tenant, person_id)
            await self._store.delete_custom_reference(tenant, person_id, key)
            return
        if not await self._store.set_custom_reference(tenant, person_id, key, value):
            raise NotFoundError(f"Person {person_id} does not exist")

    async def delete(self, tenant: str, person_id: int, key: str) -> None:
        """Remove one custom reference, or ``NotFoundError`` when there is none."""
        await self.get(tenant, person_id)
        if not await self._store.delete_custom_reference(tenant, person_id, key):
            raise NotFoundError(f"Person {person_id} has no external reference {key[:80]!r}")
