"""The receiver fault matrix: the real sender and worker against misbehaving loopback receivers.

Each case makes one change, runs the worker once, and checks the webhook's state (cursor,
back-off, status) and the recorded attempt (status code, error class) in the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from tests.integration.fault_helpers import FaultyReceiver
from tests.reliability import report
from workhooks.bootstrap.building import retry_policy, worker_options
from workhooks.client.signatures import verify
from workhooks.config import Settings
from workhooks.delivery.sender import AiohttpSender
from workhooks.delivery.worker import DeliveryWorker
from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.webhooks import Webhook, WebhookStatus
from workhooks.services.webhooks import CreatedWebhook, DestinationRules, WebhookService
from workhooks.storage.protocol import Store
from workhooks.testing import FakeClock

pytestmark = [pytest.mark.timeout(20), pytest.mark.reliability]

TENANT = "acme"
TIMEOUT_SECONDS = 0.5
POLICY = retry_policy(Settings())
FIRST_STEP = (dt.timedelta(seconds=4), dt.timedelta(seconds=6))  # 5 s ± 20 %
SECOND_STEP = (dt.timedelta(seconds=240), dt.timedelta(seconds=360))  # 5 min ± 20 %


@dataclass
class Rig:
    """A store, the real sender and worker, and a faulty receiver on loopback."""

    store: Store
    clock: FakeClock
    sender: AiohttpSender
    worker: DeliveryWorker
    webhooks: WebhookService
    receiver: FaultyReceiver

    async def webhook(self, url: str) -> CreatedWebhook:
        """Create a webhook on ``url``."""
        return await self.webhooks.create(
            TENANT, destination_url=url, collection_name="work-interruptions"
        )

    async def put(self, record_id: int = 1) -> WorkInterruption:
        """Write one work interruption of person 1: the one change of a case."""
        draft = WorkInterruptionDraft(
            id=record_id,
            person_id=1,
            date=dt.date(2024, 3, 4),
            duration_in_minutes=30,
            start_time_in_minutes=600,
            end_time_in_minutes=630,
        )
        (written,) = await self.store.put_work_interruptions(TENANT, [draft])
        return written.record

    async def state(self, webhook_id: str) -> Webhook:
        """The stored webhook."""
        webhook = await self.store.get_webhook(TENANT, webhook_id)
        assert webhook is not None
        return webhook

    async def last_attempt(self, webhook_id: str) -> DeliveryAttempt:
        """The newest recorded attempt of the webhook."""
        (attempt,) = await self.store.list_attempts(webhook_id, limit=1)
        return attempt


@contextlib.asynccontextmanager
async def open_rig(store: Store, *, limit_per_host: int = 32) -> AsyncIterator[Rig]:
    """A rig on ``store`` with person 1 written; the sender and receiver stopped after."""
    receiver = FaultyReceiver()
    await receiver.start()
    sender = AiohttpSender(
        timeout_seconds=TIMEOUT_SECONDS,
        user_agent="workhooks-tests/1 (tests)",
        allow_loopback=True,
        limit_per_host=limit_per_host,
    )
    await sender.start()
    clock = FakeClock()
    await store.put_people(TENANT, [PersonDraft(id=1)])
    webhooks = WebhookService(
        store,
        clock,
        rules=DestinationRules(allow_http=True, allow_loopback=True),
        validity=dt.timedelta(days=30),
        max_enabled=None,
    )
    worker = DeliveryWorker(
        store,
        sender,
        clock,
        policy=POLICY,
        rng=random.Random(7),
        options=worker_options(Settings()),
    )
    try:
        yield Rig(
            store=store,
            clock=clock,
            sender=sender,
            worker=worker,
            webhooks=webhooks,
            receiver=receiver,
        )
    finally:
        await sender.close()
        await receiver.stop()


@pytest.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    """A rig on each store implementation (in memory, SQLite file)."""
    async with open_rig(store) as opened:
        yield opened


def assert_backing_off(
    webhook: Webhook, *, cursor: int, now: dt.datetime, step: tuple[dt.timedelta, dt.timedelta]
) -> None:
    """The webhook is enabled, kept its cursor and waits within the step's jitter bounds."""
    assert webhook.status is WebhookStatus.ENABLED
    assert webhook.disabled_reason is None
    assert webhook.cursor == cursor
    assert webhook.next_attempt_at is not None
    low, high = step
    assert now + low <= webhook.next_attempt_at <= now + high


