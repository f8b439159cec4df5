"""Where the SDK finds a tenant's API and tokens: Protime environments by name, or any server."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from workhooks.client import (
    PROTIME_SANDBOX,
    AsyncClient,
    Client,
    SqliteSink,
    SyncEngine,
    SyncOptions,
    SyncScope,
    SyncState,
    protime_endpoints,
)
from workhooks.client.signatures import SignatureError


@pytest.mark.parametrize(
    ("environment", "domain"),
    [
        ("myprotime.eu", "myprotime.eu"),
        ("production", "myprotime.eu"),
        ("myprotimesandbox.eu", "myprotimesandbox.eu"),
        ("sandbox", "myprotimesandbox.eu"),
    ],
)
def test_protime_environments_by_name(environment: str, domain: str) -> None:
    """Tokens from authentication.<env>/tenants/<t>/connect/token, API at https://<t>.<env>."""
    found = protime_endpoints(environment, "acme")
    assert found.base_url == f"https://acme.{domain}"
    assert found.token_url == f"https://authentication.{domain}/tenants/acme/connect/token"


@pytest.mark.parametrize("environment", ["ftp://x.eu", "my protime.eu", "", "https://"])
def test_unusable_environments_are_refused(environment: str) -> None:
    """An environment that is not a domain (with an optional http/https scheme) is a ValueError."""
    with pytest.raises(ValueError, match="environment"):
        protime_endpoints(environment, "acme")


@pytest.mark.parametrize("tenant", ["Acme", "a.b", "-acme", "a_b", ""])
def test_tenants_that_cannot_be_a_host_label_are_refused(tenant: str) -> None:
    """The tenant becomes a host name label, so it must be one."""
    with pytest.raises(ValueError, match="tenant"):
        protime_endpoints(PROTIME_SANDBOX, tenant)


def test_for_protime_sends_the_token_request_to_the_authentication_host() -> None:
    """The blocking client built ``for_protime`` asks the authentication host, then the API."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.copy_with(query=None)))
        if request.url.path.endswith("/connect/token"):
            body = {"access_token": "t", "expires_in": 60, "token_type": "Bearer", "scope": ""}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"value": []})

    with Client.for_protime(
        "sandbox",
        tenant="acme",
        client_id="c",
        client_secret="s",
        transport=httpx.MockTransport(answer),
    ) as client:
        assert client.list_webhooks() == []
    assert seen == [
        "https://authentication.myprotimesandbox.eu/tenants/acme/connect/token",
        "https://acme.myprotimesandbox.eu/connector/protimeapi/api/v1/webhooks",
    ]


def _refuse_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request {request.url}")


def test_a_verifier_replaces_the_standard_webhooks_check() -> None:
    """``SyncOptions.verifier`` decides: its event is applied, its SignatureError answers 401."""
    calls: list[str] = []

    def verifier(
        key: str,
        headers: object,
        body: bytes,
        *,
        clock: object,
        tolerance: dt.timedelta,
    ) -> dict[str, object]:
        calls.append(key)
        if body != b"good":
            raise SignatureError("not our scheme")
        return {"changeType": "Delete", "data": {"id": 7, "changeVersion": "0" * 19 + "9"}}

    client = AsyncClient(
        "http://unused",
        tenant="t",
        client_id="c",
        client_secret="s",
        transport=httpx.MockTransport(_refuse_network),
    )
    scope = SyncScope(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
    with SqliteSink(":memory:") as sink:
        sink.save_state(SyncState(scope=scope, webhook_key="whsec_mine"))
        engine = SyncEngine(
            client,
            sink,
            SyncOptions(destination_url="https://x/h", scope=scope, verifier=verifier),
        )
        assert engine.receive({}, b"good").applied
        assert engine.receive({}, b"bad").status == 401
    assert calls == ["whsec_mine", "whsec_mine"]
