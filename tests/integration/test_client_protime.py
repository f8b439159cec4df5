"""The SDK and ``mirror check`` against our server arranged as Protime is: two hosts, by name.

Tokens come from ``authentication.<environment>``, the API from ``<tenant>.<environment>``;
a loopback proxy (``protime_hosts``) routes each host name to the one part it serves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api, ApiFactory
from tests.integration.protime_hosts import AUTH_HOST, DOMAIN, ENVIRONMENT, protime_front
from tests.integration.sdk_helpers import SDK_AGENT
from workhooks.client import AsyncClient, Client, NotFound, UnexpectedResponse
from workhooks.client.sqlite_sink import SqliteSink
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.mirror.check import run_check
from workhooks.mirror.settings import MirrorSettings

pytestmark = pytest.mark.timeout(60)

TENANT = "acme"
API_HOST = f"{TENANT}.{DOMAIN}"
HOOK = "https://consumer.example.com/hook"


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """The app whose issuer is the authentication host, as Protime's tokens name it."""
    return await api_factory(
        Settings.of(database_url="memory://", public_url=f"http://{AUTH_HOST}")
    )


async def test_for_protime_takes_tokens_from_the_authentication_host(api: Api) -> None:
    """``for_protime`` gets tokens from authentication.<env> and calls the API on <tenant>.<env>."""
    client_id, secret = await api.credentials(TENANT, tuple(Scope))
    async with protime_front(api.rt.app, tenant=TENANT) as front:
        client = AsyncClient.for_protime(
            ENVIRONMENT,
            tenant=TENANT,
            client_id=client_id,
            client_secret=secret,
            user_agent=SDK_AGENT,
            transport=httpx.AsyncHTTPTransport(proxy=front.proxy_url),
        )
        async with client:
            created = await client.create_webhook(HOOK)
            assert [w.id for w in await client.list_webhooks()] == [created.id]
            await client.delete_webhook(created.id)
            assert await client.list_webhooks() == []
    assert front.hosts_of("/connect/token") == {AUTH_HOST}
    assert front.hosts_of("/webhooks") == {API_HOST}


async def test_a_token_url_derived_from_the_api_host_finds_nothing(api: Api) -> None:
    """Without the environment the token endpoint is looked for on the API host: 404 there."""
    client_id, secret = await api.credentials(TENANT, tuple(Scope))
    async with protime_front(api.rt.app, tenant=TENANT) as front:
        client = AsyncClient(
            f"http://{API_HOST}",
            tenant=TENANT,
            client_id=client_id,
            client_secret=secret,
            user_agent=SDK_AGENT,
            transport=httpx.AsyncHTTPTransport(proxy=front.proxy_url),
        )
        async with client:
            with pytest.raises((NotFound, UnexpectedResponse)):
                await client.list_webhooks()


async def test_oidc_discovery_names_the_token_endpoint(api: Api) -> None:
    """With ``oidc_issuer`` the client reads discovery once and uses its token_endpoint."""
    client_id, secret = await api.credentials(TENANT, tuple(Scope))
    async with protime_front(api.rt.app, tenant=TENANT) as front:
        client = AsyncClient(
            f"http://{API_HOST}",
            tenant=TENANT,
            client_id=client_id,
            client_secret=secret,
            user_agent=SDK_AGENT,
            oidc_issuer=f"http://{AUTH_HOST}/tenants/{TENANT}",
            transport=httpx.AsyncHTTPTransport(proxy=front.proxy_url),
        )
        async with client:
            assert await client.list_webhooks() == []
            await client.access_token()
    assert front.seen[:2] == [
        (AUTH_HOST, f"/tenants/{TENANT}/.well-known/openid-configuration"),
        (AUTH_HOST, f"/tenants/{TENANT}/connect/token"),
    ]
    assert front.hosts_of("/.well-known/openid-configuration") == {AUTH_HOST}


async def test_blocking_client_with_a_separate_token_url(api: Api) -> None:
    """The blocking ``Client`` with ``token_url`` reaches both hosts through real sockets."""
    client_id, secret = await api.credentials(TENANT, tuple(Scope))
    async with protime_front(api.rt.app, tenant=TENANT) as front:

        def use() -> list[str]:
            with Client(
                f"http://{API_HOST}",
                tenant=TENANT,
                client_id=client_id,
                client_secret=secret,
                user_agent=SDK_AGENT,
                token_url=f"http://{AUTH_HOST}/tenants/{TENANT}/connect/token",
                transport=httpx.HTTPTransport(proxy=front.proxy_url),
            ) as client:
                created = client.create_webhook(HOOK)
                return [w.id for w in client.list_webhooks()] + [created.id]

        ids = await asyncio.to_thread(use)
    assert ids[0] == ids[1]
    assert front.hosts_of("/connect/token") == {AUTH_HOST}


async def test_mirror_check_targets_an_environment(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mirror check --environment`` talks to both hosts and compares an empty copy: equal."""
    client_id, secret = await api.credentials(TENANT, tuple(Scope))
    db = tmp_path / "copy.db"
    SqliteSink(str(db)).close()
    settings = MirrorSettings(
        environment=ENVIRONMENT,
        tenant=TENANT,
        client_id=client_id,
        client_secret=secret,
        db=str(db),
        date_from=dt.date(2026, 1, 1),
        date_to=dt.date(2026, 2, 28),
    )
    async with protime_front(api.rt.app, tenant=TENANT) as front:
        monkeypatch.setenv("HTTP_PROXY", front.proxy_url)
        monkeypatch.setenv("NO_PROXY", "")
        code = await asyncio.to_thread(run_check, settings)
    assert code == 0
    assert front.hosts_of("/connect/token") == {AUTH_HOST}
    assert front.hosts_of("/work-interruptions") == {API_HOST}
