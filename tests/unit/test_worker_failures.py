"""The delivery worker, when destinations fail: the cursor, back-off and recovery, and
disabling by 410, an exhausted retry schedule, expiry or deletion (no sockets)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.unit.worker_helpers import TENANT, always, event, ids_of, make_world
from workhooks.delivery.sender import SendResult
from workhooks.domain.records import PersonDraft
from workhooks.domain.retry import FailureClass
from workhooks.domain.webhooks import WebhookStatus
from workhooks.services.webhooks import DestinationRules

# -- cursor, back-off, recovery ----------------------------------------------------------


async def test_cursor_moves_only_after_2xx() -> None:
    """A failed delivery keeps the cursor; a 2xx moves it to the delivered change version."""
    world = await make_world()
    created = await world.webhook()
    start = (await world.state(created.webhook.id)).cursor
    record = await world.put(1)
    world.answer(always(500))
    await world.worker.run_once()
    assert (await world.state(created.webhook.id)).cursor == start
    world.clock.advance(3600)
    world.answer(always(204))
    await world.worker.run_once()
    assert (await world.state(created.webhook.id)).cursor == record.change_version


@pytest.mark.parametrize("status", [500, 503, 429, 404, 302, 301, 400])
async def test_failure_backs_off_the_whole_webhook(status: int) -> None:
    """After a non-2xx, nothing is sent until the fake clock reaches ``next_attempt_at``."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1)
    world.answer(always(status))
    await world.worker.run_once()
    failed = await world.state(created.webhook.id)
    assert failed.failures == 1
    assert failed.status is WebhookStatus.ENABLED
    assert failed.next_attempt_at is not None
    delay = failed.next_attempt_at - world.clock.now()
    assert dt.timedelta(seconds=4) <= delay <= dt.timedelta(seconds=6)  # 5 s ± 20 %
    await world.put(2)
    world.clock.advance(delay - dt.timedelta(milliseconds=1))
    assert await world.worker.run_once() == 0
    assert len(world.sender.requests) == 1
    world.clock.advance(dt.timedelta(milliseconds=1))
    assert await world.worker.run_once() == 1
    assert len(world.sender.requests) == 2


async def test_next_try_is_a_single_probe_then_full_windows() -> None:
    """While backing off only one event is tried; after it succeeds the backlog goes at once."""
    world = await make_world()
    created = await world.webhook()
    for record_id in range(1, 6):
        await world.put(record_id)
    world.answer(always(500))
    assert await world.worker.run_once() == 5
    world.clock.advance(10)
    assert await world.worker.run_once() == 1
    assert ids_of(world.sender.requests[5:]) == [1]
    second = await world.state(created.webhook.id)
    assert second.failures == 2
    assert second.next_attempt_at is not None
    world.clock.advance(second.next_attempt_at - world.clock.now())
    world.answer(always(204))
    assert await world.worker.run_once() == 1
    recovered = await world.state(created.webhook.id)
    assert recovered.failures == 0
    assert recovered.next_attempt_at is None
    assert await world.worker.run_once() == 4
    assert ids_of(world.sender.requests[7:]) == [2, 3, 4, 5]
    assert await world.worker.run_once() == 0


async def test_everything_arrives_after_recovery() -> None:
    """After an outage every change arrives, in changeVersion order, and the cursor catches up."""
    world = await make_world()
    created = await world.webhook()
    world.answer(always(503))
    written = []
    for round_ in range(6):
        written.append(await world.put(round_ + 1))
        world.clock.advance(4 * 3600)
        await world.worker.run_once()
    assert (await world.state(created.webhook.id)).failures >= 5
    world.answer(always(200))
    world.clock.advance(30 * 3600)
    while await world.worker.run_once():
        world.clock.advance(30 * 3600)
    ok = world.sender.requests[-6:]
    assert ids_of(ok) == [1, 2, 3, 4, 5, 6]
    versions = [event(r)["data"]["changeVersion"] for r in ok]
    assert versions == sorted(versions)
    assert (await world.state(created.webhook.id)).cursor == written[-1].change_version


