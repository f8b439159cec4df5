"""The delivery worker: one cursor per webhook over the record table, windows sent concurrently.

For each due webhook: read the next window of changed records after its cursor (each record
once, in its latest state), sign and POST them concurrently, then in one transaction move the
cursor past the acknowledged prefix, store the back-off state and insert the attempt rows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from workhooks.delivery.metrics import DeliveryMetrics
from workhooks.delivery.sender import Sender, SendResult
from workhooks.domain.change_version import format_version
from workhooks.domain.deliveries import DeliveryAttempt, message_id
from workhooks.domain.events import event_document
from workhooks.domain.records import WorkInterruption
from workhooks.domain.retry import BackoffState, Disable, RetryPolicy, next_step, parse_retry_after
from workhooks.domain.signing import sign
from workhooks.domain.webhooks import Webhook
from workhooks.services.clock import Clock
from workhooks.storage.protocol import Store, WindowOutcome

__all__ = ["DeliveryWorker", "WorkerOptions"]

logger = logging.getLogger("workhooks.delivery")
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    """Tuning of the worker."""

    window: int = 500
    max_webhooks_per_round: int = 64
    poll_interval_seconds: float = 1.0
    history_retention: dt.timedelta = dt.timedelta(days=7)
    lease_renew_seconds: float = 10.0
    purge_interval: dt.timedelta = dt.timedelta(minutes=1)


async def _wait_any(*waits: Coroutine[Any, Any, Any], timeout: float) -> None:  # noqa: ASYNC109
    """Wait until one of ``waits`` finishes or ``timeout`` passes; cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    _, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


