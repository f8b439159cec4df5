"""The storage contract for webhook registrations: create, get, list and soft delete.

Each test takes the ``store`` fixture (``tests/integration/conftest.py``), so it runs on
``InMemoryStore`` and on ``SqliteStore`` over a real file, and the fake used by the unit
tests is held to exactly the behaviour of the real store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.store_helpers import T0, draft, must_get_webhook, new_webhook, seed_people
from workhooks.domain.webhooks import WebhookStatus
from workhooks.storage.protocol import Store

pytestmark = pytest.mark.timeout(60)


# -- webhooks --------------------------------------------------------------------------------


async def test_create_webhook_starts_the_cursor_at_the_tenant_head(store: Store) -> None:
    """A new webhook is enabled, not backing off, and its cursor is the tenant's head."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2)])
    new = new_webhook("wh1")
    webhook = await store.create_webhook(new)
    assert webhook.cursor == await store.head_version("acme") == 3
    assert webhook.status is WebhookStatus.ENABLED
    assert (webhook.failures, webhook.next_attempt_at, webhook.deleted_at) == (0, None, None)
    assert webhook.disabled_reason is None
    assert (webhook.id, webhook.tenant, webhook.collection) == ("wh1", "acme", new.collection)
    assert (webhook.destination_url, webhook.secret) == (new.destination_url, new.secret)
    assert (webhook.created_at, webhook.valid_until) == (new.created_at, new.valid_until)
    assert await store.get_webhook("acme", "wh1") == webhook
    other = await store.create_webhook(new_webhook("wh2", "globex"))
    assert other.cursor == 0


async def test_get_webhook_is_tenant_scoped(store: Store) -> None:
    """Another tenant cannot see a webhook, and unknown ids give None."""
    await store.create_webhook(new_webhook("wh1", "acme"))
    assert await store.get_webhook("globex", "wh1") is None
    assert await store.get_webhook("acme", "nope") is None


async def test_list_webhooks_is_oldest_first_and_excludes_deleted(store: Store) -> None:
    """``list_webhooks`` shows the tenant's live webhooks by creation time."""
    await store.create_webhook(new_webhook("late", created_at=T0 + dt.timedelta(minutes=2)))
    await store.create_webhook(new_webhook("early", created_at=T0))
    await store.create_webhook(new_webhook("gone", created_at=T0 + dt.timedelta(minutes=1)))
    await store.create_webhook(new_webhook("theirs", "globex"))
    assert await store.delete_webhook("acme", "gone", at=T0)
    assert [w.id for w in await store.list_webhooks("acme")] == ["early", "late"]
    assert [w.id for w in await store.list_webhooks("globex")] == ["theirs"]


async def test_delete_webhook_is_a_soft_delete_that_succeeds_once(store: Store) -> None:
    """The first delete returns True and stamps ``deleted_at``; later deletes return False."""
    await store.create_webhook(new_webhook("wh1"))
    at = T0 + dt.timedelta(hours=1)
    assert not await store.delete_webhook("globex", "wh1", at=at)
    assert await store.delete_webhook("acme", "wh1", at=at)
    assert not await store.delete_webhook("acme", "wh1", at=at + dt.timedelta(hours=1))
    assert not await store.delete_webhook("acme", "unknown", at=at)
    deleted = await must_get_webhook(store, "acme", "wh1")
    assert deleted.deleted_at == at
