"""Webhooks, delivery and history of ``InMemoryStore`` (``WebhookStore``, ``DeliveryStore``,
``HistoryStore``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Sequence

from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery, summarize
from workhooks.domain.webhooks import NewWebhook, Webhook, WebhookStatus, check_webhook_limit
from workhooks.storage.protocol import BacklogReport, WebhookBacklog, WindowOutcome

__all__ = ["InMemoryDelivery"]


def _sendable(w: Webhook, now: dt.datetime) -> bool:
    """Enabled, live and not backing off at ``now``."""
    return (
        w.status is WebhookStatus.ENABLED
        and w.deleted_at is None
        and (w.next_attempt_at is None or w.next_attempt_at <= now)
    )


class InMemoryDelivery:
    """Mixed into ``InMemoryStore``, which owns the dictionaries kept here."""

    _heads: dict[str, int]
    _work_heads: dict[str, int]
    _settled: dict[str, int]
    _webhooks: dict[str, Webhook]
    _attempts: list[DeliveryAttempt]
    _deliveries: dict[tuple[str, str], Delivery]
    _caught_up_at: dict[str, dt.datetime]

    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Store a webhook starting at the head version."""
        enabled = sum(
            1
            for w in self._webhooks.values()
            if w.tenant == new.tenant and w.status is WebhookStatus.ENABLED and w.deleted_at is None
        )
        check_webhook_limit(enabled, max_enabled=max_enabled)
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

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Collection[str] = (),
        after: str = "",
        full: Collection[str] = (),
    ) -> list[Webhook]:
        """Select webhooks that have work and may be tried now, tenants taking turns."""
        due = [
            w
            for w in self._webhooks.values()
            if _sendable(w, now)
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
                w.tenant == tenant and _sendable(w, now) and w.cursor < head
                for w in self._webhooks.values()
            ):
                continue
            self._settled[tenant] = head
            settled += 1
        return settled

    async def renew_leases(self, webhook_ids: Collection[str]) -> set[str]:
        """One worker per database here: it holds every webhook."""
        return set(webhook_ids)

    async def release_leases(self, webhook_ids: Collection[str]) -> None:
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
            disabled = outcome.disabled_reason is not None
            self._webhooks[webhook.id] = dataclasses.replace(
                webhook,
                cursor=outcome.cursor,
                failures=outcome.failures,
                next_attempt_at=outcome.next_attempt_at,
                status=WebhookStatus.DISABLED if disabled else webhook.status,
                disabled_reason=outcome.disabled_reason or webhook.disabled_reason,
            )
            if outcome.next_attempt_at is None and not disabled:
                settled = self._settled.get(webhook.tenant, 0)
                if settled > outcome.cursor < self._work_heads.get(webhook.tenant, 0):
                    self._settled[webhook.tenant] = outcome.cursor
            if outcome.caught_up_at is not None:
                self._caught_up_at[webhook.id] = outcome.caught_up_at
            self._attempts.extend(outcome.attempts)
            for a in outcome.attempts:
                key = (a.webhook_id, a.message_id)
                self._deliveries[key] = summarize(self._deliveries.get(key), a)
            active = self._webhooks[webhook.id].status is WebhookStatus.ENABLED
            applied[webhook.id] = active and webhook.deleted_at is None
        return applied

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
            by_status=dict(Counter(w.status for w in live)),
            behind=sum(1 for b in found if b.changes_behind > 0),
            failing=sum(1 for b in found if b.failures > 0),
            worst=found[:limit],
        )
