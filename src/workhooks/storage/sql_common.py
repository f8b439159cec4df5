"""What both SQL stores do alike: every use case that is one named statement.

Both dialects name their queries and parameters alike (``queries.sql``), map rows with the
same converters (``rows``) and differ only in how one statement is run; so each of these
methods is written once, over four primitives a dialect provides. Use cases of several
statements stay with their dialect, where the transaction is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery
from workhooks.domain.groups import GroupKind
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import Person, WorkInterruption
from workhooks.domain.webhooks import Webhook
from workhooks.storage import rows
from workhooks.storage.rows import Codec, Row
from workhooks.storage.sealing import Sealer

__all__ = ["SqlCommon"]


class SqlCommon:
    """The one-statement use cases of ``Store``, for any SQL dialect."""

    _codec: ClassVar[Codec]
    _sealer: Sealer

    async def _rows(
        self, name: str, params: Mapping[str, Any] | None = None, /, **more: Any
    ) -> list[Any]:
        """The rows of one named query, from a consistent snapshot."""
        raise NotImplementedError

    async def _row(self, name: str, params: Mapping[str, Any] | None = None, /, **more: Any) -> Any:
        """The first row of one named query (None when there is none)."""
        raise NotImplementedError

    async def _change(self, name: str, params: Mapping[str, Any] | None = None, /) -> int:
        """Run one named statement that writes; how many rows it touched."""
        raise NotImplementedError

    async def _change_row(self, name: str, params: Mapping[str, Any] | None = None, /) -> Any:
        """Run one named statement that writes; the first row it returned (or None)."""
        raise NotImplementedError

    def _row_webhook(self, row: Row) -> Webhook:
        return rows.webhook(row, self._codec, self._sealer)

    # -- clients ----------------------------------------------------------------------
    async def add_client(self, client: Client) -> None:
        """Register a client."""
        await self._change("insert_client", rows.client_params(client, self._codec))

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        row = await self._row("get_client", id=client_id)
        return None if row is None else rows.client(row, self._codec)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        found = await self._rows("list_clients", tenant=tenant)
        return [rows.client(r, self._codec) for r in found]

    async def revoke_client(self, client_id: str, *, at: dt.datetime) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time)."""
        params = {"id": client_id, "at": self._codec.instant(at)}
        row = await self._change_row("revoke_client", params)
        return None if row is None else rows.client(row, self._codec)

    async def set_client_secret(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace a live client's secret hash; None when unknown or revoked."""
        params = {"id": client_id, "secret_hash": secret_hash}
        row = await self._change_row("set_client_secret", params)
        return None if row is None else rows.client(row, self._codec)

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key (it signs from now on, as the newest)."""
        params = rows.signing_key_params(key, self._codec, self._sealer)
        await self._change("insert_signing_key", params)

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

    async def list_attempts(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """Newest attempts first."""
        found = await self._rows("list_attempts", webhook_id=webhook_id, limit=limit)
        return [rows.attempt(r, self._codec) for r in found]

    async def list_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        """Newest last attempt first, keyset-paged on ``(last_attempt_at, id)``."""
        found = await self._rows("list_deliveries", rows.deliveries_params(query, self._codec))
        return [rows.delivery(r, self._codec) for r in found]

    # -- references and groups --------------------------------------------------------
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
