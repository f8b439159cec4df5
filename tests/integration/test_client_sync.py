"""The blocking ``Client`` against the real app in-process (through a thread-to-loop bridge)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import API, Api, ApiFactory
from tests.integration.sdk_helpers import record as wi
from tests.integration.sdk_helpers import sync_sdk
from workhooks.client import (
    BadRequest,
    ChangeType,
    Client,
    Gone,
    NotFound,
    PersonWrite,
    WebhookStatus,
)
from workhooks.config import Settings

pytestmark = pytest.mark.timeout(60)

MARCH = "date ge '2025-03-01' and date le '2025-03-31'"


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """The app on the in-memory store with pages of two records."""
    return await api_factory(Settings.of(database_url="memory://", page_size=2))


def write_and_walk(client: Client) -> tuple[list[int], str]:
    """Write five records, walk them with delta; return the ids seen and the delta link."""
    client.put_person(PersonWrite(id=1))
    client.put_work_interruptions([wi(i) for i in range(1, 6)])
    walk = client.start_delta(MARCH)
    return [r.id for r in walk], walk.delta_link


async def test_blocking_client_pages_and_tracks_changes(api: Api) -> None:
    """The blocking client walks pages, hands out the delta link and reads the changes."""
    client, transport = await sync_sdk(api)
    with client:
        ids, link = await asyncio.to_thread(write_and_walk, client)
        assert ids == [1, 2, 3, 4, 5]
        await asyncio.to_thread(client.delete_work_interruption, 3)
        await asyncio.to_thread(client.put_work_interruption, wi(4, minutes=50))
        changes = client.iter_delta(link)
        items = await asyncio.to_thread(list, changes)
        assert [(i.id, i.change_type) for i in items] == [
            (3, ChangeType.DELETE),
            (4, ChangeType.INSERT_OR_UPDATE),
        ]
        assert items[1].record is not None
        assert items[1].record.duration_in_minutes == 50
        assert changes.delta_link.startswith(f"{API}/delta/work-interruptions?")
        listed = await asyncio.to_thread(list, client.iter_work_interruptions(MARCH))
        assert [r.id for r in listed] == [1, 2, 4, 5]
        assert transport.requests > 8  # pages of two: several round trips, one token


async def test_blocking_client_token_reuse_and_refresh(api: Api) -> None:
    """The blocking client keeps one token until it nears expiry, then takes a new one."""
    client, _ = await sync_sdk(api)
    with client:
        first = await asyncio.to_thread(client.access_token)
        assert await asyncio.to_thread(client.access_token) == first
        api.clock.advance(1800)
        assert await asyncio.to_thread(client.list_webhooks) == []
        assert await asyncio.to_thread(client.access_token) != first


async def test_blocking_client_webhooks_and_typed_errors(api: Api) -> None:
    """Webhooks round-trip and errors arrive as the same typed exceptions as async."""
    client, _ = await sync_sdk(api)
    with client:
        created = await asyncio.to_thread(client.create_webhook, "https://c.example.com/h")
        assert created.key.startswith("whsec_")
        fetched = await asyncio.to_thread(client.get_webhook, created.id)
        assert fetched.status is WebhookStatus.ENABLED
        await asyncio.to_thread(client.delete_webhook, created.id)
        with pytest.raises(NotFound):
            await asyncio.to_thread(client.get_webhook, created.id)
        with pytest.raises(BadRequest) as bad:
            await asyncio.to_thread(list, client.iter_work_interruptions("person eq 1"))
        assert bad.value.reasons
        walk = client.start_delta(MARCH)
        await asyncio.to_thread(list, walk)
        api.clock.advance(73 * 3600)
        with pytest.raises(Gone):
            await asyncio.to_thread(list, client.iter_delta(walk.delta_link))
