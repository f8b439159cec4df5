"""The delivery worker over ``InMemoryStore``, ``FakeClock`` and ``ScriptedSender`` (no sockets)."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workhooks.client.signatures import InvalidSignatureError, verify
from workhooks.config import Settings
from workhooks.delivery.sender import SendResult
from workhooks.delivery.worker import DeliveryWorker, WorkerOptions
from workhooks.domain.change_version import format_version
from workhooks.domain.events import work_interruption_document
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.retry import FailureClass, RetryPolicy
from workhooks.domain.webhooks import Webhook, WebhookStatus
from workhooks.services.records import RecordService
from workhooks.services.webhooks import CreatedWebhook, DestinationRules, WebhookService
from workhooks.storage.memory import InMemoryStore
from workhooks.testing import FakeClock, RecordedRequest, ScriptedSender

TENANT = "acme"
URL = "https://hooks.example.com/in"
StatusFor = Callable[[str, bytes], int | SendResult]


@dataclass
class World:
    """A store, the services that write to it, and a worker delivering through a fake sender."""

    store: InMemoryStore
    clock: FakeClock
    sender: ScriptedSender
    records: RecordService
    webhooks: WebhookService
    worker: DeliveryWorker

    async def webhook(self, url: str = URL) -> CreatedWebhook:
        """Create a webhook of the tenant on ``url``."""
        return await self.webhooks.create(
            TENANT, destination_url=url, collection_name="work-interruptions"
        )

    async def put(self, record_id: int, *, duration: int = 30) -> WorkInterruption:
        """Write a work interruption of person 1; return it as stored."""
        draft = WorkInterruptionDraft(
            id=record_id,
            person_id=1,
            date=dt.date(2024, 3, 4),
            duration_in_minutes=duration,
            start_time_in_minutes=600,
            end_time_in_minutes=600 + duration,
        )
        (written,) = await self.records.put_work_interruptions(TENANT, [draft])
        return written.record

    async def state(self, webhook_id: str) -> Webhook:
        """The stored webhook."""
        webhook = await self.store.get_webhook(TENANT, webhook_id)
        assert webhook is not None
        return webhook

    def answer(self, status_for: StatusFor) -> None:
        """Script the sender's answers."""
        self.sender.status_for = status_for


async def make_world(
    *, schedule: str = Settings().retry_schedule, window: int = 500, seed: int = 0
) -> World:
    """Build a world whose tenant has person 1; ``schedule`` is in the settings' format."""
    store = InMemoryStore()
    await store.open()
    clock = FakeClock()
    sender = ScriptedSender()
    worker = DeliveryWorker(
        store,
        sender,
        clock,
        policy=RetryPolicy.from_seconds(schedule),
        rng=random.Random(seed),
        options=WorkerOptions(window=window),
    )
    records = RecordService(store, on_change=worker.wake)
    webhooks = WebhookService(
        store, clock, rules=DestinationRules(), validity=dt.timedelta(days=30)
    )
    await records.put_people(TENANT, [PersonDraft(id=1)])
    return World(
        store=store, clock=clock, sender=sender, records=records, webhooks=webhooks, worker=worker
    )


def event(request: RecordedRequest) -> dict[str, Any]:
    """The JSON body of a delivery."""
    body: dict[str, Any] = json.loads(request.body)
    return body


def ids_of(requests: list[RecordedRequest]) -> list[int]:
    """The record ids of deliveries, in send order."""
    return [int(event(r)["data"]["id"]) for r in requests]


def always(status: int) -> StatusFor:
    """A script answering ``status`` to everything."""
    return lambda _url, _body: status


# -- signing and body --------------------------------------------------------------------


async def test_delivery_is_signed_and_has_the_contract_body() -> None:
    """A change arrives as ``{"changeType": "InsertOrUpdate", "data": <GET document>}``, signed."""
    world = await make_world()
    created = await world.webhook()
    record = await world.put(7)
    assert await world.worker.run_once() == 1
    (request,) = world.sender.requests
    assert request.url == URL
    verify(created.key, headers=request.headers, body=request.body, now=world.clock.now())
    assert event(request) == {
        "changeType": "InsertOrUpdate",
        "data": {
            "changeVersion": format_version(record.change_version),
            "id": 7,
            "person": {"id": 1},
            "date": "2024-03-04",
            "durationInMinutes": 30,
            "startTimeInMinutes": 600,
            "endTimeInMinutes": 630,
        },
    }
    assert event(request)["data"] == work_interruption_document(record)
    assert request.headers["webhook-id"] == f"msg_{format_version(record.change_version)}"
    assert request.headers["webhook-timestamp"] == str(int(world.clock.now().timestamp()))
    with pytest.raises(InvalidSignatureError):
        verify(
            created.key, headers=request.headers, body=request.body + b" ", now=world.clock.now()
        )


