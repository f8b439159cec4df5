"""The delivery worker: one cursor per webhook over the record table, windows that never wait
for each other.

For each webhook it holds, the worker reads the next window of changed records after the
cursor (each record once, in its latest state), signs and POSTs them, then moves the cursor
past the acknowledged prefix, stores the back-off state and records the attempts, in one
transaction shared with whatever other windows finished at the same time. There are no
rounds: up to ``windows_in_flight`` windows run at once, the scheduler (``scheduler.py``)
picks the next one fairly as soon as a slot is free, and a webhook with more to send goes
straight back into its tenant's turn. New work is found on wake-ups (a committed write) and
every poll interval, only among unsettled tenants and webhooks whose retry time has come.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import math
import random
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workhooks.delivery.metrics import DeliveryMetrics
from workhooks.delivery.scheduler import Scheduler, Slot
from workhooks.delivery.sender import Sender, SendResult
from workhooks.delivery.state_log import WebhookStateLog
from workhooks.delivery.windows import GroupCommit, SharedReads, Window, WindowStore
from workhooks.domain.change_version import format_version
from workhooks.domain.deliveries import DeliveryAttempt, excerpt, message_id
from workhooks.domain.records import WorkInterruption
from workhooks.domain.retry import (
    BackoffState,
    Disable,
    FailureClass,
    RetryPolicy,
    next_step,
    parse_retry_after,
)
from workhooks.domain.search import LagSample
from workhooks.domain.signing import delivery_headers
from workhooks.domain.webhooks import Webhook, destination_origin
from workhooks.services.clock import Clock
from workhooks.storage.console import LagStore
from workhooks.storage.protocol import DeliveryStore, HistoryStore, WindowOutcome

__all__ = ["DeliveryWorker", "WorkerOptions", "WorkerStore"]

logger = logging.getLogger("workhooks.delivery")

# Failures without any HTTP answer: the destination itself is unreachable or hung.
_NO_ANSWER = frozenset(
    {
        FailureClass.TIMEOUT,
        FailureClass.CONNECTION_REFUSED,
        FailureClass.CONNECTION_ERROR,
        FailureClass.TLS,
        FailureClass.DNS,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    """Tuning of the worker (settings in brackets).

    ``window``: deliveries per window (``WORKHOOKS_DELIVERY_WINDOW``);
    ``windows_in_flight``: windows a worker runs at once (``WORKHOOKS_WINDOWS_IN_FLIGHT``);
    ``webhook_concurrency``: requests in flight per webhook (``WORKHOOKS_WEBHOOK_CONCURRENCY``);
    ``origin_windows``: windows in flight per destination origin, one while it is probed
    (``WORKHOOKS_DELIVERY_CONCURRENCY``, also the connections per origin);
    ``claim_batch``: webhooks claimed per query (``WORKHOOKS_CLAIM_BATCH``);
    ``search_gap_seconds``: the least time between two searches, so the wake-ups of a burst
    of writes share one search instead of costing one each (an isolated write is searched
    for at once).
    ``excerpt_bytes``: the receiver's answer kept per attempt (``WORKHOOKS_EXCERPT_BYTES``),
    except for the failure that decides a window's back-off, which keeps up to
    ``failure_excerpt_bytes`` (``WORKHOOKS_FAILURE_EXCERPT_BYTES``).
    """

    window: int
    windows_in_flight: int
    webhook_concurrency: int
    origin_windows: int
    claim_batch: int
    poll_interval_seconds: float
    history_retention: dt.timedelta
    lease_renew_seconds: float
    excerpt_bytes: int
    failure_excerpt_bytes: int
    purge_interval: dt.timedelta = dt.timedelta(minutes=1)
    search_gap_seconds: float = 0.005
    lag_sample_interval: dt.timedelta = dt.timedelta(minutes=1)
    lag_sample_retention: dt.timedelta = dt.timedelta(days=1)


async def _wait_any(*waits: Coroutine[Any, Any, Any], timeout: float) -> None:  # noqa: ASYNC109
    """Wait until one of ``waits`` finishes or ``timeout`` passes; cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    _, pending = await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


