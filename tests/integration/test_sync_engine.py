"""The sync engine against the real app and worker: sync, subscribe, apply, renew, recover."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.integration.sync_world import HOOK, open_world
from workhooks.client import (
    BadRequest,
    NotFound,
    SqliteSink,
    SyncEngine,
    SyncOptions,
    WebhookStatus,
)
from workhooks.domain.signing import encode_key, sign

pytestmark = pytest.mark.timeout(60)


async def test_first_round_syncs_then_subscribes_and_events_keep_the_copy_current(
    tmp_path: Path,
) -> None:
    """Existing records arrive by the sync, later changes by events; the copy equals the server."""
    async with open_world(tmp_path) as w:
        for i in range(1, 6):
            await w.put(i)
        await w.engine.sync_once()
        state = w.engine.state
        assert state.webhook_id is not None
        assert state.delta_link is not None
        assert w.mirror_versions() == await w.server_versions()
        (hook,) = await w.writer.list_webhooks()
        assert (hook.id, hook.destination_url) == (state.webhook_id, HOOK)

        await w.put(2, minutes=50)
        await w.writer.delete_work_interruption(3)
        await w.put(6)
        await w.deliver()
        assert w.sender.answers == [204, 204, 204]
        assert w.mirror_versions() == await w.server_versions()
        assert set(w.mirror_versions()) == {1, 2, 4, 5, 6}
        stored = w.sink.get(2)
        assert stored is not None
        assert stored.duration_in_minutes == 50


async def test_a_record_moved_out_of_the_scope_leaves_the_copy(tmp_path: Path) -> None:
    """An event whose record is dated outside the mirrored range removes it from the copy."""
    async with open_world(tmp_path) as w:
        await w.put(1)
        await w.engine.sync_once()
        await w.put(1, day="2027-02-01")
        await w.deliver()
        assert w.mirror_versions() == {}
        assert w.sink.live_ids() == set()
        assert 1 in w.sink.held_versions([1])  # a tombstone keeps the version


async def test_webhook_is_renewed_before_valid_until_without_missing_a_change(
    tmp_path: Path,
) -> None:
    """Near ``validUntil`` a new webhook comes first, the gap is caught up, the old one goes."""
    async with open_world(tmp_path) as w:
        await w.engine.sync_once()
        old = w.engine.state
        assert old.valid_until is not None
        w.clock.advance(old.valid_until - w.clock.now() - dt.timedelta(hours=23))
        await w.put(1)  # not delivered: the worker does not run before the renewal
        await w.engine.sync_once()
        new = w.engine.state
        assert new.webhook_id != old.webhook_id
        assert new.retired_webhook_ids == ()
        with pytest.raises(NotFound):
            await w.writer.get_webhook(str(old.webhook_id))
        assert w.mirror_versions() == await w.server_versions() != {}
        await w.put(2)
        await w.deliver()
        assert w.mirror_versions() == await w.server_versions()
        assert set(w.mirror_versions()) == {1, 2}


async def test_a_disabled_webhook_is_replaced_and_the_outage_caught_up(tmp_path: Path) -> None:
    """A receiver answering 410 gets its webhook disabled; the next round re-subscribes."""
    async with open_world(tmp_path) as w:
        await w.engine.sync_once()
        first = w.engine.state.webhook_id
        assert first is not None
        w.sender.status = 410
        await w.put(1)
        await w.deliver()
        assert (await w.writer.get_webhook(first)).status is WebhookStatus.DISABLED
        await w.put(2)
        w.sender.status = None
        await w.engine.sync_once()
        assert w.engine.state.webhook_id not in (None, first)
        assert w.mirror_versions() == await w.server_versions()
        assert set(w.mirror_versions()) == {1, 2}


async def test_a_deleted_webhook_is_replaced(tmp_path: Path) -> None:
    """A webhook deleted behind the engine's back is noticed and replaced on the next round."""
    async with open_world(tmp_path) as w:
        await w.engine.sync_once()
        first = w.engine.state.webhook_id
        assert first is not None
        await w.writer.delete_webhook(first)
        await w.put(1)
        await w.engine.sync_once()
        (hook,) = await w.writer.list_webhooks()
        assert hook.id == w.engine.state.webhook_id != first
        await w.put(2)
        await w.deliver()
        assert set(w.mirror_versions()) == {1, 2}


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    """A new engine on the same file keeps the webhook and its key, and verifies its events."""
    async with open_world(tmp_path) as w:
        await w.put(1)
        await w.engine.sync_once()
        before = w.engine.state
        with SqliteSink(str(tmp_path / "mirror.db")) as reopened:
            restarted = w.new_engine(reopened)
            assert restarted.state == before
            await restarted.sync_once()
            assert restarted.state.webhook_id == before.webhook_id
            assert len(await w.writer.list_webhooks()) == 1
            await w.put(2)
            await w.deliver()
            assert w.sender.answers == [204]
            assert set(reopened.versions_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31))) == {
                1,
                2,
            }


