"""The SDK's ``AsyncClient`` against the real app in-process: server and SDK cannot drift."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.conftest import API, Api, ApiFactory
from tests.integration.sdk_helpers import SDK_AGENT, async_sdk, record
from workhooks.client import (
    AsyncClient,
    BadRequest,
    ChangeType,
    Conflict,
    Gone,
    NotFound,
    PersonWrite,
    Unauthorized,
    WebhookStatus,
    WorkInterruption,
)
from workhooks.config import Settings
from workhooks.domain.scopes import Scope

pytestmark = pytest.mark.timeout(60)

MARCH = "date ge '2025-03-01' and date le '2025-03-31'"
HOOK = "https://consumer.example.com/hook"


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """The app on the in-memory store, production rules: the SDK's contract is the API's."""
    return await api_factory(Settings.of(database_url="memory://"))


async def people(client: AsyncClient, *ids: int) -> None:
    """Create the people records refer to."""
    await client.put_people([PersonWrite(id=i, employee_number=f"E-{i}") for i in ids])


# -- tokens ----------------------------------------------------------------------------------


async def test_token_is_reused_until_shortly_before_expiry_then_refreshed(api: Api) -> None:
    """One token serves many calls; near expiry the client fetches a new one and calls succeed."""
    client, transport = await async_sdk(api)
    async with client:
        first = await client.access_token()
        await client.list_webhooks()
        await client.list_webhooks()
        assert transport.token_requests == 1
        api.clock.advance(1800 - 61)  # still outside the 60 s refresh margin
        assert await client.access_token() == first
        api.clock.advance(30)  # inside the margin: refreshed before it lapses
        await client.list_webhooks()
        assert transport.token_requests == 2
        assert await client.access_token() != first


async def test_expired_token_is_refused_by_the_server_and_replaced_by_the_client(
    api: Api,
) -> None:
    """After expiry (server clock) the old token gets 401, and the client silently renews it."""
    client, transport = await async_sdk(api)
    async with client:
        old = await client.access_token()
        api.clock.advance(1801)
        raw = await api.http.get(
            f"{API}/webhooks", headers={"Authorization": f"Bearer {old}", "User-Agent": SDK_AGENT}
        )
        assert raw.status_code == 401
        assert await client.list_webhooks() == []
        assert transport.token_requests == 2


async def test_a_token_the_server_refuses_is_renewed_once(api: Api) -> None:
    """A client whose clock lags still recovers: a 401 invalid_token triggers one fresh token."""
    lagging = api.clock.now()
    client, transport = await async_sdk(api, clock=lambda: lagging)
    async with client:
        await client.list_webhooks()
        api.clock.advance(3600)  # the server's time moves on, the client's does not
        assert await client.list_webhooks() == []
        assert transport.token_requests == 2


async def test_missing_scope_raises_unauthorized_without_fetching_new_tokens(api: Api) -> None:
    """A token lacking a scope is a typed 401 that says so; no new token is tried for it."""
    client, transport = await async_sdk(api, [Scope.WEBHOOKS_READ])
    async with client:
        with pytest.raises(Unauthorized) as caught:
            await client.get_work_interruption(1)
        assert caught.value.status == 401
        assert caught.value.insufficient_scope
        assert transport.token_requests == 1


async def test_wrong_client_secret_raises_unauthorized_with_the_oauth_code(api: Api) -> None:
    """Bad client credentials surface as ``Unauthorized`` carrying the server's error code."""
    client_id, _ = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    async with AsyncClient(
        "http://testserver",
        tenant="acme",
        client_id=client_id,
        client_secret="wrong",
        transport=httpx.ASGITransport(app=api.rt.app),  # type: ignore[arg-type]
        clock=api.clock.now,
    ) as client:
        with pytest.raises(Unauthorized) as caught:
            await client.list_webhooks()
    assert caught.value.code == "invalid_client"


def test_user_agent_must_be_name_version_company() -> None:
    """The client refuses a User-Agent the Protime rule would reject, before any request."""
    with pytest.raises(ValueError, match="ServiceName/Version"):
        AsyncClient("http://x", tenant="t", client_id="c", client_secret="s", user_agent="curl")