class DeliveryWorker:
    """Delivers every committed change to every enabled webhook, at least once, in order."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        clock: Clock,
        *,
        policy: RetryPolicy,
        rng: random.Random,
        options: WorkerOptions | None = None,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._policy = policy
        self._rng = rng
        self._options = options or WorkerOptions()
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._next_purge_at: dt.datetime | None = None

    def wake(self, tenant: str | None = None) -> None:
        """Ask the worker to look for work now (called after a committed write)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; sleep until woken or the poll interval passes.

        A failed round (e.g. the database is restarting) is retried after a growing pause
        (poll interval, doubling, at most 30 s); nothing is lost, the cursors did not move.
        """
        failed_rounds = 0
        while not stop.is_set():
            self._wake.clear()
            try:
                sent = await self.run_once()
                failed_rounds = 0
            except Exception:
                failed_rounds += 1
                pause = min(self._options.poll_interval_seconds * 2 ** (failed_rounds - 1), 30.0)
                logger.exception(
                    "delivery round failed (%d in a row); next try in %.1f s", failed_rounds, pause
                )
                await _wait_any(stop.wait(), timeout=pause)
                continue
            if not sent:
                await _wait_any(
                    self._wake.wait(), stop.wait(), timeout=self._options.poll_interval_seconds
                )

    async def run_once(self) -> int:
        """Send one window to every due webhook; return how many deliveries were attempted.

        While windows are in flight a heartbeat renews the webhooks' leases; a window whose
        lease is lost (another worker took the webhook over) is abandoned unapplied.
        """
        now = self._clock.now()
        await self._purge_history(now)
        expired = await self._store.disable_expired(now=now)
        if expired:
            logger.info("disabled %d expired webhook(s)", expired)
        due = await self._store.due_webhooks(now=now, limit=self._options.max_webhooks_per_round)
        if not due:
            return 0
        windows = {w.id: asyncio.ensure_future(self.deliver_window(w)) for w in due}
        heartbeat = asyncio.ensure_future(self._heartbeat(windows))
        try:
            results = await asyncio.gather(*windows.values(), return_exceptions=True)
        finally:
            heartbeat.cancel()
        sent = 0
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                continue
            if isinstance(result, BaseException):
                raise result
            sent += result
        return sent

    async def _heartbeat(self, windows: Mapping[str, asyncio.Future[int]]) -> None:
        while True:
            await asyncio.sleep(self._options.lease_renew_seconds)
            pending = {webhook_id for webhook_id, task in windows.items() if not task.done()}
            if not pending:
                return
            held = await self._store.renew_leases(pending)
            for lost in pending - held:
                logger.warning("lease on webhook %s lost; abandoning its window", lost)
                windows[lost].cancel()

    async def _purge_history(self, now: dt.datetime) -> None:
        """Drop delivery history older than the retention, at most once per purge interval."""
        if self._next_purge_at is not None and now < self._next_purge_at:
            return
        self._next_purge_at = now + self._options.purge_interval
        purged = await self._store.purge_history(before=now - self._options.history_retention)
        if purged:
            logger.info("purged %d delivery attempt(s) past retention", purged)

    async def deliver_window(self, webhook: Webhook) -> int:
        """Send the next window of ``webhook``; return the number of attempts made."""
        # While backing off, one probe at a time; full windows again after a success.
        size = 1 if webhook.failures else self._options.window
        records = await self._store.read_changes(webhook.tenant, after=webhook.cursor, limit=size)
        if not records:
            return 0
        references = await self._references(webhook, records)
        results = await asyncio.gather(*(self._send(webhook, r, references) for r in records))
        if self._metrics is not None:
            self._metrics.observe(results)
        outcome = self._outcome(webhook, records, results)
        if len(records) < size and outcome.cursor == records[-1].change_version:
            # A short window fully acknowledged: the webhook has delivered everything.
            outcome = dataclasses.replace(outcome, caught_up_at=self._clock.now())
        await self._store.apply_window(outcome)
        return len(records)

    async def _references(
        self, webhook: Webhook, records: Sequence[WorkInterruption]
    ) -> dict[int, dict[str, str]] | None:
        """The people's references the webhook asked for, as they are now (one read)."""
        if not webhook.external_references:
            return None
        keys = [r.key for r in webhook.external_references]
        people = {r.person_id for r in records if not r.deleted}
        return await self._store.references_for(webhook.tenant, people, keys)

    async def _send(
        self,
        webhook: Webhook,
        record: WorkInterruption,
        references: dict[int, dict[str, str]] | None,
    ) -> SendResult:
        person_references = None if references is None else references.get(record.person_id, {})
        body = _encode(event_document(record, person_references=person_references))
        msg_id = message_id(format_version(record.change_version))
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                webhook.secret, msg_id=msg_id, timestamp=timestamp, body=body
            ),
        }
        return await self._sender.send(webhook.destination_url, headers=headers, body=body)

    def _outcome(
        self,
        webhook: Webhook,
        records: Sequence[WorkInterruption],
        results: Sequence[SendResult],
    ) -> WindowOutcome:
        now = self._clock.now()
        cursor = webhook.cursor
        first_failure: SendResult | None = None
        for record, result in zip(records, results, strict=True):
            if result.failure is not None:
                first_failure = result
                break
            cursor = record.change_version
        failures, next_attempt_at, disabled = 0, None, None
        if first_failure is not None and first_failure.failure is not None:
            state, decision = next_step(
                BackoffState(failures=webhook.failures, next_attempt_at=webhook.next_attempt_at),
                failure=first_failure.failure,
                now=now,
                rng=self._rng,
                policy=self._policy,
                retry_after=parse_retry_after(first_failure.retry_after, now=now),
            )
            failures, next_attempt_at = state.failures, state.next_attempt_at
            if isinstance(decision, Disable):
                disabled = decision.reason
                logger.warning("webhook %s disabled: %s", webhook.id, decision.reason)
        attempts = [
            DeliveryAttempt(
                webhook_id=webhook.id,
                message_id=message_id(format_version(record.change_version)),
                record_id=record.id,
                change_version=record.change_version,
                attempted_at=now,
                succeeded=result.failure is None,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error_class=None if result.failure is None else result.failure.value,
                response_excerpt=result.excerpt or (result.error or ""),
                next_attempt_at=None if result.failure is None else next_attempt_at,
            )
            for record, result in zip(records, results, strict=True)
        ]
        return WindowOutcome(
            webhook_id=webhook.id,
            expected_cursor=webhook.cursor,
            cursor=cursor,
            failures=failures,
            next_attempt_at=next_attempt_at,
            disabled_reason=disabled,
            attempts=attempts,
        )
