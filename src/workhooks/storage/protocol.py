"""The ``Store`` port: everything workhooks persists, one transaction per method.

The port is split by concept (clients, records, webhooks, delivery, history, references,
groups, and the console's), and each service and the worker is typed against the slices it
uses; ``Store`` is all of them plus the lifecycle.

Each method is one atomic use-case step. That keeps SQLite at one thread hop per call and
PostgreSQL at one round trip where possible, and it means no caller ever holds a
transaction open across an ``await`` it does not control.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery
from workhooks.domain.groups import GroupKind, PersonGroup
from workhooks.domain.operators import AuditEntry
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import Person, PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.webhooks import NewWebhook, Webhook, WebhookStatus
from workhooks.domain.writes import Written
from workhooks.storage.console import ConsoleStore

__all__ = [
    "BacklogReport",
    "ClientStore",
    "DeliveryStore",
    "GroupStore",
    "HistoryStore",
    "RecordStore",
    "ReferenceStore",
    "Store",
    "WebhookBacklog",
    "WebhookStore",
    "WindowOutcome",
    "Written",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowOutcome:
    """What the worker learned from sending one window, applied in one transaction.

    ``cursor`` is the new cursor (unchanged when nothing at the front succeeded);
    ``failures``/``next_attempt_at`` is the back-off state; a ``disabled_reason`` disables;
    ``caught_up_at`` is set when the window delivered everything there was; ``keep_lease``
    keeps the webhook leased to this worker (it sends the next window at once) instead of
    giving it back.
    """

    webhook_id: str
    tenant: str
    expected_cursor: int
    cursor: int
    failures: int
    next_attempt_at: dt.datetime | None
    disabled_reason: str | None
    attempts: Sequence[DeliveryAttempt]
    caught_up_at: dt.datetime | None = None
    keep_lease: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookBacklog:
    """How far behind one enabled webhook is: for metrics.

    ``changes_behind`` counts the change versions committed after its cursor up to the
    tenant's latest work interruption (an upper bound of the events it still has to send).
    """

    webhook_id: str
    tenant: str
    created_at: dt.datetime
    caught_up_at: dt.datetime | None
    changes_behind: int
    failures: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BacklogReport:
    """Webhooks by status, how many are behind or failing, and the worst of them."""

    by_status: dict[WebhookStatus, int]
    behind: int
    failing: int
    worst: list[WebhookBacklog]

    def lag_seconds(self, now: dt.datetime) -> float:
        """How long the webhook furthest behind has been behind (0 when none is behind).

        Exact when ``worst`` holds the first webhooks of the report's order that are behind.
        """
        worst = next((w for w in self.worst if w.changes_behind > 0), None)
        if worst is None:
            return 0.0
        return max(0.0, (now - (worst.caught_up_at or worst.created_at)).total_seconds())


class ClientStore(Protocol):
    """API clients and the token signing keys."""

    async def add_client(self, client: Client, *, audit: AuditEntry | None = None) -> None:
        """Register a new API client, and append ``audit`` to the audit log with it."""

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included,
        by tenant and creation."""

    async def revoke_client(
        self, client_id: str, *, at: dt.datetime, audit: AuditEntry | None = None
    ) -> Client | None:
        """Revoke a client at ``at`` (once: a revoked client keeps its first revocation time)
        and end its portal sessions (``client_actor``), with ``audit``, in one transaction;
        return it, or None when it does not exist (then nothing is done)."""

    async def set_client_secret(
        self, client_id: str, secret_hash: str, *, at: dt.datetime, audit: AuditEntry | None = None
    ) -> Client | None:
        """Replace a live client's secret hash and end its portal sessions at ``at``, with
        ``audit``, in one transaction; None when it does not exist or is revoked (then
        nothing is done)."""

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Return the oldest token signing key, storing ``candidate`` if there is none yet."""

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key."""

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""


class RecordStore(Protocol):
    """People and work interruptions: writes, change versions and reads."""

    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people atomically, each with the tenant's next change version."""

    async def get_person(self, tenant: str, person_id: int) -> Person | None:
        """Return a live person."""

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a live person; raise ``ConflictError`` while work interruptions use it."""

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Upsert work interruptions atomically; raise ``UnknownPersonError`` for missing people."""

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption | None:
        """Return a live work interruption."""

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Tombstone a live work interruption; return the tombstone, or None if not live."""

    async def read_changes(self, tenant: str, *, after: int, limit: int) -> list[WorkInterruption]:
        """Return work interruptions (tombstones included) changed after ``after``, in order."""

    async def read_changes_many(
        self, requests: Sequence[tuple[str, int, int]]
    ) -> list[list[WorkInterruption]]:
        """``read_changes`` for each ``(tenant, after, limit)``, in one snapshot and round trip."""

    async def list_work_interruptions(
        self, tenant: str, query: WorkInterruptionQuery
    ) -> list[WorkInterruption]:
        """Live records selected by ``query``, ordered by ``(date, id)``, after its keyset."""

    async def head_version(self, tenant: str) -> int:
        """Return the tenant's latest committed change version (0 when none)."""