def assert_failed_attempt(
    attempt: DeliveryAttempt, record: WorkInterruption, *, status: int | None, error_class: str
) -> None:
    """The attempt of ``record`` is recorded as failed with this status and error class."""
    assert attempt.succeeded is False
    assert (attempt.status_code, attempt.error_class) == (status, error_class)
    assert (attempt.record_id, attempt.change_version) == (record.id, record.change_version)


# -- failures that back off on the schedule ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """A receiver fault that backs off on the schedule, and how it must be recorded."""

    url_of: Callable[[FaultyReceiver], str]
    status: int | None
    error_class: str
    arrived: list[str]


FAULTS = {
    "500": Fault(
        url_of=lambda r: r.url("/status/500"),
        status=500,
        error_class="server_error",
        arrived=["/status/500"],
    ),
    "timeout": Fault(
        url_of=lambda r: r.url("/sleep"), status=None, error_class="timeout", arrived=["/sleep"]
    ),
    "reset": Fault(
        url_of=lambda r: r.reset_url,
        status=None,
        error_class="connection_error",
        arrived=["/reset"],
    ),
    "refused": Fault(
        url_of=lambda r: r.refused_url,
        status=None,
        error_class="connection_refused",
        arrived=[],
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_failure_is_recorded_and_backs_off_on_schedule(rig: Rig, name: str) -> None:
    """A 500, a stalled answer, a reset or a refused connection keeps the cursor, backs off 5 s."""
    fault = FAULTS[name]
    created = await rig.webhook(fault.url_of(rig.receiver))
    record = await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    assert webhook.failures == 1
    assert_backing_off(webhook, cursor=created.webhook.cursor, now=rig.clock.now(), step=FIRST_STEP)
    attempt = await rig.last_attempt(created.webhook.id)
    assert_failed_attempt(attempt, record, status=fault.status, error_class=fault.error_class)
    assert rig.receiver.paths() == fault.arrived
    report(
        f"receiver fault '{name}' [{type(rig.store).__name__}]",
        attempts=1,
        error_class=str(attempt.error_class),
        cursor_moved=int(webhook.cursor != created.webhook.cursor),
        lost=0,
    )


async def test_301_is_a_redirect_failure_and_is_never_followed(rig: Rig) -> None:
    """A 301 to another loopback path is a redirect failure; the Location target gets nothing."""
    created = await rig.webhook(rig.receiver.url("/redirect"))
    record = await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    assert webhook.failures == 1
    assert_backing_off(webhook, cursor=created.webhook.cursor, now=rig.clock.now(), step=FIRST_STEP)
    attempt = await rig.last_attempt(created.webhook.id)
    assert_failed_attempt(attempt, record, status=301, error_class="redirect")
    assert rig.receiver.paths() == ["/redirect"]


# -- Retry-After -------------------------------------------------------------------------


async def test_503_retry_after_longer_than_the_step_is_honoured(rig: Rig) -> None:
    """A 503 with ``Retry-After: 120`` puts the next attempt at now + 120 s, not the 5 s step."""
    created = await rig.webhook(rig.receiver.url("/status/503?retry_after=120"))
    record = await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    assert webhook.failures == 1
    assert webhook.cursor == created.webhook.cursor
    assert webhook.next_attempt_at == rig.clock.now() + dt.timedelta(seconds=120)
    attempt = await rig.last_attempt(created.webhook.id)
    assert_failed_attempt(attempt, record, status=503, error_class="unavailable")


async def test_429_retry_after_is_clamped_to_the_policy_maximum(rig: Rig) -> None:
    """A 429 with ``Retry-After: 99999999`` waits the policy's maximum (24 h), no longer."""
    created = await rig.webhook(rig.receiver.url("/status/429?retry_after=99999999"))
    record = await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    assert webhook.failures == 1
    assert webhook.status is WebhookStatus.ENABLED
    assert webhook.cursor == created.webhook.cursor
    assert webhook.next_attempt_at == rig.clock.now() + POLICY.retry_after_max
    attempt = await rig.last_attempt(created.webhook.id)
    assert_failed_attempt(attempt, record, status=429, error_class="rate_limited")


# -- disabling ---------------------------------------------------------------------------


async def test_410_disables_the_webhook_at_once(rig: Rig) -> None:
    """A 410 disables the webhook on the first attempt; later changes are never sent."""
    created = await rig.webhook(rig.receiver.url("/status/410"))
    record = await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    assert webhook.status is WebhookStatus.DISABLED
    assert webhook.disabled_reason is not None
    assert "410" in webhook.disabled_reason
    assert webhook.next_attempt_at is None
    assert webhook.cursor == created.webhook.cursor
    attempt = await rig.last_attempt(created.webhook.id)
    assert_failed_attempt(attempt, record, status=410, error_class="gone")
    await rig.put(2)
    rig.clock.advance(dt.timedelta(days=2))
    assert await rig.worker.run_once() == 0
    assert rig.receiver.paths() == ["/status/410"]


# -- slow bodies, odd answers, recovery ---------------------------------------------------


async def test_body_trickling_past_the_timeout_is_a_timeout(rig: Rig) -> None:
    """A 200 whose body trickles slower than the timeout is a timeout; the cursor stays."""
    created = await rig.webhook(rig.receiver.url("/trickle"))
    await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    attempt = await rig.last_attempt(created.webhook.id)
    assert (attempt.succeeded, attempt.error_class) == (False, "timeout")
    assert webhook.failures == 1
    assert webhook.cursor == created.webhook.cursor


async def test_status_below_100_is_a_recorded_failure(rig: Rig) -> None:
    """A well-formed answer with status 099 is a recorded, backed-off failure, not a crash."""
    created = await rig.webhook(rig.receiver.odd_status_url)
    await rig.put()
    assert await rig.worker.run_once() == 1
    webhook = await rig.state(created.webhook.id)
    assert webhook.failures == 1
    assert_backing_off(webhook, cursor=created.webhook.cursor, now=rig.clock.now(), step=FIRST_STEP)
    assert (await rig.last_attempt(created.webhook.id)).succeeded is False


async def test_deliveries_queued_for_a_connection_do_not_time_out(store: Store) -> None:
    """With one connection per host, a window to a receiver answering in 0.2 s all succeeds."""
    async with open_rig(store, limit_per_host=1) as rig:
        created = await rig.webhook(rig.receiver.url("/slow"))
        last = [await rig.put(record_id) for record_id in range(1, 5)][-1]
        assert await rig.worker.run_once() == 4
        webhook = await rig.state(created.webhook.id)
        assert (webhook.failures, webhook.cursor) == (0, last.change_version)


async def test_2xx_after_failures_resets_the_back_off(rig: Rig) -> None:
    """After two failures a 2xx resets failures and the wait, and moves the cursor."""
    created = await rig.webhook(rig.receiver.url("/flaky"))
    record = await rig.put()
    await rig.worker.run_once()
    first = await rig.state(created.webhook.id)
    assert first.next_attempt_at is not None
    rig.clock.advance(first.next_attempt_at - rig.clock.now())
    assert await rig.worker.run_once() == 1
    second = await rig.state(created.webhook.id)
    assert second.failures == 2
    assert_backing_off(second, cursor=first.cursor, now=rig.clock.now(), step=SECOND_STEP)
    assert second.next_attempt_at is not None
    rig.receiver.flaky_status = 204
    rig.clock.advance(second.next_attempt_at - rig.clock.now())
    assert await rig.worker.run_once() == 1
    recovered = await rig.state(created.webhook.id)
    assert (recovered.failures, recovered.next_attempt_at) == (0, None)
    assert recovered.cursor == record.change_version
    attempt = await rig.last_attempt(created.webhook.id)
    assert (attempt.succeeded, attempt.status_code, attempt.error_class) == (True, 204, None)
    _, delivered = rig.receiver.arrivals[-1]
    verify(created.key, headers=delivered.headers, body=delivered.body, now=rig.clock.now())
    assert rig.receiver.paths() == ["/flaky"] * 3
