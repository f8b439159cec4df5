"""``InMemoryStore``: the fake ``Store`` for unit tests; it passes the same contract suite."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter as Tally
from collections.abc import Callable, Collection, Sequence
from collections.abc import Collection as Many

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery, DeliveryStatus
from workhooks.domain.external_references import BADGE_NUMBER, EMPLOYEE_NUMBER
from workhooks.domain.groups import (
    GroupKind,
    PersonGroup,
    group_has_subgroups,
    group_in_a_cycle,
    unknown_parent,
)
from workhooks.domain.operators import AuditEntry, Operator
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import Person, PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.webhooks import NewWebhook, Webhook, WebhookStatus
from workhooks.errors import ConflictError, TooManyWebhooksError, UnknownPersonError
from workhooks.storage.memory_console import InMemoryConsole
from workhooks.storage.protocol import BacklogReport, WebhookBacklog, WindowOutcome, Written

__all__ = ["InMemoryStore"]


class InMemoryStore(InMemoryConsole):
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

    def _next_version(self, tenant: str) -> int:
        version = self._heads.get(tenant, 0) + 1
        self._heads[tenant] = version
        return version

    async def add_client(self, client: Client) -> None:
        """Register a client."""
        self._clients[client.id] = client

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        return self._clients.get(client_id)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        found = [c for c in self._clients.values() if tenant is None or c.tenant == tenant]
        return sorted(found, key=lambda c: (c.tenant, c.created_at, c.id))

    async def revoke_client(self, client_id: str, *, at: dt.datetime) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time)."""
        client = self._clients.get(client_id)
        if client is not None and client.revoked_at is None:
            client = self._clients[client_id] = dataclasses.replace(client, revoked_at=at)
        return client

    async def set_client_secret(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace a live client's secret hash; None when unknown or revoked."""
        client = self._clients.get(client_id)
        if client is None or client.revoked_at is not None:
            return None
        client = self._clients[client_id] = dataclasses.replace(client, secret_hash=secret_hash)
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

    async def reseal_secrets(self) -> int:
        """Nothing is at rest in memory: nothing to seal."""
        return 0

    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people, each with the next version."""
        written = []
        for draft in drafts:
            old = self._people.get((tenant, draft.id))
            person = Person(
                id=draft.id,
                badge_number=draft.badge_number,
                employee_number=draft.employee_number,
                change_version=self._next_version(tenant),
            )
            self._people[(tenant, draft.id)] = person
            written.append(Written(record=person, created=old is None or old.deleted))
        return written

    async def get_person(self, tenant: str, person_id: int) -> Person | None:
        """Return a live person."""
        person = self._people.get((tenant, person_id))
        return person if person is not None and not person.deleted else None

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a person unless work interruptions still refer to it."""
        if await self.get_person(tenant, person_id) is None:
            return None
        in_use = any(
            key[0] == tenant and not r.deleted and r.person_id == person_id
            for key, r in self._records.items()
        )
        if in_use:
            raise ConflictError(
                f"Person {person_id} still has work interruptions",
                reasons=(f"id: delete the work interruptions of person {person_id} first",),
            )
        tomb = Person(
            id=person_id,
            badge_number=None,
            employee_number=None,
            change_version=self._next_version(tenant),
            deleted=True,
        )
        self._people[(tenant, person_id)] = tomb
        self._references.pop((tenant, person_id), None)
        return tomb

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Upsert work interruptions after checking every person exists."""
        missing = sorted(
            {d.person_id for d in drafts if await self.get_person(tenant, d.person_id) is None}
        )
        if missing:
            raise UnknownPersonError.for_ids(missing)
        written = []
        for draft in drafts:
            old = self._records.get((tenant, draft.id))
            record = WorkInterruption(
                **{f.name: getattr(draft, f.name) for f in dataclasses.fields(draft)},
                change_version=self._next_version(tenant),
            )
            self._work_heads[tenant] = record.change_version
            self._records[(tenant, draft.id)] = record
            written.append(Written(record=record, created=old is None or old.deleted))
        return written

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption | None:
        """Return a live work interruption."""
        record = self._records.get((tenant, record_id))
        return record if record is not None and not record.deleted else None

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Replace a live record by its tombstone."""
        record = await self.get_work_interruption(tenant, record_id)
        if record is None:
            return None
        tomb = dataclasses.replace(record, change_version=self._next_version(tenant), deleted=True)
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

    async def head_version(self, tenant: str) -> int:
        """Return the tenant's latest version."""
        return self._heads.get(tenant, 0)

    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Store a webhook starting at the head version."""
        if max_enabled is not None:
            enabled = sum(
                1
                for w in self._webhooks.values()
                if w.tenant == new.tenant
                and w.status is WebhookStatus.ENABLED
                and w.deleted_at is None
            )
            if enabled >= max_enabled:
                raise TooManyWebhooksError.limit(max_enabled)
        webhook = Webhook(
            id=new.id,
            tenant=new.tenant,
            destination_url=new.destination_url,
            collection=new.collection,
            secret=new.secret,
            status=WebhookStatus.ENABLED,
            created_at=new.created_at,
            valid_until=new.valid_until,
            cursor=self._heads.get(new.tenant, 0),
            external_references=new.external_references,
        )
        self._webhooks[new.id] = webhook
        return webhook

    async def get_webhook(self, tenant: str, webhook_id: str) -> Webhook | None:
        """Return the tenant's webhook, deleted or not."""
        webhook = self._webhooks.get(webhook_id)
        return webhook if webhook is not None and webhook.tenant == tenant else None

    async def list_webhooks(self, tenant: str) -> list[Webhook]:
        """Return the tenant's live webhooks, oldest first."""
        found = [w for w in self._webhooks.values() if w.tenant == tenant and w.deleted_at is None]
        return sorted(found, key=lambda w: (w.created_at, w.id))

    async def delete_webhook(self, tenant: str, webhook_id: str, *, at: dt.datetime) -> bool:
        """Soft-delete a live webhook."""
        webhook = await self.get_webhook(tenant, webhook_id)
        if webhook is None or webhook.deleted_at is not None:
            return False
        self._webhooks[webhook_id] = dataclasses.replace(webhook, deleted_at=at)
        return True

    def _sendable(self, w: Webhook, now: dt.datetime) -> bool:
        """Enabled, live and not backing off at ``now``."""
        return (
            w.status is WebhookStatus.ENABLED
            and w.deleted_at is None
            and (w.next_attempt_at is None or w.next_attempt_at <= now)
        )

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Many[str] = (),
        after: str = "",
        full: Many[str] = (),
    ) -> list[Webhook]:
        """Select webhooks that have work and may be tried now, tenants taking turns."""
        due = [
            w
            for w in self._webhooks.values()
            if self._sendable(w, now)
            and w.valid_until > now
            and w.cursor < self._work_heads.get(w.tenant, 0)
            and w.id not in holding
            and w.tenant not in full
        ]
        due.sort(key=lambda w: (w.cursor, w.id))
        turns: dict[str, int] = {}
        ranked = []
        for w in due:
            turns[w.tenant] = turn = turns.get(w.tenant, 0) + 1
            lap = 0 if w.tenant > after else 1
            ranked.append((turn, lap, w.tenant, w.id, w))
        ranked.sort(key=lambda item: item[:4])
        return [w for *_, w in ranked[:limit]]

    async def hold_delivery(self) -> None:
        """One process owns the memory: nothing to hold."""

    async def settle_tenants(self, *, now: dt.datetime) -> int:
        """Mark settled the tenants whose sendable webhooks have all caught up."""
        settled = 0
        for tenant, head in self._work_heads.items():
            if self._settled.get(tenant, 0) >= head:
                continue
            if any(
                w.tenant == tenant and self._sendable(w, now) and w.cursor < head
                for w in self._webhooks.values()
            ):
                continue
            self._settled[tenant] = head
            settled += 1
        return settled

    async def renew_leases(self, webhook_ids: Many[str]) -> set[str]:
        """One worker per database here: it holds every webhook."""
        return set(webhook_ids)

    async def release_leases(self, webhook_ids: Many[str]) -> None:
        """No leases: one worker per database."""

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Changes come from this process only; its services wake the worker directly."""

    async def disable_expired(self, *, now: dt.datetime) -> int:
        """Disable enabled webhooks past their validity."""
        expired = [
            w
            for w in self._webhooks.values()
            if w.status is WebhookStatus.ENABLED and w.valid_until <= now
        ]
        for w in expired:
            self._webhooks[w.id] = dataclasses.replace(
                w, status=WebhookStatus.DISABLED, disabled_reason="expired"
            )
        return len(expired)

    async def apply_window(self, outcome: WindowOutcome) -> bool:
        """Apply the outcome only if nobody moved the cursor meanwhile."""
        return outcome.webhook_id in await self.apply_windows([outcome])

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Apply each outcome whose cursor nobody moved meanwhile."""
        applied: dict[str, bool] = {}
        for outcome in outcomes:
            webhook = self._webhooks.get(outcome.webhook_id)
            if webhook is None or webhook.cursor != outcome.expected_cursor:
                continue
            status = webhook.status
            if outcome.disabled_reason is not None:
                status = WebhookStatus.DISABLED
            self._webhooks[webhook.id] = dataclasses.replace(
                webhook,
                cursor=outcome.cursor,
                failures=outcome.failures,
                next_attempt_at=outcome.next_attempt_at,
                status=status,
                disabled_reason=outcome.disabled_reason or webhook.disabled_reason,
            )
            if outcome.next_attempt_at is None and outcome.disabled_reason is None:
                settled = self._settled.get(webhook.tenant, 0)
                if settled > outcome.cursor < self._work_heads.get(webhook.tenant, 0):
                    self._settled[webhook.tenant] = outcome.cursor
            if outcome.caught_up_at is not None:
                self._caught_up_at[webhook.id] = outcome.caught_up_at
            self._attempts.extend(outcome.attempts)
            for attempt in outcome.attempts:
                self._record_delivery(attempt)
            applied[webhook.id] = status is WebhookStatus.ENABLED and webhook.deleted_at is None
        return applied

    def _record_delivery(self, a: DeliveryAttempt) -> None:
        key = (a.webhook_id, a.message_id)
        old = self._deliveries.get(key)
        self._deliveries[key] = Delivery(
            webhook_id=a.webhook_id,
            id=a.message_id,
            record_id=a.record_id,
            change_version=a.change_version,
            status=DeliveryStatus.SUCCEEDED if a.succeeded else DeliveryStatus.FAILED,
            attempts=1 if old is None else old.attempts + 1,
            first_attempt_at=a.attempted_at if old is None else old.first_attempt_at,
            last_attempt_at=a.attempted_at,
            last_status_code=a.status_code,
            last_error_class=a.error_class,
            next_attempt_at=a.next_attempt_at,
        )

    async def list_attempts(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """Return the newest attempts first."""
        mine = [a for a in self._attempts if a.webhook_id == webhook_id]
        return list(reversed(mine))[:limit]

    async def list_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        """Filter and order the webhook's deliveries like the SQL stores do."""
        found = [
            d
            for d in self._deliveries.values()
            if d.webhook_id == query.webhook_id
            and (query.statuses is None or d.status in query.statuses)
            and (query.since is None or d.last_attempt_at >= query.since)
            and (query.until is None or d.last_attempt_at <= query.until)
            and (query.after is None or (d.last_attempt_at, d.id) < query.after)
        ]
        found.sort(key=lambda d: (d.last_attempt_at, d.id), reverse=True)
        return found[: query.limit]

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """One delivery and its attempts, oldest first."""
        delivery = self._deliveries.get((webhook_id, delivery_id))
        if delivery is None:
            return None
        attempts = [
            a for a in self._attempts if a.webhook_id == webhook_id and a.message_id == delivery_id
        ]
        return delivery, attempts

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Forget attempts and deliveries last tried before ``before``."""
        kept = [a for a in self._attempts if a.attempted_at >= before]
        deleted = len(self._attempts) - len(kept)
        self._attempts = kept
        self._deliveries = {
            k: d for k, d in self._deliveries.items() if d.last_attempt_at >= before
        }
        return deleted

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Counts by status and the webhooks behind or failing, the longest behind first."""
        live = [w for w in self._webhooks.values() if w.deleted_at is None]
        found = [
            WebhookBacklog(
                webhook_id=w.id,
                tenant=w.tenant,
                created_at=w.created_at,
                caught_up_at=self._caught_up_at.get(w.id),
                changes_behind=max(self._work_heads.get(w.tenant, 0) - w.cursor, 0),
                failures=w.failures,
            )
            for w in live
            if w.status is WebhookStatus.ENABLED
            and (w.cursor < self._work_heads.get(w.tenant, 0) or w.next_attempt_at is not None)
        ]
        found.sort(key=lambda b: (b.caught_up_at or b.created_at, b.webhook_id))
        return BacklogReport(
            by_status=dict(Tally(w.status for w in live)),
            behind=sum(1 for b in found if b.changes_behind > 0),
            failing=sum(1 for b in found if b.failures > 0),
            worst=found[:limit],
        )

    # -- reads and external references ------------------------------------------------
    async def list_work_interruptions(
        self, tenant: str, query: WorkInterruptionQuery
    ) -> list[WorkInterruption]:
        """Scan live records of the tenant in ``(date, id)`` order."""
        found = sorted(
            (
                r
                for (t, _), r in self._records.items()
                if t == tenant
                and not r.deleted
                and query.selection.matches(date=r.date, person_id=r.person_id)
                and (query.after is None or (r.date, r.id) > query.after)
            ),
            key=lambda r: (r.date, r.id),
        )
        return found[: query.limit]

    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each live person's non-empty values of ``keys``."""
        found: dict[int, dict[str, str]] = {}
        for pid in person_ids:
            person = await self.get_person(tenant, pid)
            if person is None:
                continue
            values = {
                BADGE_NUMBER: person.badge_number,
                EMPLOYEE_NUMBER: person.employee_number,
                **self._references.get((tenant, pid), {}),
            }
            found[pid] = {k: v for k in keys if (v := values.get(k))}
        return found

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
        if group.parent_id is not None:
            ancestor: int | None = group.parent_id
            if (tenant, group.kind, ancestor) not in self._groups:
                raise unknown_parent(group.parent_id)
            while ancestor is not None:
                if ancestor == group.id:
                    raise group_in_a_cycle(group.id, group.parent_id)
                ancestor = self._groups[(tenant, group.kind, ancestor)].parent_id
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