class WebhookStore(Protocol):
    """Webhook subscriptions."""

    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Store a webhook whose cursor starts at the tenant's current head version.

        With ``max_enabled``, raise ``TooManyWebhooksError`` instead when the tenant already
        has that many enabled webhooks that are not deleted (checked atomically).
        """

    async def get_webhook(self, tenant: str, webhook_id: str) -> Webhook | None:
        """Return a webhook of the tenant, soft-deleted ones included."""

    async def list_webhooks(self, tenant: str) -> list[Webhook]:
        """Return the tenant's webhooks that are not deleted, oldest first."""

    async def delete_webhook(self, tenant: str, webhook_id: str, *, at: dt.datetime) -> bool:
        """Soft-delete a webhook; False when it does not exist or is already deleted."""


class DeliveryStore(Protocol):
    """What the delivery worker claims, sends and records."""

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Collection[str] = (),
        after: str = "",
        full: Collection[str] = (),
    ) -> list[Webhook]:
        """Claim up to ``limit`` webhooks that have a change to send and may send it now.

        Enabled, live, unexpired, behind on the collection, not backing off, and not held:
        neither in ``holding`` (what this worker has already) nor leased by another live
        worker. Only unsettled tenants and webhooks whose retry time has come are looked
        at, so idle webhooks cost nothing. Tenants with work are visited in rotation, by
        name after ``after`` (where the previous search stopped) and then from the start,
        up to ``limit`` of them per search; tenants in ``full`` (the worker holds enough of
        theirs) are left out. Tenants take turns in the answer: every tenant
        gets its first webhook in before any gets a second. Leasing stores lease what they
        return.
        """

    async def hold_delivery(self) -> None:
        """Make this process a deliverer of the database, until ``close``.

        Raise ``DeliveryHeldError`` when the store allows one deliverer and another process
        is it (SQLite); stores whose workers lease webhooks (PostgreSQL) allow any number.
        """

    async def settle_tenants(self, *, now: dt.datetime) -> int:
        """Mark settled every tenant none of whose sendable webhooks is behind; return how many."""

    async def renew_leases(self, webhook_ids: Collection[str]) -> set[str]:
        """Extend this process's leases on webhooks it is delivering; return those still held.

        Stores without leases (one worker per database) hold every webhook.
        """

    async def release_leases(self, webhook_ids: Collection[str]) -> None:
        """Give back this process's leases on webhooks it will not send now."""

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(tenant)`` when another process commits a change (no-op if local)."""

    async def disable_expired(self, *, now: dt.datetime) -> int:
        """Disable every enabled webhook whose ``valid_until`` has passed; return how many."""

    async def apply_window(self, outcome: WindowOutcome) -> bool:
        """Apply a window's outcome if the cursor is still ``expected_cursor``; record attempts."""

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Apply several windows' outcomes in one transaction.

        Each is a compare-and-set on its webhook's cursor (and, with leases, this worker's
        lease); the attempts of the outcomes applied are recorded. A webhook that recovers
        from back-off while still behind makes its tenant unsettled again. Returns, for each
        webhook applied, whether it is still enabled and not deleted (it may send on; a
        ``keep_lease`` is kept only then).
        """


class HistoryStore(Protocol):
    """The delivery history and the backlog report."""

    async def list_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        """Return a webhook's deliveries matching ``query``, newest last attempt first."""

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """Return one delivery with all its attempts, oldest first."""

    async def list_attempts(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """Return the webhook's most recent delivery attempts, newest first."""

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Delete history last touched before ``before`` (retention); return attempts deleted."""

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Webhook counts by status and behind or failing, with the ``limit`` most behind.

        The enabled webhooks that are behind or failing are found without looking at the
        others; the worst are those caught up longest ago.
        """


class ReferenceStore(Protocol):
    """External references of people: the predefined ``@`` ones and custom ones."""

    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """For each live person, the non-empty values of ``keys`` (``@`` ones and custom)."""

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references by key; None when the person does not exist."""

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set one; False when the person does not exist; ``ConflictError`` on a taken value."""

    async def delete_custom_reference(self, tenant: str, person_id: int, key: str) -> bool:
        """Remove one; False when there was none."""


class GroupStore(Protocol):
    """Org-groups and circles."""

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group and its people; True when it was created.

        An org-group's parent must exist (else ``InvalidRecordError``) and may not lie below
        the group itself (``InvalidRecordError``): the org tree stays a tree.
        """

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group; False when none; ``ConflictError`` while org-groups are below it."""

    async def people_in_groups(
        self, tenant: str, kind: GroupKind, group_ids: Collection[int]
    ) -> frozenset[int]:
        """The people of the groups and of every org-group below them (unknown ids: none)."""


class Store(
    ClientStore,
    RecordStore,
    WebhookStore,
    DeliveryStore,
    HistoryStore,
    ReferenceStore,
    GroupStore,
    ConsoleStore,
    Protocol,
):
    """Persistence for clients, records, webhooks and delivery state (and the console's)."""

    migrations_applied: tuple[str, ...]
    """The migrations the last ``open()`` applied (``NNNN_name``); empty if none were pending."""
    schema_version: int
    """The number of the database's newest migration once ``open()`` returned (0: no schema)."""

    async def open(self) -> None:
        """Connect and apply pending migrations; ``SchemaTooNewError`` if the database was
        migrated by a newer release."""

    async def close(self) -> None:
        """Release connections."""

    async def ping(self) -> None:
        """Return once the database has answered a trivial query; raise if it cannot."""

    async def reseal_secrets(self) -> int:
        """Seal every stored secret under the newest master key (after a master key rotation);
        return how many were sealed anew. Stores with nothing at rest return 0."""