async def test_a_failure_in_the_window_keeps_later_successes_for_resending() -> None:
    """When one event of a window fails, the cursor stops before it and later ones are resent."""
    world = await make_world()
    created = await world.webhook()
    first = await world.put(1)
    await world.put(2)
    await world.put(3)
    world.answer(lambda _url, body: 500 if json.loads(body)["data"]["id"] == 2 else 204)
    await world.worker.run_once()
    assert (await world.state(created.webhook.id)).cursor == first.change_version
    world.answer(always(204))
    world.clock.advance(60)
    while await world.worker.run_once():
        pass
    assert ids_of(world.sender.requests) == [1, 2, 3, 2, 3]


async def test_retry_after_is_honoured() -> None:
    """A 503 with ``Retry-After: 600`` postpones the next try by 600 s, not the 5 s step."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1)
    world.answer(
        lambda _url, _body: SendResult(
            status_code=503,
            failure=FailureClass.UNAVAILABLE,
            latency_ms=1.0,
            retry_after="600",
        )
    )
    await world.worker.run_once()
    webhook = await world.state(created.webhook.id)
    assert webhook.next_attempt_at == world.clock.now() + dt.timedelta(seconds=600)


async def test_one_failing_webhook_does_not_hold_back_another() -> None:
    """Webhooks back off independently: a failing destination does not delay a healthy one."""
    world = await make_world()
    await world.webhook("https://down.example.com/in")
    await world.webhook("https://up.example.com/in")
    world.answer(lambda url, _body: 500 if "down" in url else 204)
    await world.put(1)
    await world.worker.run_once()
    await world.put(2)
    await world.worker.run_once()
    up = [r for r in world.sender.requests if "up." in r.url]
    down = [r for r in world.sender.requests if "down." in r.url]
    assert ids_of(up) == [1, 2]
    assert ids_of(down) == [1]


# -- disabling ---------------------------------------------------------------------------


async def test_410_disables_the_webhook_at_once() -> None:
    """A 410 Gone disables the webhook on the first attempt; nothing is sent afterwards."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1)
    world.answer(always(410))
    await world.worker.run_once()
    webhook = await world.state(created.webhook.id)
    assert webhook.status is WebhookStatus.DISABLED
    assert webhook.disabled_reason is not None
    assert "410" in webhook.disabled_reason
    world.answer(always(204))
    await world.put(2)
    world.clock.advance(dt.timedelta(days=3))
    assert await world.worker.run_once() == 0
    assert len(world.sender.requests) == 1


async def test_exhausted_retry_schedule_disables_the_webhook() -> None:
    """With ``retry_schedule="1,2"`` the third consecutive failure disables the webhook."""
    world = await make_world(schedule="1,2")
    created = await world.webhook()
    await world.put(1)
    world.answer(always(500))
    for _ in range(3):
        assert (await world.state(created.webhook.id)).status is WebhookStatus.ENABLED
        assert await world.worker.run_once() == 1
        world.clock.advance(3)
    webhook = await world.state(created.webhook.id)
    assert webhook.status is WebhookStatus.DISABLED
    assert webhook.disabled_reason == "retry schedule exhausted"
    world.answer(always(204))
    world.clock.advance(3600)
    assert await world.worker.run_once() == 0
    assert len(world.sender.requests) == 3