# -- reads: paging, delta, external references ----------------------------------------------


async def test_iteration_follows_next_links_across_pages(api_factory: ApiFactory) -> None:
    """With pages of three, ten records come back complete, in date-then-id order."""
    api = await api_factory(Settings.of(database_url="memory://", page_size=3))
    client, transport = await async_sdk(api)
    async with client:
        await people(client, 1)
        written = [record(i, day=f"2025-03-{11 - i:02d}") for i in range(1, 11)]
        await client.put_work_interruptions(written)
        found = [r async for r in client.iter_work_interruptions(MARCH)]
        assert [r.id for r in found] == list(range(10, 0, -1))
        assert all(isinstance(r, WorkInterruption) for r in found)
        assert transport.paths[f"{API}/work-interruptions"] == 4
        assert [r async for r in client.iter_work_interruptions("date eq '2025-04-01'")] == []


async def test_external_references_are_rendered_on_lists_and_gets(api: Api) -> None:
    """Asked-for references arrive typed on the person of each record."""
    client, _ = await async_sdk(api)
    async with client:
        await people(client, 7)
        await client.set_external_reference(7, "HRMID", "88")
        await client.put_work_interruption(record(1, person=7))
        refs = "(people,@employee-number)(people,HRMID)"
        (listed,) = [
            r async for r in client.iter_work_interruptions(MARCH, external_references=refs)
        ]
        got = await client.get_work_interruption(1, external_references=refs)
        assert listed.person.external_references == {"@employee-number": "E-7", "HRMID": "88"}
        assert got == listed
        assert (await client.get_work_interruption(1)).person.external_references is None


async def test_delta_snapshot_plus_changes_equals_the_current_state(
    api_factory: ApiFactory,
) -> None:
    """A delta walk, then the changes from its link, rebuild exactly what the server holds."""
    api = await api_factory(Settings.of(database_url="memory://", page_size=2))
    client, _ = await async_sdk(api)
    async with client:
        await people(client, 1)
        await client.put_work_interruptions([record(i) for i in range(1, 6)])
        walk = client.start_delta(MARCH)
        with pytest.raises(RuntimeError):
            _ = walk.delta_link
        mirror = {r.id: r async for r in walk}
        await client.delete_work_interruption(2)
        await client.put_work_interruption(record(3, minutes=45))
        await client.put_work_interruption(record(9))
        await client.put_work_interruption(record(4, day="2025-05-01"))  # leaves the range
        changes = client.iter_delta(walk.delta_link)
        items = [i async for i in changes]
        for item in items:
            if item.change_type is ChangeType.DELETE:
                mirror.pop(item.id, None)
            else:
                assert item.record is not None
                mirror[item.id] = item.record
        assert {i.id: i.change_type for i in items} == {
            2: ChangeType.DELETE,
            3: ChangeType.INSERT_OR_UPDATE,
            9: ChangeType.INSERT_OR_UPDATE,
            4: ChangeType.DELETE,
        }
        assert mirror == {r.id: r async for r in client.iter_work_interruptions(MARCH)}
        quiet = client.iter_delta(changes.delta_link)
        assert [i async for i in quiet] == []
        assert quiet.delta_link.startswith(f"{API}/delta/work-interruptions?deltaToken=")


async def test_expired_delta_link_raises_gone(api: Api) -> None:
    """A delta link unused for 72 hours is a typed 410, telling the consumer to sync again."""
    client, _ = await async_sdk(api)
    async with client:
        walk = client.start_delta(MARCH)
        assert [r async for r in walk] == []
        api.clock.advance(dt.timedelta(hours=73))
        with pytest.raises(Gone) as caught:
            [i async for i in client.iter_delta(walk.delta_link)]
        assert caught.value.code == "DeltaTokenExpired"


# -- writes and errors -----------------------------------------------------------------------


