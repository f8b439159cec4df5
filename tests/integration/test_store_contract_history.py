"""Storage contract: the delivery history kept by ``apply_window``, on every store."""

from __future__ import annotations

import dataclasses
import datetime as dt

from tests.integration.store_helpers import T0, attempt, must_get_webhook, new_webhook, outcome
from workhooks.domain.deliveries import DeliveryQuery, DeliveryStatus
from workhooks.domain.webhooks import WebhookStatus
from workhooks.storage.protocol import Store


async def _window(store: Store, webhook_id: str, *attempts_: object) -> None:
    webhook = await must_get_webhook(store, "acme", webhook_id)
    attempts = tuple(a for a in attempts_ if a is not None)
    assert await store.apply_window(outcome(webhook, attempts=attempts))  # type: ignore[arg-type]


async def test_each_attempt_updates_one_delivery_summary(store: Store) -> None:
    """A failed then successful attempt of one event is one delivery with two attempts."""
    await store.create_webhook(new_webhook("wh"))
    failed = dataclasses.replace(
        attempt("wh", 1, succeeded=False), next_attempt_at=T0 + dt.timedelta(seconds=5)
    )
    await _window(store, "wh", failed)
    retried = dataclasses.replace(attempt("wh", 1), attempted_at=T0 + dt.timedelta(seconds=9))
    await _window(store, "wh", retried)
    found = await store.get_delivery("wh", failed.message_id)
    assert found is not None
    delivery, attempts = found
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 2
    assert delivery.first_attempt_at == failed.attempted_at
    assert delivery.last_attempt_at == retried.attempted_at
    assert delivery.next_attempt_at is None
    assert delivery.last_status_code == 200
    assert [a.succeeded for a in attempts] == [False, True]
    assert attempts[0].next_attempt_at == T0 + dt.timedelta(seconds=5)
    assert attempts[0].response_excerpt == "unavailable"


async def test_deliveries_list_newest_first_with_filters_and_keyset_pages(store: Store) -> None:
    """Listing filters on status and time and pages by the last delivery seen, without gaps."""
    await store.create_webhook(new_webhook("wh"))
    await store.create_webhook(new_webhook("other"))
    for n in range(1, 8):
        await _window(store, "wh", attempt("wh", n, succeeded=n % 3 != 0))
    await _window(store, "other", attempt("other", 1))
    everything = await store.list_deliveries(DeliveryQuery(webhook_id="wh", limit=100))
    assert [d.record_id for d in everything] == [7, 6, 5, 4, 3, 2, 1]
    failed = await store.list_deliveries(
        DeliveryQuery(webhook_id="wh", statuses=frozenset({DeliveryStatus.FAILED}))
    )
    assert [d.record_id for d in failed] == [6, 3]
    window = await store.list_deliveries(
        DeliveryQuery(
            webhook_id="wh",
            since=T0 + dt.timedelta(seconds=2),
            until=T0 + dt.timedelta(seconds=4),
        )
    )
    assert [d.record_id for d in window] == [4, 3, 2]
    pages, after = [], None
    while True:
        page = await store.list_deliveries(DeliveryQuery(webhook_id="wh", after=after, limit=3))
        if not page:
            break
        pages.append([d.record_id for d in page])
        after = (page[-1].last_attempt_at, page[-1].id)
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]


async def test_unknown_delivery_is_none_and_history_is_per_webhook(store: Store) -> None:
    """A delivery id of another webhook, or an unknown one, is not found."""
    await store.create_webhook(new_webhook("wh"))
    await store.create_webhook(new_webhook("other"))
    await _window(store, "wh", attempt("wh", 1))
    assert await store.get_delivery("other", attempt("wh", 1).message_id) is None
    assert await store.get_delivery("wh", "msg_unknown") is None


async def test_purge_history_drops_only_what_is_older_than_the_limit(store: Store) -> None:
    """Retention deletes attempts and deliveries last tried before the cut-off, nothing newer."""
    await store.create_webhook(new_webhook("wh"))
    for n in range(1, 5):
        await _window(store, "wh", attempt("wh", n))
    purged = await store.purge_history(before=T0 + dt.timedelta(seconds=3))
    assert purged == 2
    left = await store.list_deliveries(DeliveryQuery(webhook_id="wh"))
    assert [d.record_id for d in left] == [4, 3]
    assert [a.record_id for a in await store.list_attempts("wh", limit=10)] == [4, 3]


async def test_webhook_backlogs_count_changes_after_each_cursor(store: Store) -> None:
    """Backlogs count webhooks by status and list those behind, with lag and versions behind."""
    from tests.integration.store_helpers import draft, seed_people

    await store.create_webhook(new_webhook("early"))
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2)])
    await store.create_webhook(new_webhook("late"))
    await store.put_work_interruptions("acme", [draft(3)])
    await store.create_webhook(new_webhook("gone"))
    assert await store.delete_webhook("acme", "gone", at=T0)
    early = await must_get_webhook(store, "acme", "early")
    at = T0 + dt.timedelta(minutes=5)
    assert await store.apply_window(
        dataclasses.replace(outcome(early, cursor=early.cursor + 1), caught_up_at=at)
    )
    report = await store.webhook_backlogs(limit=10)
    assert report.by_status == {WebhookStatus.ENABLED: 2}
    assert (report.behind, report.failing) == (2, 0)
    backlogs = {b.webhook_id: b for b in report.worst}
    assert set(backlogs) == {"early", "late"}
    assert backlogs["early"].changes_behind == 3
    assert backlogs["early"].caught_up_at == at
    assert backlogs["late"].changes_behind == 1
    assert backlogs["late"].caught_up_at is None