async def test_delete_is_delivered_with_only_id_and_change_version() -> None:
    """A deleted record arrives as ``{"changeType": "Delete", "data": {changeVersion, id}}``."""
    world = await make_world()
    created = await world.webhook()
    await world.put(3)
    await world.worker.run_once()
    tomb = await world.store.delete_work_interruption(TENANT, 3)
    assert tomb is not None
    assert await world.worker.run_once() == 1
    request = world.sender.requests[-1]
    verify(created.key, headers=request.headers, body=request.body, now=world.clock.now())
    assert event(request) == {
        "changeType": "Delete",
        "data": {"changeVersion": format_version(tomb.change_version), "id": 3},
    }


async def test_webhook_created_after_a_change_does_not_get_it() -> None:
    """A new webhook starts at the tenant's current version: older changes are not sent."""
    world = await make_world()
    await world.put(1)
    await world.webhook()
    assert await world.worker.run_once() == 0
    await world.put(2)
    await world.worker.run_once()
    assert ids_of(world.sender.requests) == [2]


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


# -- coalescing and ordering -------------------------------------------------------------


async def test_record_changed_several_times_while_behind_is_delivered_once() -> None:
    """A record changed several times during an outage arrives once, in its latest state."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1, duration=10)
    world.answer(always(500))
    await world.worker.run_once()
    await world.put(1, duration=20)
    latest = await world.put(1, duration=30)
    world.clock.advance(3600)
    world.answer(always(204))
    assert await world.worker.run_once() == 1
    assert await world.worker.run_once() == 0
    delivered = world.sender.requests[-1]
    assert event(delivered)["data"] == work_interruption_document(latest)
    verify(created.key, headers=delivered.headers, body=delivered.body, now=world.clock.now())


async def test_backlog_is_coalesced_without_failures() -> None:
    """Changes written before the worker runs are coalesced to one event per record."""
    world = await make_world()
    await world.webhook()
    for duration in (1, 2, 3):
        await world.put(1, duration=duration)
        await world.put(2, duration=duration)
    await world.store.delete_work_interruption(TENANT, 2)
    assert await world.worker.run_once() == 2
    bodies = [event(r) for r in world.sender.requests]
    assert [(b["changeType"], b["data"]["id"]) for b in bodies] == [
        ("InsertOrUpdate", 1),
        ("Delete", 2),
    ]
    assert bodies[0]["data"]["durationInMinutes"] == 3


Step = tuple[str, int]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(1, 3)),
        st.tuples(st.just("delete"), st.integers(1, 3)),
        st.tuples(st.just("run"), st.integers(0, 3)),
    ),
    min_size=1,
    max_size=25,
)


class Script:
    """Answers deliveries with the given outcomes, then 204; remembers which were acknowledged."""

    def __init__(self, outcomes: list[bool]) -> None:
        self.pending = list(outcomes)
        self.acked: list[bool] = []

    def __call__(self, _url: str, _body: bytes) -> int | SendResult:
        """Answer the next delivery."""
        ok = not self.pending or self.pending.pop(0)
        self.acked.append(ok)
        if ok:
            return 204
        return SendResult(status_code=None, failure=FailureClass.TIMEOUT, latency_ms=15000.0)


async def run_steps(world: World, plan: list[Step]) -> None:
    """Apply the plan's writes, deletes and worker runs."""
    for kind, value in plan:
        if kind == "put":
            await world.put(value, duration=len(world.sender.requests) % 60)
        elif kind == "delete":
            await world.store.delete_work_interruption(TENANT, value)
        else:
            world.clock.advance(value * 40)
            await world.worker.run_once()