async def test_expired_webhook_is_disabled_and_gets_nothing() -> None:
    """At ``validUntil`` the webhook becomes Disabled and pending changes are not sent."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1)
    world.clock.advance(created.webhook.valid_until - world.clock.now())
    assert await world.worker.run_once() == 0
    webhook = await world.state(created.webhook.id)
    assert webhook.status is WebhookStatus.DISABLED
    assert webhook.disabled_reason == "expired"
    await world.put(2)
    world.clock.advance(60)
    assert await world.worker.run_once() == 0
    assert world.sender.requests == []


async def test_webhook_delivers_until_just_before_expiry() -> None:
    """One second before ``validUntil`` the webhook still delivers."""
    world = await make_world()
    created = await world.webhook()
    world.clock.advance(created.webhook.valid_until - world.clock.now() - dt.timedelta(seconds=1))
    await world.put(1)
    assert await world.worker.run_once() == 1


async def test_soft_deleted_webhook_gets_nothing() -> None:
    """After DELETE, neither pending nor new changes are sent to the webhook."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1)
    await world.webhooks.delete(TENANT, created.webhook.id)
    await world.put(2)
    assert await world.worker.run_once() == 0
    assert world.sender.requests == []
    kept = await world.webhooks.get(TENANT, created.webhook.id, include_deleted=True)
    assert kept.deleted_at == world.clock.now()


async def test_after_a_recovered_probe_the_loop_sends_full_windows_again() -> None:
    """A webhook that succeeds after backing off goes back to full windows at once."""
    import asyncio
    import random
    from collections.abc import Sequence

    from workhooks.bootstrap.building import worker_options
    from workhooks.config import Settings
    from workhooks.delivery.worker import DeliveryWorker
    from workhooks.domain.retry import RetryPolicy
    from workhooks.storage.memory import InMemoryStore
    from workhooks.storage.protocol import WindowOutcome

    class WindowSizes(InMemoryStore):
        """Records how many deliveries each applied window carried."""

        sizes: list[int]

        async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
            self.sizes = [*getattr(self, "sizes", []), *(len(o.attempts) for o in outcomes)]
            return await super().apply_windows(outcomes)

    world = await make_world(window=5)
    store = WindowSizes()
    await store.open()
    world.store = store
    worker = DeliveryWorker(
        store,
        world.sender,
        world.clock,
        policy=RetryPolicy.from_seconds("1"),
        rng=random.Random(0),
        options=worker_options(Settings.of(delivery_window=5, poll_interval_seconds=0.01)),
    )
    world.worker = worker
    world.records = type(world.records)(store, on_change=worker.wake)
    world.webhooks = type(world.webhooks)(
        store,
        world.clock,
        rules=DestinationRules(),
        validity=dt.timedelta(days=30),
        max_enabled=None,
    )
    await world.records.put_people(TENANT, [PersonDraft(id=1)])
    await world.webhook()
    await world.put(1)
    world.answer(always(500))
    assert await worker.run_once() == 1
    for record_id in range(2, 13):
        await world.put(record_id)
    all_sent = asyncio.Event()

    def answer(_url: str, _body: bytes) -> int:
        if len(world.sender.requests) == 13:  # the failed one, then all 12 records
            all_sent.set()
        return 204

    world.answer(answer)
    world.clock.advance(60)
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(10):
        await all_sent.wait()
    stop.set()
    await loop
    assert store.sizes[0] == 1  # the failed probe
    assert store.sizes[1] == 1  # the next probe, after the back-off
    assert store.sizes[2:] == [5, 5, 1]  # then full windows for the 11 records left


async def test_a_refused_destination_is_logged_once_per_webhook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SSRF guard's refusal is logged with the webhook and the cure, once, not per retry."""
    world = await make_world()
    created = await world.webhook()
    refused = SendResult(
        status_code=None,
        failure=FailureClass.FORBIDDEN_DESTINATION,
        latency_ms=0.1,
        error="ForbiddenDestinationError: refusing to connect to 127.0.0.1",
    )
    world.answer(lambda _url, _body: refused)
    await world.put(1)
    with caplog.at_level("WARNING", logger="workhooks.delivery"):
        for _ in range(3):
            await world.worker.run_once()
            world.clock.advance(3600)
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(world.sender.requests) == 3
    assert len(lines) == 1
    assert created.webhook.id in lines[0]
    assert "WORKHOOKS_DEV" in lines[0]
