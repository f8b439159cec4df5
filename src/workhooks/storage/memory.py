"""``InMemoryStore``: the fake ``Store`` for unit tests; it passes the same contract suite.

Its webhooks, delivery and history live in ``memory_delivery``, its console in
``memory_console``; the rules of a write come from the domain, as for every store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt
from workhooks.domain.external_references import reference_values
from workhooks.domain.groups import GroupKind, PersonGroup, check_parent, group_has_subgroups
from workhooks.domain.operators import AuditEntry, Operator, client_actor
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import (
    Person,
    PersonDraft,
    WorkInterruption,
    WorkInterruptionDraft,
    live,
)
from workhooks.domain.webhooks import Webhook
from workhooks.domain.writes import (
    Written,
    check_people_known,
    people_at,
    person_in_use,
    person_tombstone,
    work_interruption_tombstone,
    work_interruptions_at,
    written,
)
from workhooks.errors import ConflictError
from workhooks.storage.memory_console import InMemoryConsole
from workhooks.storage.memory_delivery import InMemoryDelivery

__all__ = ["InMemoryStore"]


class InMemoryStore(InMemoryDelivery, InMemoryConsole):
    """Keeps everything in dictionaries; every method is atomic because it never awaits."""

    def __init__(self) -> None:
        self.migrations_applied: tuple[str, ...] = ()
        self.schema_version = 0
        self._clients: dict[str, Client] = {}
        self._signing_keys: list[SigningKey] = []
        self._heads: dict[str, int] = {}
        self._work_heads: dict[str, int] = {}
        self._settled: dict[str, int] = {}
        self._people: dict[tuple[str, int], Person] = {}
        self._records: dict[tuple[str, int], WorkInterruption] = {}
        self._webhooks: dict[str, Webhook] = {}
        self._attempts: list[DeliveryAttempt] = []
        self._deliveries: dict[tuple[str, str], Delivery] = {}
        self._caught_up_at: dict[str, dt.datetime] = {}
        self._references: dict[tuple[str, int], dict[str, str]] = {}
        self._groups: dict[tuple[str, GroupKind, int], PersonGroup] = {}
        self._operators: dict[str, Operator] = {}
        self._audit: list[AuditEntry] = []

    async def open(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Nothing to release."""

    async def ping(self) -> None:
        """Always answers: the data lives in this process."""

    async def reseal_secrets(self) -> int:
        """Nothing is at rest in memory: nothing to seal."""
        return 0

    def _reserve(self, tenant: str, count: int) -> int:
        """Take ``count`` versions of the tenant; return the first."""
        first = self._heads.get(tenant, 0) + 1
        self._heads[tenant] = first + count - 1
        return first

    # -- clients ----------------------------------------------------------------------
    async def add_client(self, client: Client, *, audit: AuditEntry | None = None) -> None:
        """Register a client (and audit)."""
        self._clients[client.id] = client
        await self._audited(audit)

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        return self._clients.get(client_id)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        found = [c for c in self._clients.values() if tenant is None or c.tenant == tenant]
        return sorted(found, key=lambda c: (c.tenant, c.created_at, c.id))

    async def revoke_client(
        self, client_id: str, *, at: dt.datetime, audit: AuditEntry | None = None
    ) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time), end its portal
        sessions and audit."""
        client = self._clients.get(client_id)
        if client is None:
            return None
        if client.revoked_at is None:
            client = self._clients[client_id] = dataclasses.replace(client, revoked_at=at)
        await self.end_sessions(client_actor(client_id), at=at)
        await self._audited(audit)
        return client

    async def set_client_secret(
        self, client_id: str, secret_hash: str, *, at: dt.datetime, audit: AuditEntry | None = None
    ) -> Client | None:
        """Replace a live client's secret hash, end its portal sessions and audit; None when
        unknown or revoked."""
        client = self._clients.get(client_id)
        if client is None or client.revoked_at is not None:
            return None
        client = self._clients[client_id] = dataclasses.replace(client, secret_hash=secret_hash)
        await self.end_sessions(client_actor(client_id), at=at)
        await self._audited(audit)
        return client

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Keep ``candidate`` unless a key exists; return the oldest key."""
        if not self._signing_keys:
            self._signing_keys.append(candidate)
        return (await self.signing_keys())[0]

    async def add_signing_key(self, key: SigningKey) -> None:
        """Keep a new token signing key (it signs from now on, as the newest)."""
        self._signing_keys.append(key)

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""
        return sorted(self._signing_keys, key=lambda k: (k.created_at, k.kid))

    # -- records ----------------------------------------------------------------------
    def _live_people(self, tenant: str, ids: Collection[int]) -> set[int]:
        return {i for i in ids if live(self._people.get((tenant, i))) is not None}

    def _live_records(self, tenant: str, ids: Collection[int]) -> set[int]:
        return {i for i in ids if live(self._records.get((tenant, i))) is not None}

    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people, each with the next version."""
        live = self._live_people(tenant, {d.id for d in drafts})
        people = people_at(drafts, self._reserve(tenant, len(drafts)))
        for person in people:
            self._people[(tenant, person.id)] = person
        return written(people, live)

    async def get_person(self, tenant: str, person_id: int) -> Person | None:
        """Return a live person."""
        return live(self._people.get((tenant, person_id)))

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a person unless work interruptions still refer to it."""
        if not self._live_people(tenant, {person_id}):
            return None
        if any(
            t == tenant and live(r) is not None and r.person_id == person_id
            for (t, _), r in self._records.items()
        ):
            raise person_in_use(person_id)
        tomb = self._people[(tenant, person_id)] = person_tombstone(
            person_id, self._reserve(tenant, 1)
        )
        self._references.pop((tenant, person_id), None)
        return tomb

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Upsert work interruptions after checking every person exists."""
        wanted = {d.person_id for d in drafts}
        check_people_known(wanted, self._live_people(tenant, wanted))
        live = self._live_records(tenant, {d.id for d in drafts})
        records = work_interruptions_at(drafts, self._reserve(tenant, len(drafts)))
        for record in records:
            self._records[(tenant, record.id)] = record
            self._work_heads[tenant] = record.change_version
        return written(records, live)

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption | None:
        """Return a live work interruption."""
        return live(self._records.get((tenant, record_id)))

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Replace a live record by its tombstone."""
        record = await self.get_work_interruption(tenant, record_id)
        if record is None:
            return None
        tomb = work_interruption_tombstone(record, self._reserve(tenant, 1))
        self._records[(tenant, record_id)] = tomb
        self._work_heads[tenant] = tomb.change_version
        return tomb

    async def read_changes(self, tenant: str, *, after: int, limit: int) -> list[WorkInterruption]:
        """Scan for records changed after ``after``."""
        changed = [
            r for (t, _), r in self._records.items() if t == tenant and r.change_version > after
        ]
        changed.sort(key=lambda r: r.change_version)
        return changed[:limit]

    async def read_changes_many(
        self, requests: Sequence[tuple[str, int, int]]
    ) -> list[list[WorkInterruption]]:
        """``read_changes`` for each request."""
        return [await self.read_changes(t, after=a, limit=n) for t, a, n in requests]

    async def list_work_interruptions(
        self, tenant: str, query: WorkInterruptionQuery
    ) -> list[WorkInterruption]:
        """Scan live records of the tenant in ``(date, id)`` order."""
        found = sorted(
            (
                r
                for (t, _), r in self._records.items()
                if t == tenant
                and live(r) is not None
                and query.selection.matches(date=r.date, person_id=r.person_id)
                and (query.after is None or (r.date, r.id) > query.after)
            ),
            key=lambda r: (r.date, r.id),
        )
        return found[: query.limit]

    async def head_version(self, tenant: str) -> int:
        """Return the tenant's latest version."""
        return self._heads.get(tenant, 0)

    # -- references and groups --------------------------------------------------------
    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each live person's non-empty values of ``keys``."""
        return {
            p.id: reference_values(
                keys,
                badge_number=p.badge_number,
                employee_number=p.employee_number,
                custom=self._references.get((tenant, p.id), {}),
            )
            for pid in person_ids
            if (p := await self.get_person(tenant, pid)) is not None
        }

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references."""
        if await self.get_person(tenant, person_id) is None:
            return None
        return dict(sorted(self._references.get((tenant, person_id), {}).items()))

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set a reference unless another person of the tenant holds the same value."""
        if await self.get_person(tenant, person_id) is None:
            return False
        for (t, owner), refs in self._references.items():
            if t == tenant and owner != person_id and refs.get(key) == value:
                raise ConflictError.duplicate_reference(key, value, owner)
        self._references.setdefault((tenant, person_id), {})[key] = value
        return True

    async def delete_custom_reference(self, tenant: str, person_id: int, key: str) -> bool:
        """Remove one reference."""
        return self._references.get((tenant, person_id), {}).pop(key, None) is not None

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group; an org-group's parent must exist and not lie below it."""
        ancestors: set[int] = set()
        above = group.parent_id
        while above is not None and (found := self._groups.get((tenant, group.kind, above))):
            ancestors.add(above)
            above = None if found.parent_id in ancestors else found.parent_id
        check_parent(group, ancestors)
        created = (tenant, group.kind, group.id) not in self._groups
        self._groups[(tenant, group.kind, group.id)] = group
        return created

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""
        return self._groups.get((tenant, kind, group_id))

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group that has no org-groups below it."""
        if (tenant, kind, group_id) not in self._groups:
            return False
        if any(
            t == tenant and k == kind and g.parent_id == group_id
            for (t, k, _), g in self._groups.items()
        ):
            raise group_has_subgroups(group_id)
        del self._groups[(tenant, kind, group_id)]
        return True

    async def people_in_groups(
        self, tenant: str, kind: GroupKind, group_ids: Collection[int]
    ) -> frozenset[int]:
        """The people of the groups and of every group below them."""
        mine = {gid: g for (t, k, gid), g in self._groups.items() if t == tenant and k == kind}
        chosen = {gid for gid in group_ids if gid in mine}
        grew = True
        while grew:
            below = {gid for gid, g in mine.items() if g.parent_id in chosen} - chosen
            chosen |= below
            grew = bool(below)
        return frozenset(pid for gid in chosen for pid in mine[gid].people)