def _answered(results: Sequence[SendResult]) -> bool | None:
    """True if the destination answered HTTP; False if it only failed without answering."""
    if any(r.status_code is not None for r in results):
        return True
    if any(r.failure in _NO_ANSWER for r in results):
        return False
    return None


def _stopped_at(after: str, claimed: Sequence[Webhook]) -> str:
    """Where a full search stopped in its rotation: the last tenant it reached."""
    wrapped = [w.tenant for w in claimed if w.tenant <= after]
    return max(wrapped) if wrapped else max(w.tenant for w in claimed)


class WorkerStore(DeliveryStore, HistoryStore, WindowStore, LagStore, Protocol):
    """What the worker uses: claims and outcomes, history retention, windows' reads, and the
    lag samples of the overview."""


class DeliveryWorker:
    """Delivers every committed change to every enabled webhook, at least once, in order."""

    def __init__(
        self,
        store: WorkerStore,
        sender: Sender,
        clock: Clock,
        *,
        policy: RetryPolicy,
        rng: random.Random,
        options: WorkerOptions,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._policy = policy
        self._rng = rng
        self._options = options
        self._metrics = metrics
        self._scheduler: Scheduler[Webhook] = Scheduler(
            capacity=options.windows_in_flight, origin_limit=options.origin_windows
        )
        self._reads = SharedReads(store)
        self._commits = GroupCommit(store)
        self._windows: dict[str, asyncio.Task[None]] = {}
        self._committing: set[str] = set()  # sent; outcome being written; slot already free
        self._refused: set[str] = set()  # webhooks whose refused destination was logged
        self._wake = asyncio.Event()
        self._woken: dict[str, int] = {}
        self._continuous = False
        self._more_due = False
        self._rotation = ""  # the tenant the last search stopped at: the next starts after it
        self._left_out: set[str] = set()  # tenants a search skipped because enough were held
        self._attempted = 0
        self._next_sweep_at: dt.datetime | None = None
        self._next_purge_at: dt.datetime | None = None
        self._next_lag_sample_at: dt.datetime | None = None
        self._renewed_at: dt.datetime | None = None  # the last heartbeat that renewed all leases
        self._state_log = WebhookStateLog(logger)

    def wake(self, tenant: str | None = None) -> None:
        """Ask the worker to look for work now (called after a committed write)."""
        if tenant is not None:
            self._woken[tenant] = self._woken.get(tenant, 0) + 1
            self._reads.forget(tenant)
        self._wake.set()

    def renewal_overdue(self, now: dt.datetime) -> bool:
        """Whether leases have gone unrenewed for longer than a lease lasts (three heartbeats).

        Never while the worker is not running its loop (``run``).
        """
        if not self._continuous or self._renewed_at is None:
            return False
        late = (now - self._renewed_at).total_seconds()
        return late > 3 * self._options.lease_renew_seconds

    @property
    def windows_in_flight(self) -> int:
        """Windows being sent now."""
        return self._scheduler.in_flight

    # -- the loop -----------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; windows in flight then finish and are recorded.

        A failed search for work (e.g. the database is restarting) is retried after a
        growing pause (poll interval, doubling, at most 30 s); nothing is lost, the cursors
        did not move.
        """
        self._continuous = True
        self._renewed_at = self._clock.now()
        heartbeat = asyncio.create_task(self._heartbeat(), name="delivery-heartbeat")
        loop = asyncio.get_running_loop()
        try:
            failed = 0
            searched_at = -math.inf
            while not stop.is_set():
                gap = searched_at + self._options.search_gap_seconds - loop.time()
                if gap > 0:
                    await asyncio.sleep(gap)  # the writes of a burst share one search
                searched_at = loop.time()
                self._wake.clear()
                try:
                    await self._find()
                    failed = 0
                except Exception:
                    failed += 1
                    pause = min(self._options.poll_interval_seconds * 2 ** (failed - 1), 30.0)
                    logger.exception(
                        "looking for deliveries failed (%d in a row); next try in %.1f s",
                        failed,
                        pause,
                    )
                    await _wait_any(stop.wait(), timeout=pause)
                    continue
                self._dispatch()
                await _wait_any(
                    self._wake.wait(), stop.wait(), timeout=self._options.poll_interval_seconds
                )
        finally:
            self._continuous = False
            heartbeat.cancel()
            await self._finish_in_flight()

    async def run_once(self) -> int:
        """Send one window to every due webhook and wait for all; return the attempts made.

        The deterministic step for tests and tools: expiry and settling run first, every
        webhook found gets at most one window, and those that could not start (their
        destination is being probed) are given back.
        """
        before = self._attempted
        await self._find(sweep=True)
        started = True
        while started:
            started = self._dispatch() > 0
            while self._windows:
                await asyncio.wait(list(self._windows.values()))
        waiting = [slot.webhook_id for slot in self._scheduler.waiting()]
        for webhook_id in waiting:
            self._scheduler.drop(webhook_id)
        await self._store.release_leases(waiting)
        return self._attempted - before

    async def _finish_in_flight(self) -> None:
        """Let the windows in flight finish and be recorded; give back what never started."""
        while self._windows:
            await asyncio.wait(list(self._windows.values()))
        waiting = [slot.webhook_id for slot in self._scheduler.waiting()]
        for webhook_id in waiting:
            self._scheduler.drop(webhook_id)
        try:
            await self._store.release_leases(waiting)
        except Exception:
            logger.exception("could not give back %d lease(s); they run out", len(waiting))

    # -- finding work -------------------------------------------------------------------
    async def _find(self, *, sweep: bool = False) -> None:
        """Claim webhooks with work, up to twice the windows that may be in flight."""
        now = self._clock.now()
        if sweep or self._next_sweep_at is None or now >= self._next_sweep_at:
            await self._sweep(now)
        capacity = self._options.windows_in_flight
        room = 2 * capacity - self._held()
        if room <= 0 and self._scheduler.starved():
            # Everything held waits on a share or a closed origin: find other tenants' work.
            room = capacity - self._scheduler.in_flight
        limit = min(room, self._options.claim_batch)
        if limit <= 0:
            self._more_due = True
            return
        full = self._scheduler.full_tenants()
        self._left_out.update(full)  # their next freed webhook looks for more of theirs
        claimed = await self._store.due_webhooks(
            now=now,
            limit=limit,
            holding=self._held_ids(),
            after=self._rotation,
            full=full,
        )
        self._more_due = len(claimed) == limit
        self._rotation = _stopped_at(self._rotation, claimed) if self._more_due else ""
        for webhook in claimed:
            origin = destination_origin(webhook.destination_url)
            self._scheduler.offer(Slot(webhook.id, webhook.tenant, origin, webhook))

    async def _sweep(self, now: dt.datetime) -> None:
        """Once per poll interval: expiry, settled tenants, (rarely) history retention, and the
        lag sample of each interval of ``lag_sample_interval``."""
        self._next_sweep_at = now + dt.timedelta(seconds=self._options.poll_interval_seconds)
        if self._next_purge_at is None or now >= self._next_purge_at:
            self._next_purge_at = now + self._options.purge_interval
            purged = await self._store.purge_history(before=now - self._options.history_retention)
            if purged:
                logger.info("purged %d delivery attempt(s) past retention", purged)
        expired = await self._store.disable_expired(now=now)
        if expired:
            logger.info("disabled %d expired webhook(s)", expired)
        await self._store.settle_tenants(now=now)
        if self._next_lag_sample_at is None or now >= self._next_lag_sample_at:
            self._next_lag_sample_at = now + self._options.lag_sample_interval
            await self._sample_lag(now)

    async def _sample_lag(self, now: dt.datetime) -> None:
        """Keep how long the webhook furthest behind has been behind (the overview's plot)."""
        report = await self._store.webhook_backlogs(limit=10)
        minute = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
        await self._store.record_lag_sample(
            LagSample(minute=minute, lag_seconds=report.lag_seconds(now), behind=report.behind),
            keep_after=now - self._options.lag_sample_retention,
        )

    def _dispatch(self) -> int:
        """Start windows while the scheduler allows; return how many started."""
        started = 0
        while (slot := self._scheduler.next()) is not None:
            window = asyncio.create_task(
                self._window(slot), name=f"delivery-window-{slot.webhook_id}"
            )
            self._windows[slot.webhook_id] = window
            window.add_done_callback(functools.partial(self._never_ran, slot.webhook_id))
            started += 1
        return started

    def _never_ran(self, webhook_id: str, window: asyncio.Task[None]) -> None:
        """Free the slot of a window cancelled before it started (its ``finally`` never ran)."""
        if self._windows.get(webhook_id) is window:
            del self._windows[webhook_id]
            self._scheduler.finished(webhook_id)

    async def _heartbeat(self) -> None:
        """Renew the leases of every webhook held; drop the ones another worker took over."""
        while True:
            await asyncio.sleep(self._options.lease_renew_seconds)
            held = self._held_ids()
            if not held:
                self._renewed_at = self._clock.now()
                continue
            try:
                kept = await self._store.renew_leases(held)
            except Exception:
                logger.exception("renewing %d lease(s) failed", len(held))
                continue
            self._renewed_at = self._clock.now()
            for lost in held - kept:
                window = self._windows.get(lost)
                if window is not None:
                    logger.warning("lease on webhook %s lost; abandoning its window", lost)
                    window.cancel()
                else:
                    self._scheduler.drop(lost)

    # -- one window ---------------------------------------------------------------------
    def _held(self) -> int:
        return self._scheduler.held + len(self._committing)

    def _held_ids(self) -> set[str]:
        """Webhooks this worker holds: waiting, sending, or having their outcome written."""
        return self._scheduler.held_ids() | self._committing

    async def _window(self, slot: Slot[Webhook]) -> None:
        """Send the webhook's next window and record it.

        The slot is freed as soon as the sending is done, so writing the outcome never holds
        up another window; the webhook stays held (not claimable) until it is written.
        """
        webhook = slot.payload
        woken = self._woken.get(webhook.tenant, 0)
        freed = False
        again: Webhook | None = None
        try:
            sent = await self._send_window(slot)
            self._free(slot, answered=None if sent is None else _answered(sent[1]))
            freed = True
            if sent is not None:
                again = await self._record(webhook, *sent, woken=woken)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("window of webhook %s failed; it is tried again later", webhook.id)
        finally:
            if not freed:
                self._free(slot, answered=None)
            del self._windows[webhook.id]
            if again is not None:
                self._scheduler.offer(Slot(webhook.id, webhook.tenant, slot.origin, again))
                self._refill()

    def _free(self, slot: Slot[Webhook], *, answered: bool | None) -> None:
        """Give the slot back and start whatever may start now."""
        self._scheduler.finished(slot.webhook_id, answered=answered)
        self._refill(slot.tenant)

    def _refill(self, tenant: str | None = None) -> None:
        if tenant in self._left_out and not self._scheduler.full(tenant):
            self._left_out.discard(tenant)
            self._wake.set()  # a search skipped it for being full: it may have more now
        if self._continuous:
            self._dispatch()
            if self._more_due and (
                self._held() < self._options.windows_in_flight or self._scheduler.starved()
            ):
                self._wake.set()

    async def _send_window(
        self, slot: Slot[Webhook]
    ) -> tuple[Window, list[SendResult], int] | None:
        """Read and send the webhook's next window; None if there was nothing to send.

        Returns the window, the results and the size asked for.
        """
        webhook = slot.payload
        if webhook.valid_until <= self._clock.now():  # the sweep disables it
            await self._store.release_leases([webhook.id])
            return None
        # While backing off or while its destination is probed: one delivery at a time.
        probing = webhook.failures or self._scheduler.probing(slot.origin)
        size = 1 if probing else self._options.window
        keys = tuple(r.key for r in webhook.external_references)
        window = await self._reads.window(
            webhook.tenant, after=webhook.cursor, size=size, keys=keys
        )
        if not window.records:
            await self._store.release_leases([webhook.id])
            return None
        results = await self._send_all(webhook, window)
        self._attempted += len(results)
        if self._metrics is not None:
            self._metrics.observe(results)
        return window, results, size

    async def _record(
        self,
        webhook: Webhook,
        window: Window,
        results: list[SendResult],
        size: int,
        *,
        woken: int,
    ) -> Webhook | None:
        """Write the window's outcome; return the webhook to offer again if it sends on.

        It sends on at once, keeping its lease, after a full window or when its tenant wrote
        meanwhile, as long as it succeeded and is still enabled, live and unexpired.
        """
        self._log_refused(webhook, results)
        outcome = self._outcome(webhook, window.records, results)
        if len(window.records) < size and outcome.cursor == window.records[-1].change_version:
            # A short window fully acknowledged: the webhook has delivered everything.
            outcome = dataclasses.replace(outcome, caught_up_at=self._clock.now())
        more = (
            self._continuous
            and webhook.valid_until > self._clock.now()
            and outcome.failures == 0
            and outcome.disabled_reason is None
            and (len(window.records) == size or self._woken.get(webhook.tenant, 0) != woken)
        )
        outcome = dataclasses.replace(outcome, keep_lease=more)
        self._committing.add(webhook.id)
        try:
            may_send_on = await self._commits.apply(outcome)
        finally:
            self._committing.discard(webhook.id)
        if not (may_send_on and more):
            return None
        # It succeeded: back-off over, so its next window is a full one again.
        return dataclasses.replace(webhook, cursor=outcome.cursor, failures=0, next_attempt_at=None)

    def _log_refused(self, webhook: Webhook, results: Sequence[SendResult]) -> None:
        """Say once per webhook that the SSRF guard refuses its destination, and why."""
        if webhook.id in self._refused:
            return
        for result in results:
            if result.failure is FailureClass.FORBIDDEN_DESTINATION:
                self._refused.add(webhook.id)
                logger.warning(
                    "webhook %s: destination %s refused: %s (development mode accepts "
                    "loopback: --dev or WORKHOOKS_DEV=1)",
                    webhook.id,
                    webhook.destination_url,
                    result.error,
                )
                return

    async def _send_all(self, webhook: Webhook, window: Window) -> list[SendResult]:
        """POST the window, at most ``webhook_concurrency`` requests in flight."""
        count = len(window.records)
        results: list[SendResult | None] = [None] * count
        positions = iter(range(count))

        async def lane() -> None:
            for position in positions:
                results[position] = await self._send(webhook, window, position)

        lanes = min(self._options.webhook_concurrency, count)
        if lanes == 1:
            await lane()
        else:
            await asyncio.gather(*(lane() for _ in range(lanes)))
        return [r for r in results if r is not None]

    async def _send(self, webhook: Webhook, window: Window, position: int) -> SendResult:
        body = window.bodies[position]
        msg_id = message_id(webhook.id, format_version(window.records[position].change_version))
        timestamp = int(self._clock.now().timestamp())
        headers = delivery_headers(webhook.secret, msg_id=msg_id, timestamp=timestamp, body=body)
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
        self._state_log.record(
            webhook, first_failure, failures, next_attempt_at, disabled=disabled, now=now
        )
        short, long = self._options.excerpt_bytes, self._options.failure_excerpt_bytes
        attempts = [
            DeliveryAttempt(
                webhook_id=webhook.id,
                message_id=message_id(webhook.id, format_version(record.change_version)),
                record_id=record.id,
                change_version=record.change_version,
                attempted_at=now,
                succeeded=result.failure is None,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error_class=None if result.failure is None else result.failure.value,
                # Only the failure that decides the back-off keeps a long excerpt: a window
                # whose every request fails stores one, not one per request.
                response_excerpt=excerpt(
                    result.excerpt or (result.error or ""),
                    long if result is first_failure else short,
                ),
                next_attempt_at=None if result.failure is None else next_attempt_at,
            )
            for record, result in zip(records, results, strict=True)
        ]
        return WindowOutcome(
            webhook_id=webhook.id,
            tenant=webhook.tenant,
            expected_cursor=webhook.cursor,
            cursor=cursor,
            failures=failures,
            next_attempt_at=next_attempt_at,
            disabled_reason=disabled,
            attempts=attempts,
        )
