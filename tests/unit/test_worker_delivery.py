"""The delivery worker, what it sends: signed contract bodies, coalescing and ordering, and
stable message ids with a recorded history (no sockets)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import to_builtins

from tests.unit.worker_helpers import TENANT, URL, World, always, event, ids_of, make_world
from workhooks.client.signatures import InvalidSignatureError, verify
from workhooks.delivery.sender import SendResult
from workhooks.documents import work_interruption_document
from workhooks.domain.change_version import format_version
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.domain.retry import FailureClass
from workhooks.domain.webhooks import WebhookStatus

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
    assert event(request)["data"] == to_builtins(work_interruption_document(record))
    version = format_version(record.change_version)
    assert request.headers["webhook-id"] == f"msg_{created.webhook.id}_{version}"
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
    assert event(delivered)["data"] == to_builtins(work_interruption_document(latest))
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


async def test_webhook_id_is_unique_across_tenants_and_webhooks() -> None:
    """The same change version in two tenants, and one change sent to two webhooks of one
    tenant, all carry different ``webhook-id`` values (consumers dedupe on it)."""
    world = await make_world()
    first = await world.webhook()
    second = await world.webhook("https://hooks.example.com/other")
    other = await world.webhooks.create(
        "globex", destination_url=URL, collection_name="work-interruptions"
    )
    await world.records.put_people("globex", [PersonDraft(id=1)])
    mine = await world.put(1)
    theirs = await world.records.put_work_interruptions(
        "globex",
        [
            WorkInterruptionDraft(
                id=1,
                person_id=1,
                date=mine.date,
                duration_in_minutes=30,
                start_time_in_minutes=600,
                end_time_in_minutes=630,
            )
        ],
    )
    while await world.worker.run_once():
        pass
    by_webhook = {r.url: r.headers["webhook-id"] for r in world.sender.requests}
    ids = [r.headers["webhook-id"] for r in world.sender.requests]
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert by_webhook["https://hooks.example.com/other"].startswith(f"msg_{second.webhook.id}_")
    assert {i.split("_", 2)[1] for i in ids} == {
        first.webhook.id,
        second.webhook.id,
        other.webhook.id,
    }
    assert theirs[0].record.change_version == mine.change_version


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
