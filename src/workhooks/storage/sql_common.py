"""What both SQL stores do alike: every use case both dialects run the same statements for.

Both dialects name their queries and parameters alike (``queries.sql``), map rows with the
same converters (``rows``) and differ only in how a statement is run; so each of these
methods is written once, as a script (``scripts``) a dialect runs in one transaction with
``_reading`` or ``_writing``; a use case of one statement goes through ``_rows``, ``_row``,
``_change`` or ``_change_row``, which a dialect may run cheaper on its own (PostgreSQL sends
it without BEGIN/COMMIT). What stays with a dialect is what it does differently: writing
records with their versions, claiming and applying delivery work, opening, migrating and
locking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery
from workhooks.domain.external_references import custom_keys
from workhooks.domain.groups import GroupKind, PersonGroup, check_parent, group_has_subgroups
from workhooks.domain.operators import AuditEntry, client_actor
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import Person, WorkInterruption
from workhooks.domain.webhooks import NewWebhook, Webhook, check_webhook_limit
from workhooks.errors import ConflictError
from workhooks.storage import rows
from workhooks.storage.protocol import BacklogReport
from workhooks.storage.rows import Codec, Row
from workhooks.storage.scripts import Script, Step, UniqueViolation, count, each, every, one
from workhooks.storage.sealing import (
    MAGIC,
    PREFIX_SIZE,
    Sealer,
    signing_key_context,
    webhook_context,
)

__all__ = ["SqlCommon", "seal_secrets"]

T = TypeVar("T")


def seal_secrets(sealer: Sealer, *, prefix: bytes = MAGIC) -> Script[int]:
    """Seal anew every secret not starting with ``prefix`` (by default only clear ones) and
    check every sealed one can be opened; how many were sealed anew."""
    keys = [
        {
            "kid": r["kid"],
            "private_key": sealer.reseal(
                bytes(r["private_key"]), context=signing_key_context(r["kid"])
            ),
        }
        for r in (yield every("list_signing_keys"))
        if not bytes(r["private_key"]).startswith(prefix)
    ]
    if keys:
        yield each("set_signing_key_seal", keys)
    found = yield every("webhook_secrets_not_starting", prefix=prefix)
    if found:
        secrets = [
            {
                "id": r["id"],
                "secret": sealer.reseal(bytes(r["secret"]), context=webhook_context(r["id"])),
            }
            for r in found
        ]
        yield each("set_webhook_secret", secrets)
    prefixes = yield every("webhook_secret_prefixes", size=PREFIX_SIZE)
    sealer.check_prefixes([bytes(r["prefix"]) for r in prefixes], what="webhook keys")
    return len(keys) + len(found)


def _just(step: Step) -> Script[Any]:
    """The script of one statement: its result."""
    return (yield step)


class SqlCommon:
    """The one-statement use cases of ``Store``, for any SQL dialect."""

    _codec: ClassVar[Codec]
    _sealer: Sealer

    async def _rows(
        self, name: str, params: Mapping[str, Any] | None = None, /, **more: Any
    ) -> list[Any]:
        """The rows of one named query, from a consistent snapshot."""
        found: list[Any] = await self._reading(_just(every(name, params, **more)))
        return found

    async def _row(self, name: str, params: Mapping[str, Any] | None = None, /, **more: Any) -> Any:
        """The first row of one named query (None when there is none)."""
        return await self._reading(_just(one(name, params, **more)))

    async def _change(self, name: str, params: Mapping[str, Any] | None = None, /) -> int:
        """Run one named statement that writes; how many rows it touched."""
        touched: int = await self._writing(_just(count(name, params)))
        return touched

    async def _change_row(self, name: str, params: Mapping[str, Any] | None = None, /) -> Any:
        """Run one named statement that writes; the first row it returned (or None)."""
        return await self._writing(_just(one(name, params)))

    # What a dialect provides: a script run in one transaction. One statement on its own is
    # a script of one step, unless the dialect runs it cheaper (PostgreSQL: no BEGIN/COMMIT).
    async def _reading(self, script: Script[T]) -> T:
        """Run a script in one transaction that only reads (one snapshot where there is one)."""
        raise NotImplementedError

    async def _writing(self, script: Script[T]) -> T:
        """Run a script in one transaction that writes."""
        raise NotImplementedError

    def _announce(self, tenant: str) -> None:
        """Once a write of ``tenant`` has committed, wake the workers of other processes
        (PostgreSQL: see ``postgres.announcer``); nothing where one process delivers."""

    def _row_webhook(self, row: Row) -> Webhook:
        return rows.webhook(row, self._codec, self._sealer)

    # -- clients ----------------------------------------------------------------------
    async def add_client(self, client: Client, *, audit: AuditEntry | None = None) -> None:
        """Register a client, audited in the same transaction."""
        params = rows.client_params(client, self._codec)

        def script() -> Script[None]:
            yield count("insert_client", params)
            yield from self._audited(audit)

        await self._writing(script())

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        row = await self._row("get_client", id=client_id)
        return None if row is None else rows.client(row, self._codec)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        found = await self._rows("list_clients", tenant=tenant)
        return [rows.client(r, self._codec) for r in found]

    async def revoke_client(
        self, client_id: str, *, at: dt.datetime, audit: AuditEntry | None = None
    ) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time), end its portal
        sessions and audit, in one transaction."""
        params = {"id": client_id, "at": self._codec.instant(at)}
        row = await self._writing(self._client_change(one("revoke_client", params), at, audit))
        return None if row is None else rows.client(row, self._codec)

    async def set_client_secret(
        self, client_id: str, secret_hash: str, *, at: dt.datetime, audit: AuditEntry | None = None
    ) -> Client | None:
        """Replace a live client's secret hash, end its portal sessions and audit, in one
        transaction; None when unknown or revoked."""
        params = {"id": client_id, "secret_hash": secret_hash}
        changed = one("set_client_secret", params)
        row = await self._writing(self._client_change(changed, at, audit))
        return None if row is None else rows.client(row, self._codec)

    def _client_change(
        self, change: Step, at: dt.datetime, audit: AuditEntry | None
    ) -> Script[Row | None]:
        """Run ``change`` (it returns the client's row, or none); when it found the client,
        end the client's portal sessions at ``at`` and append ``audit``."""
        row: Row | None = yield change
        if row is not None:
            actor = client_actor(row["id"])
            yield count("end_sessions", rows.ending_params(actor, at, self._codec))
            yield from self._audited(audit)
        return row

    def _audited(self, audit: AuditEntry | None) -> Script[None]:
        """Append ``audit`` to the audit log, when there is one."""
        if audit is not None:
            yield count("insert_audit", rows.audit_params(audit, self._codec))

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key (it signs from now on, as the newest)."""
        params = rows.signing_key_params(key, self._codec, self._sealer)
        await self._change("insert_signing_key", params)

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Insert ``candidate`` unless a key exists; return the oldest key."""
        params = rows.signing_key_params(candidate, self._codec, self._sealer)

        def script() -> Script[Row]:
            yield count("insert_signing_key_if_none", params)
            key: Row = yield one("get_signing_key")
            return key

        return rows.signing_key(await self._writing(script()), self._codec, self._sealer)

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""
        found = await self._rows("list_signing_keys")
        return [rows.signing_key(r, self._codec, self._sealer) for r in found]

    # -- records ----------------------------------------------------------------------
    async def get_person(self, tenant: str, person_id: int) -> Person | None:
        """Return a live person."""
        row = await self._row("get_person_any", tenant=tenant, id=person_id)
        return rows.live_person(row)

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption | None:
        """Return a live work interruption."""
        row = await self._row("get_work_interruption_any", tenant=tenant, id=record_id)
        return rows.live_work_interruption(row, self._codec)

    async def read_changes(self, tenant: str, *, after: int, limit: int) -> list[WorkInterruption]:
        """One range scan of the ``(tenant, change_version)`` index."""
        found = await self._rows("read_changes", tenant=tenant, after=after, limit=limit)
        return [rows.work_interruption(r, self._codec) for r in found]

    async def list_work_interruptions(
        self, tenant: str, query: WorkInterruptionQuery
    ) -> list[WorkInterruption]:
        """One keyset page over the ``(tenant, date, id)`` index of live records."""
        params = rows.work_interruptions_params(tenant, query, self._codec)
        found = await self._rows("list_work_interruptions", params)
        return [rows.work_interruption(r, self._codec) for r in found]

    async def head_version(self, tenant: str) -> int:
        """Return the tenant's latest committed version."""
        row = await self._row("head_version", tenant=tenant)
        return 0 if row is None else int(row["head_version"])

    # -- webhooks and history ---------------------------------------------------------
    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Insert a webhook whose cursor is the tenant's head, counting the tenant's enabled
        ones first when there is a limit (PostgreSQL counts under the tenant's lock)."""
        params = rows.webhook_params(new, self._codec, self._sealer)

        def script() -> Script[Row]:
            if max_enabled is not None:
                counted = yield one("count_enabled_webhooks", params)
                check_webhook_limit(counted["enabled"], max_enabled=max_enabled)
            inserted: Row = yield one("insert_webhook", params)
            return inserted

        return self._row_webhook(await self._writing(script()))

    async def get_webhook(self, tenant: str, webhook_id: str) -> Webhook | None:
        """Return the tenant's webhook, deleted or not."""
        row = await self._row("get_webhook", tenant=tenant, id=webhook_id)
        return None if row is None else self._row_webhook(row)

    async def list_webhooks(self, tenant: str) -> list[Webhook]:
        """Return the tenant's live webhooks, oldest first."""
        return [self._row_webhook(r) for r in await self._rows("list_webhooks", tenant=tenant)]

    async def delete_webhook(self, tenant: str, webhook_id: str, *, at: dt.datetime) -> bool:
        """Soft-delete a live webhook."""
        params = {"tenant": tenant, "id": webhook_id, "at": self._codec.instant(at)}
        return await self._change("delete_webhook", params) == 1

    async def settle_tenants(self, *, now: dt.datetime) -> int:
        """Mark settled the tenants whose sendable webhooks have all caught up."""
        return await self._change("settle_tenants", {"now": self._codec.instant(now)})

    async def disable_expired(self, *, now: dt.datetime) -> int:
        """Disable webhooks past ``valid_until``."""
        return await self._change("disable_expired", {"now": self._codec.instant(now)})

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Counts by status, and the webhooks behind or failing, in one transaction."""

        def script() -> Script[tuple[list[Row], list[Row]]]:
            return (yield every("webhooks_by_status")), (
                yield every("webhooks_behind", limit=limit)
            )

        statuses, behind = await self._reading(script())
        return rows.backlog_report(statuses, behind, self._codec, limit=limit)

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """One delivery and all its attempts, oldest first, in one transaction."""
        key = {"webhook_id": webhook_id, "message_id": delivery_id}

        def script() -> Script[tuple[Row, list[Row]] | None]:
            row = yield one("get_delivery", key)
            return None if row is None else (row, (yield every("delivery_attempts", key)))

        found = await self._reading(script())
        if found is None:
            return None
        row, attempts = found
        return rows.delivery(row, self._codec), [rows.attempt(a, self._codec) for a in attempts]

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Delete attempts and deliveries last tried before ``before``; return attempts deleted."""
        params = {"before": self._codec.instant(before)}

        def script() -> Script[int]:
            deleted: int = yield count("purge_attempts", params)
            yield count("purge_deliveries", params)
            return deleted

        return await self._writing(script())

    async def list_attempts(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """Newest attempts first."""
        found = await self._rows("list_attempts", webhook_id=webhook_id, limit=limit)
        return [rows.attempt(r, self._codec) for r in found]

    async def list_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        """Newest last attempt first, keyset-paged on ``(last_attempt_at, id)``."""
        found = await self._rows("list_deliveries", rows.deliveries_params(query, self._codec))
        return [rows.delivery(r, self._codec) for r in found]

    # -- references and groups --------------------------------------------------------
    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each live person's non-empty values of ``keys`` (predefined and custom)."""
        params = {
            "tenant": tenant,
            "ids": self._codec.many(sorted(person_ids)),
            "keys": self._codec.many(custom_keys(keys)),
        }

        def script() -> Script[tuple[list[Row], list[Row]]]:
            people = yield every("predefined_references", params)
            return people, (yield every("custom_references", params))

        people, custom = await self._reading(script())
        return rows.references(people, custom, keys)

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references, or None when the person does not exist."""
        key = {"tenant": tenant, "id": person_id}

        def script() -> Script[dict[str, str] | None]:
            if rows.live_person((yield one("get_person_any", key))) is None:
                return None
            return {r["key"]: r["value"] for r in (yield every("person_custom_references", key))}

        return await self._reading(script())

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set one custom reference; False if the person does not exist; ``ConflictError``
        when another person has that value for ``key``."""
        params = {"tenant": tenant, "id": person_id, "key": key, "value": value}

        def script() -> Script[bool]:
            if rows.live_person((yield one("get_person_any", params))) is None:
                return False
            owner = yield one("reference_owner", params)
            if owner is not None and owner["person_id"] != person_id:
                raise ConflictError.duplicate_reference(key, value, owner["person_id"])
            try:
                yield count("upsert_person_reference", params)
            except UniqueViolation:  # a concurrent writer took the value first
                raise ConflictError.duplicate_reference(key, value, None) from None
            return True

        return await self._writing(script())

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group and its people; the org tree stays a tree (one writer
        of a tenant's tree at a time: ``lock_tree``). True when it was created."""
        params = rows.group_params(tenant, group, self._codec)

        def script() -> Script[bool]:
            yield every("lock_tree", params)
            if group.parent_id is not None:
                above = yield every("group_ancestors", {**params, "id": group.parent_id})
                check_parent(group, {row["id"] for row in above})
            created = (yield one("get_group", params)) is None
            yield count("upsert_group", params)
            yield count("delete_group_members", params)
            yield count("insert_group_members", params)
            return created

        return await self._writing(script())

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}

        def script() -> Script[PersonGroup | None]:
            row = yield one("get_group", params)
            return (
                None
                if row is None
                else rows.group(kind, row, (yield every("group_members", params)))
            )

        return await self._reading(script())

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group; ``ConflictError`` while org-groups are below it."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}

        def script() -> Script[bool]:
            yield every("lock_tree", params)
            if (yield one("group_has_children", params))[0]:
                raise group_has_subgroups(group_id)
            yield count("delete_group_members", params)
            deleted: int = yield count("delete_group", params)
            return deleted == 1

        return await self._writing(script())

    async def delete_custom_reference(self, tenant: str, person_id: int, key: str) -> bool:
        """Remove one custom reference; False if there was none."""
        params = {"tenant": tenant, "id": person_id, "key": key}
        return await self._change("delete_person_reference", params) == 1

    async def people_in_groups(
        self, tenant: str, kind: GroupKind, group_ids: Collection[int]
    ) -> frozenset[int]:
        """The people of the groups and of every group below them, in one query."""
        ids = self._codec.many(sorted(group_ids))
        found = await self._rows("people_in_groups", tenant=tenant, kind=kind.value, ids=ids)
        return frozenset(row["person_id"] for row in found)