async def test_errors_are_typed_with_code_message_and_reasons(api: Api) -> None:
    """404, 400 with reasons (a tampered delta token too) and 409 arrive as ``NotFound``,
    ``BadRequest`` and ``Conflict``."""
    client, _ = await async_sdk(api)
    async with client:
        with pytest.raises(NotFound) as missing:
            await client.get_work_interruption(999)
        assert missing.value.code == "NotFound"
        with pytest.raises(BadRequest) as bad_filter:
            [r async for r in client.iter_work_interruptions("date gt '2025-01-01'")]
        assert bad_filter.value.reasons
        assert "position" in bad_filter.value.reasons[0]
        with pytest.raises(BadRequest) as unknown_person:
            await client.put_work_interruption(record(1, person=404))
        assert unknown_person.value.code == "UnknownPerson"
        await people(client, 1, 2)
        await client.put_work_interruption(record(1, person=1))
        with pytest.raises(Conflict):
            await client.delete_person(1)
        await client.set_external_reference(1, "HRMID", "X")
        with pytest.raises(Conflict):
            await client.set_external_reference(2, "HRMID", "X")
        with pytest.raises(BadRequest) as tampered:
            [i async for i in client.iter_delta(f"{API}/delta/work-interruptions?deltaToken=x.y")]
        assert tampered.value.code == "InvalidDeltaToken"


async def test_people_and_custom_references_round_trip(api: Api) -> None:
    """People writes, reads and custom references go through the typed calls."""
    client, _ = await async_sdk(api)
    async with client:
        stored = await client.put_person(PersonWrite(id=5, badge_number="B5"))
        assert (await client.get_person(5)) == stored
        assert stored.badge_number == "B5"
        await client.set_external_reference(5, "HRMID", "55")
        assert await client.get_external_references(5) == {"HRMID": "55"}
        await client.delete_external_reference(5, "HRMID")
        assert await client.get_external_references(5) == {}
        with pytest.raises(NotFound):
            await client.delete_external_reference(5, "HRMID")
        await client.delete_person(5)
        with pytest.raises(NotFound):
            await client.get_person(5)


# -- webhooks and delivery history -----------------------------------------------------------


async def test_webhooks_create_list_get_delete(api: Api) -> None:
    """The key comes once at creation; lists filter; a deleted webhook is NotFound."""
    client, _ = await async_sdk(api)
    async with client:
        created = await client.create_webhook(HOOK, external_references="(people,@badge-number)")
        assert created.key.startswith("whsec_")
        assert created.status is WebhookStatus.ENABLED
        assert created.valid_until == api.clock.now() + dt.timedelta(days=30)
        assert created.external_references == {"people": ["@badge-number"]}
        fetched = await client.get_webhook(created.id)
        assert fetched.id == created.id
        assert not hasattr(fetched, "key")
        assert [w.id for w in await client.list_webhooks("status eq 'Enabled'")] == [created.id]
        assert await client.list_webhooks("status eq 'Disabled'") == []
        with pytest.raises(BadRequest) as bad:
            await client.create_webhook("http://consumer.example.com/hook")
        assert bad.value.code == "InvalidDestinationUrl"
        await client.delete_webhook(created.id)
        with pytest.raises(NotFound):
            await client.get_webhook(created.id)
        with pytest.raises(NotFound):
            await client.delete_webhook(created.id)


async def test_delivery_history_is_readable(api: Api) -> None:
    """After the worker delivers, the history lists the delivery and its attempts."""
    client, _ = await async_sdk(api)
    async with client:
        hook = await client.create_webhook(HOOK)
        await people(client, 1)
        written = await client.put_work_interruption(record(1))
        assert await api.rt.worker.run_once() == 1
        (delivery,) = [d async for d in client.iter_deliveries(hook.id)]
        assert delivery.change_version == written.change_version
        assert delivery.status == "Succeeded"
        detail = await client.get_delivery(hook.id, delivery.id)
        assert [a.status_code for a in detail.attempt_history] == [204]
        assert [d async for d in client.iter_deliveries(hook.id, "status eq 'Failed'")] == []
