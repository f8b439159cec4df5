"""Store contract: the due set (settled tenants, retry times, turns, holding) and the
per-tenant webhook limit, the same on every store."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.integration.store_helpers import (
    ALL,
    T0,
    draft,
    must_get_webhook,
    new_webhook,
    outcome,
    seed_people,
)
from workhooks.errors import TooManyWebhooksError
from workhooks.storage.protocol import Store

pytestmark = pytest.mark.timeout(60)
NOW = T0 + dt.timedelta(hours=1)


async def _ids(store: Store, *, now: dt.datetime = NOW, holding: tuple[str, ...] = ()) -> set[str]:
    return {w.id for w in await store.due_webhooks(now=now, limit=ALL, holding=holding)}


async def test_a_settled_tenant_has_no_due_webhooks_until_it_writes_again(store: Store) -> None:
    """Settling keeps caught-up tenants out of the search; a new write brings them back."""
    await seed_people(store, "acme", 1)
    await store.create_webhook(new_webhook("wh"))
    await store.put_work_interruptions("acme", [draft(1)])
    webhook = await must_get_webhook(store, "acme", "wh")
    assert await _ids(store) == {"wh"}
    assert await store.settle_tenants(now=NOW) == 0  # "wh" is behind: not settled
    assert await store.apply_window(outcome(webhook, cursor=webhook.cursor + 1))
    assert await store.settle_tenants(now=NOW) == 1
    assert await store.settle_tenants(now=NOW) == 0
    assert await _ids(store) == set()
    await store.put_work_interruptions("acme", [draft(2)])
    assert await _ids(store) == {"wh"}


async def test_a_webhook_leaving_back_off_behind_is_due_after_its_tenant_settled(
    store: Store,
) -> None:
    """A tenant settled while its only behind webhook backed off is unsettled by its recovery."""
    await seed_people(store, "acme", 1)
    await store.create_webhook(new_webhook("wh"))
    await store.put_work_interruptions("acme", [draft(1), draft(2), draft(3)])
    webhook = await must_get_webhook(store, "acme", "wh")
    retry_at = NOW + dt.timedelta(minutes=5)
    assert await store.apply_window(outcome(webhook, failures=1, next_attempt_at=retry_at))
    assert await store.settle_tenants(now=NOW) == 1  # the only behind webhook is backing off
    assert await _ids(store) == set()
    assert await _ids(store, now=retry_at) == {"wh"}  # found by its retry time
    backing_off = await must_get_webhook(store, "acme", "wh")
    # The probe delivers one record and the back-off ends: still behind, so due without a write.
    assert await store.apply_window(outcome(backing_off, cursor=webhook.cursor + 1))
    assert await _ids(store, now=retry_at) == {"wh"}
    assert await store.settle_tenants(now=retry_at) == 0


async def test_tenants_take_turns_in_what_is_due(store: Store) -> None:
    """Each tenant's first due webhook comes before any tenant's second, oldest first."""
    for tenant in ("big", "small"):
        await seed_people(store, tenant, 1)
    for n in range(5):
        created = T0 + dt.timedelta(seconds=n)
        await store.create_webhook(new_webhook(f"big-{n}", "big", created_at=created))
    await store.create_webhook(
        new_webhook("small-0", "small", created_at=T0 + dt.timedelta(minutes=1))
    )
    for tenant in ("big", "small"):
        await store.put_work_interruptions(tenant, [draft(1)])
    first_two = await store.due_webhooks(now=NOW, limit=2)
    assert {w.id for w in first_two} == {"big-0", "small-0"}


async def test_webhooks_held_by_the_worker_are_not_due_again(store: Store) -> None:
    """``holding`` names webhooks the worker has already: they are left out."""
    await seed_people(store, "acme", 1)
    for webhook_id in ("one", "two"):
        await store.create_webhook(new_webhook(webhook_id))
    await store.put_work_interruptions("acme", [draft(1)])
    assert await _ids(store, holding=("one",)) == {"two"}
    assert await _ids(store, holding=("one", "two")) == set()


async def test_apply_windows_applies_each_outcome_on_its_own(store: Store) -> None:
    """One call applies several windows; a stale one is refused without stopping the others."""
    await seed_people(store, "acme", 1)
    for webhook_id in ("a", "b"):
        await store.create_webhook(new_webhook(webhook_id))
    await store.put_work_interruptions("acme", [draft(1)])
    a = await must_get_webhook(store, "acme", "a")
    b = await must_get_webhook(store, "acme", "b")
    stale = outcome(b, cursor=b.cursor + 1, expected_cursor=b.cursor + 1)
    assert await store.apply_windows([outcome(a, cursor=a.cursor + 1), stale]) == {"a": True}
    assert (await must_get_webhook(store, "acme", "a")).cursor == a.cursor + 1
    assert (await must_get_webhook(store, "acme", "b")).cursor == b.cursor


async def test_apply_windows_says_whether_a_webhook_may_send_on(store: Store) -> None:
    """A webhook deleted while its window was in flight is applied but may not send on."""
    await seed_people(store, "acme", 1)
    for webhook_id in ("kept", "deleted", "disabled"):
        await store.create_webhook(new_webhook(webhook_id))
    await store.put_work_interruptions("acme", [draft(1)])
    hooks = {i: await must_get_webhook(store, "acme", i) for i in ("kept", "deleted", "disabled")}
    assert await store.delete_webhook("acme", "deleted", at=T0)
    kept = outcome(hooks["kept"], cursor=hooks["kept"].cursor + 1)
    windows = [
        dataclasses.replace(kept, keep_lease=True),
        dataclasses.replace(outcome(hooks["deleted"]), keep_lease=True),
        outcome(hooks["disabled"], failures=1, disabled_reason="the destination answered 410 Gone"),
    ]
    applied = await store.apply_windows(windows)
    assert applied == {"kept": True, "deleted": False, "disabled": False}


async def test_the_enabled_webhook_limit_counts_enabled_live_webhooks(store: Store) -> None:
    """At the limit a create is refused; disabled and deleted webhooks do not count."""
    await store.create_webhook(new_webhook("one"), max_enabled=2)
    await store.create_webhook(new_webhook("two"), max_enabled=2)
    await store.create_webhook(new_webhook("other", "globex"), max_enabled=2)
    with pytest.raises(TooManyWebhooksError):
        await store.create_webhook(new_webhook("three"), max_enabled=2)
    assert await store.get_webhook("acme", "three") is None
    one = await must_get_webhook(store, "acme", "one")
    assert await store.apply_window(dataclasses.replace(outcome(one), disabled_reason="410"))
    await store.create_webhook(new_webhook("three"), max_enabled=2)
    assert await store.delete_webhook("acme", "two", at=T0)
    await store.create_webhook(new_webhook("four"), max_enabled=2)


async def test_tenants_with_work_are_visited_in_rotation(store: Store) -> None:
    """A search starts after the tenant where the last one stopped, and wraps around."""
    for tenant in ("a", "b", "c"):
        await seed_people(store, tenant, 1)
        await store.create_webhook(new_webhook(f"{tenant}-hook", tenant))
        await store.put_work_interruptions(tenant, [draft(1)])

    async def first(after: str) -> list[str]:
        return [w.tenant for w in await store.due_webhooks(now=NOW, limit=1, after=after)]

    assert await first("") == ["a"]
    assert await first("a") == ["b"]
    assert await first("b") == ["c"]
    assert await first("c") == ["a"]
    everyone = await store.due_webhooks(now=NOW, limit=ALL, after="b")
    assert [w.tenant for w in everyone] == ["c", "a", "b"]