async def test_an_expired_delta_link_leads_to_a_full_sync_that_sweeps_deletions(
    tmp_path: Path,
) -> None:
    """After 73 hours without a call, the round syncs fully and drops what was deleted."""
    async with open_world(tmp_path) as w:
        for i in range(1, 4):
            await w.put(i)
        await w.engine.sync_once()
        await w.writer.delete_work_interruption(2)  # never delivered: the worker is idle
        await w.put(3, minutes=10)
        w.clock.advance(dt.timedelta(hours=73))
        await w.engine.sync_once()
        assert w.mirror_versions() == await w.server_versions()
        assert set(w.mirror_versions()) == {1, 3}


async def test_a_delta_link_the_server_refuses_leads_to_a_full_sync(tmp_path: Path) -> None:
    """A saved delta link the server answers 400 ``InvalidDeltaToken`` (altered, or from a
    server with another key) starts a new delta by a full sync instead of stopping."""
    async with open_world(tmp_path) as w:
        for i in range(1, 4):
            await w.put(i)
        await w.engine.sync_once()
        link = w.engine.state.delta_link
        assert link is not None
        await w.writer.delete_work_interruption(2)
        w.sink.save_state(replace(w.engine.state, delta_link=link[:-4] + "AAAA"))
        with SqliteSink(str(tmp_path / "mirror.db")) as reopened:
            restarted = w.new_engine(reopened)
            await restarted.sync_once()
            assert restarted.state.delta_link not in (None, link)
            assert set(reopened.versions_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31))) == {
                1,
                3,
            }


async def test_an_event_during_a_full_sync_survives_the_sweep(tmp_path: Path) -> None:
    """A record created mid-walk behind the walk's position comes by event and is not swept."""
    async with open_world(tmp_path, page_size=2) as w:
        for i in range(1, 7):
            await w.put(i, day=f"2026-06-{i:02d}")
        await w.engine.sync_once()
        w.clock.advance(dt.timedelta(hours=73))  # the delta link expires: a full walk follows
        injected = False

        async def mid_walk(request: httpx.Request) -> None:
            nonlocal injected
            if "continuationToken" in str(request.url) and not injected:
                injected = True
                await w.put(99, day="2026-01-02")  # before the walk's position
                await w.deliver()

        w.transport.before = mid_walk
        await w.engine.sync_once()
        w.transport.before = None
        assert injected
        assert 99 in w.mirror_versions()
        assert w.mirror_versions() == await w.server_versions()


async def test_receive_answers_forged_stale_and_malformed_deliveries(tmp_path: Path) -> None:
    """Only the current webhook's genuine events are applied; replays are accepted, not applied."""
    async with open_world(tmp_path) as w:
        body = json.dumps(
            {"changeType": "Delete", "data": {"changeVersion": "00000000000000000099", "id": 5}}
        ).encode()
        assert w.engine.receive({}, body).status == 401  # nothing subscribed yet
        await w.engine.sync_once()
        key = w.engine.state.webhook_key
        assert key is not None
        now = int(w.clock.now().timestamp())

        def signed(secret_key: str, payload: bytes, at: int = now) -> dict[str, str]:
            from workhooks.domain.signing import decode_key

            mac = sign(decode_key(secret_key), msg_id="msg_x", timestamp=at, body=payload)
            return {"webhook-id": "msg_x", "webhook-timestamp": str(at), "webhook-signature": mac}

        assert w.engine.receive(signed(encode_key(b"k" * 32), body), body).status == 401
        assert w.engine.receive(signed(key, body, now - 3600), body).status == 401
        assert w.engine.receive(signed(key, b"[]"), b"[]").status == 400
        assert w.engine.receive(signed(key, b'{"a": 1}'), b'{"a": 1}').status == 400
        first = w.engine.receive(signed(key, body), body)
        assert (first.status, first.applied) == (204, True)
        again = w.engine.receive(signed(key, body), body)
        assert (again.status, again.applied) == (204, False)
        assert w.sink.held_versions([5]) == {5: "00000000000000000099"}
        test_event = b'{"changeType":"Test","data":{"message":"a test"}}'
        tested = w.engine.receive(signed(key, test_event), test_event)
        assert (tested.status, tested.applied) == (204, False)
        assert w.engine.receive(signed(encode_key(b"k" * 32), test_event), test_event).status == 401
        assert w.sink.held_versions([5]) == {5: "00000000000000000099"}


async def test_run_raises_a_configuration_error_of_the_first_round(tmp_path: Path) -> None:
    """A destination the server refuses stops ``run`` at once instead of retrying forever."""
    import asyncio

    async with open_world(tmp_path) as w:
        engine = SyncEngine(
            w.writer,
            w.sink,
            SyncOptions(destination_url="http://mirror.example.com/h", scope=w.engine.state.scope),
            clock=w.clock.now,
        )
        with pytest.raises(BadRequest) as caught:
            await asyncio.wait_for(engine.run(asyncio.Event()), timeout=10)
        assert caught.value.code == "InvalidDestinationUrl"
