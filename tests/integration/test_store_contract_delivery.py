"""The storage contract for delivery: due webhooks, expiry, window outcomes and attempts.

Each test takes the ``store`` fixture (``tests/integration/conftest.py``), so it runs on
``InMemoryStore`` and on ``SqliteStore`` over a real file, and the fake used by the unit
tests is held to exactly the behaviour of the real store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.store_helpers import (
    ALL,
    T0,
    attempt,
    draft,
    must_get_webhook,
    new_webhook,
    outcome,
    seed_people,
)
from workhooks.domain.webhooks import WebhookStatus
from workhooks.storage.protocol import Store, WindowOutcome

pytestmark = pytest.mark.timeout(60)


# -- delivery --------------------------------------------------------------------------------


async def test_due_webhooks_selects_only_webhooks_that_may_be_tried_now(store: Store) -> None:
    """Due means enabled, not deleted, unexpired, behind, and not backing off past now."""
    now = T0 + dt.timedelta(days=1)
    for webhook_id in ("behind", "disabled", "deleted", "backing-off", "retry-now"):
        await store.create_webhook(new_webhook(webhook_id))
    await store.create_webhook(new_webhook("expired", valid_until=now))
    await store.create_webhook(new_webhook("idle", "globex"))
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1)])
    await store.create_webhook(new_webhook("caught-up"))

    disabled = await must_get_webhook(store, "acme", "disabled")
    assert await store.apply_window(outcome(disabled, disabled_reason="gone (410)"))
    assert await store.delete_webhook("acme", "deleted", at=T0)
    backing_off = await must_get_webhook(store, "acme", "backing-off")
    later = now + dt.timedelta(seconds=1)
    assert await store.apply_window(outcome(backing_off, failures=1, next_attempt_at=later))
    retry_now = await must_get_webhook(store, "acme", "retry-now")
    assert await store.apply_window(outcome(retry_now, failures=2, next_attempt_at=now))

    due = await store.due_webhooks(now=now, limit=ALL)
    assert {w.id for w in due} == {"behind", "retry-now"}
    assert len(await store.due_webhooks(now=now, limit=1)) == 1
    due_later = await store.due_webhooks(now=later, limit=ALL)
    assert {w.id for w in due_later} == {"behind", "retry-now", "backing-off"}


async def test_people_changes_alone_do_not_make_a_webhook_due(store: Store) -> None:
    """A webhook of work interruptions is behind only when a work interruption changed."""
    await store.create_webhook(new_webhook("wh"))
    await seed_people(store, "acme", 1, 2)
    assert await store.due_webhooks(now=T0, limit=ALL) == []
    await store.put_work_interruptions("acme", [draft(1)])
    assert [w.id for w in await store.due_webhooks(now=T0, limit=ALL)] == ["wh"]
    await seed_people(store, "acme", 3)
    assert [w.id for w in await store.due_webhooks(now=T0, limit=ALL)] == ["wh"]


async def test_disable_expired_disables_enabled_webhooks_past_valid_until(store: Store) -> None:
    """Expired enabled webhooks become Disabled with a reason; others are untouched."""
    now = T0 + dt.timedelta(days=1)
    await store.create_webhook(new_webhook("expired", valid_until=now))
    await store.create_webhook(new_webhook("valid", valid_until=now + dt.timedelta(seconds=1)))
    await store.create_webhook(new_webhook("already-off", valid_until=T0))
    already_off = await must_get_webhook(store, "acme", "already-off")
    assert await store.apply_window(outcome(already_off, disabled_reason="410 Gone"))
    assert await store.disable_expired(now=now) == 1
    expired = await must_get_webhook(store, "acme", "expired")
    assert expired.status is WebhookStatus.DISABLED
    assert expired.disabled_reason
    valid = await must_get_webhook(store, "acme", "valid")
    assert valid.status is WebhookStatus.ENABLED
    still_off = await must_get_webhook(store, "acme", "already-off")
    assert still_off.disabled_reason == "410 Gone"
    assert await store.disable_expired(now=now) == 0


async def test_apply_window_moves_the_cursor_and_stores_backoff_state(store: Store) -> None:
    """A window outcome with the current cursor moves it and stores failures and retry time."""
    webhook = await store.create_webhook(new_webhook("wh1"))
    await seed_people(store, "acme", 1, 2, 3)
    retry_at = T0 + dt.timedelta(minutes=5)
    assert await store.apply_window(
        outcome(webhook, cursor=2, failures=1, next_attempt_at=retry_at)
    )
    moved = await must_get_webhook(store, "acme", "wh1")
    assert (moved.cursor, moved.failures, moved.next_attempt_at) == (2, 1, retry_at)
    assert moved.status is WebhookStatus.ENABLED
    assert await store.apply_window(outcome(moved, cursor=3))
    cleared = await must_get_webhook(store, "acme", "wh1")
    assert (cleared.cursor, cleared.failures, cleared.next_attempt_at) == (3, 0, None)


async def test_apply_window_with_a_stale_cursor_changes_nothing(store: Store) -> None:
    """``apply_window`` is a compare-and-set: a stale ``expected_cursor`` is refused entirely."""
    webhook = await store.create_webhook(new_webhook("wh1"))
    await seed_people(store, "acme", 1, 2)
    assert await store.apply_window(outcome(webhook, cursor=1, attempts=(attempt("wh1", 1),)))
    before = await must_get_webhook(store, "acme", "wh1")
    stale = outcome(
        webhook,
        expected_cursor=0,
        cursor=2,
        failures=3,
        next_attempt_at=T0,
        disabled_reason="too many failures",
        attempts=(attempt("wh1", 2),),
    )
    assert not await store.apply_window(stale)
    assert await must_get_webhook(store, "acme", "wh1") == before
    assert await store.list_attempts("wh1", limit=ALL) == [attempt("wh1", 1)]
    unknown = WindowOutcome(
        webhook_id="unknown",
        tenant="acme",
        expected_cursor=0,
        cursor=1,
        failures=0,
        next_attempt_at=None,
        disabled_reason=None,
        attempts=(),
    )
    assert not await store.apply_window(unknown)


async def test_apply_window_disables_with_a_reason(store: Store) -> None:
    """A ``disabled_reason`` disables the webhook and is kept with it."""
    webhook = await store.create_webhook(new_webhook("wh1"))
    assert await store.apply_window(outcome(webhook, failures=9, disabled_reason="410 Gone"))
    disabled = await must_get_webhook(store, "acme", "wh1")
    assert disabled.status is WebhookStatus.DISABLED
    assert disabled.disabled_reason == "410 Gone"
    assert disabled.failures == 9


async def test_attempts_are_listed_newest_first_per_webhook(store: Store) -> None:
    """``list_attempts`` returns the webhook's attempts newest first, at most ``limit``."""
    one = await store.create_webhook(new_webhook("wh1"))
    two = await store.create_webhook(new_webhook("wh2"))
    assert await store.apply_window(outcome(one, attempts=(attempt("wh1", 1), attempt("wh1", 2))))
    assert await store.apply_window(outcome(two, attempts=(attempt("wh2", 3),)))
    assert await store.apply_window(outcome(one, attempts=(attempt("wh1", 4, succeeded=False),)))
    newest_first = [attempt("wh1", 4, succeeded=False), attempt("wh1", 2), attempt("wh1", 1)]
    assert await store.list_attempts("wh1", limit=ALL) == newest_first
    assert await store.list_attempts("wh1", limit=2) == newest_first[:2]
    assert await store.list_attempts("wh2", limit=ALL) == [attempt("wh2", 3)]
    assert await store.list_attempts("unknown", limit=ALL) == []