@settings(max_examples=40, deadline=None)
@given(plan=steps, outcomes=st.lists(st.booleans(), max_size=20), window=st.integers(1, 4))
async def test_versions_never_go_backwards_and_converge(
    plan: list[Step], outcomes: list[bool], window: int
) -> None:
    """Whatever fails, the receiver never sees a record's version go back and ends in sync."""
    world = await make_world(schedule=",".join(["1"] * 40), window=window)
    created = await world.webhook()
    script = Script(outcomes)
    world.answer(script)
    await run_steps(world, plan)
    script.pending.clear()
    for _ in range(200):
        world.clock.advance(60)
        if not await world.worker.run_once():
            break
    newest: dict[int, str] = {}
    for request, acked in zip(world.sender.requests, script.acked, strict=True):
        if not acked:
            continue
        data = event(request)["data"]
        assert data["changeVersion"] >= newest.get(data["id"], ""), (data, newest)
        newest[data["id"]] = data["changeVersion"]
    expected = {
        r.id: format_version(r.change_version)
        for r in await world.store.read_changes(TENANT, after=0, limit=100)
    }
    webhook = await world.state(created.webhook.id)
    assert webhook.status is WebhookStatus.ENABLED
    assert webhook.failures == 0
    assert newest == expected


async def test_versions_seen_by_receiver_only_count_acknowledged_deliveries() -> None:
    """A receiver that acknowledged v2 of a record is never sent an older version afterwards."""
    world = await make_world(window=3)
    await world.webhook()
    await world.put(1, duration=1)
    await world.put(2, duration=1)
    world.answer(lambda _url, body: 500 if json.loads(body)["data"]["id"] == 1 else 204)
    await world.worker.run_once()
    await world.put(2, duration=2)
    world.answer(always(204))
    world.clock.advance(60)
    while await world.worker.run_once():
        world.clock.advance(60)
    seen_2 = [
        event(r)["data"]["durationInMinutes"]
        for r in world.sender.requests
        if event(r)["data"]["id"] == 2
    ]
    assert seen_2 == sorted(seen_2)
    assert seen_2[-1] == 2


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


# -- identity and history ----------------------------------------------------------------


async def test_webhook_id_is_stable_across_retries() -> None:
    """Retries of one change carry the same ``webhook-id`` and a fresh timestamp and signature."""
    world = await make_world()
    created = await world.webhook()
    await world.put(1)
    world.answer(always(500))
    await world.worker.run_once()
    world.clock.advance(3600)
    world.answer(always(204))
    await world.worker.run_once()
    first, second = world.sender.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    verify(created.key, headers=second.headers, body=second.body, now=world.clock.now())
    await world.put(1)
    await world.worker.run_once()
    assert world.sender.requests[-1].headers["webhook-id"] != first.headers["webhook-id"]


async def test_attempts_are_recorded() -> None:
    """Every attempt is recorded with outcome, status, error class, excerpt and message id."""
    world = await make_world()
    created = await world.webhook()
    record = await world.put(1)
    world.answer(
        lambda _url, _body: SendResult(
            status_code=None,
            failure=FailureClass.TIMEOUT,
            latency_ms=15000.0,
            error="TimeoutError: too slow",
        )
    )
    await world.worker.run_once()
    failed_at = world.clock.now()
    world.clock.advance(60)
    world.answer(
        lambda _url, _body: SendResult(
            status_code=202, failure=None, latency_ms=3.5, excerpt="thanks"
        )
    )
    await world.worker.run_once()
    newest, oldest = await world.store.list_attempts(created.webhook.id, limit=10)
    message_id = world.sender.requests[0].headers["webhook-id"]
    assert oldest.webhook_id == newest.webhook_id == created.webhook.id
    assert oldest.message_id == newest.message_id == message_id
    assert oldest.record_id == newest.record_id == 1
    assert oldest.change_version == newest.change_version == record.change_version
    assert (oldest.succeeded, oldest.status_code, oldest.error_class) == (False, None, "timeout")
    assert oldest.response_excerpt == "TimeoutError: too slow"
    assert oldest.attempted_at == failed_at
    assert (newest.succeeded, newest.status_code, newest.error_class) == (True, 202, None)
    assert newest.response_excerpt == "thanks"
    assert newest.latency_ms == 3.5
    assert newest.attempted_at == world.clock.now()
    assert len(await world.store.list_attempts(created.webhook.id, limit=1)) == 1
