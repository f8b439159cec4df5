"""The happy paths of the API, in-process: tokens, discovery, records and webhooks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.conftest import API, USER_AGENT, Api, ApiFactory, work_interruption
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)

HOOK = {"destinationUrl": "https://hooks.example.com/in", "collectionName": "work-interruptions"}
CHANGE_VERSION = re.compile(r"[0-9A-F]{20}")


@pytest.fixture(params=["memory", "sqlite"])
async def any_api(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app on the in-memory store and on a real SQLite file, production rules."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/flow.db"
    return await api_factory(Settings.of(database_url=url, dev=False, master_key=TEST_MASTER_KEY))


async def create_webhook(
    api: Api, headers: dict[str, str], url: str = HOOK["destinationUrl"]
) -> Any:
    """Create a webhook on ``url``; return the 201 answer's body."""
    response = await api.http.post(
        f"{API}/webhooks", json={**HOOK, "destinationUrl": url}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


# -- tokens and discovery ----------------------------------------------------------------


async def test_token_answer_has_the_documented_fields(api: Api) -> None:
    """The token answer has ``access_token``, ``expires_in`` 1800, ``Bearer`` and all scopes."""
    granted = {Scope.WEBHOOKS_READ, Scope.WEBHOOKS_WRITE}
    client_id, secret = await api.credentials("acme", granted)
    response = await api.token_response("acme", client_id, secret)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["expires_in"] == 1800
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split(" ")) == {s.value for s in granted}
    assert body["access_token"].count(".") == 2
    assert response.headers["cache-control"] == "no-store"


async def test_token_for_a_requested_subset_of_scopes(api: Api) -> None:
    """A token asked for a subset of the client's scopes carries only those."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ, Scope.WEBHOOKS_WRITE])
    response = await api.token_response("acme", client_id, secret, scope=Scope.WEBHOOKS_READ)
    assert response.json()["scope"] == Scope.WEBHOOKS_READ.value
    headers = {
        "User-Agent": USER_AGENT,
        "Authorization": f"Bearer {response.json()['access_token']}",
    }
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
    refused = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert refused.status_code == 401
    assert "insufficient_scope" in refused.headers["www-authenticate"]


async def test_discovery_and_jwks_verify_the_access_token(api: Api) -> None:
    """The OIDC discovery names the token endpoint and JWKS; the JWKS key verifies a token."""
    discovery = (await api.http.get("/tenants/acme/.well-known/openid-configuration")).json()
    issuer = discovery["issuer"]
    assert issuer.endswith("/tenants/acme")
    assert discovery["token_endpoint"] == f"{issuer}/connect/token"
    assert "client_credentials" in discovery["grant_types_supported"]
    assert set(discovery["scopes_supported"]) == {s.value for s in Scope}
    jwks_path = discovery["jwks_uri"].removeprefix(issuer.removesuffix("/tenants/acme"))
    jwks = (await api.http.get(jwks_path)).json()
    token = await api.token("acme", [Scope.WEBHOOKS_READ])
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    key = jwt.PyJWK(jwk)
    # The server judges expiry on its fake clock, so PyJWT must not use the real one.
    claims = jwt.decode(
        token,
        key.key,
        algorithms=[jwk["alg"]],
        audience="connector-protimeapi",
        issuer=issuer,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["tenant"] == "acme"
    assert claims["scope"] == Scope.WEBHOOKS_READ.value
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["iat"] == int(api.clock.now().timestamp())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
            key.key,
            algorithms=[jwk["alg"]],
            audience="connector-protimeapi",
            options={"verify_exp": False},
        )


# -- records -----------------------------------------------------------------------------


async def test_put_person_creates_then_replaces(any_api: Api) -> None:
    """PUT /people/{id} answers 201 the first time and 200 after, and GET returns the answer."""
    api = any_api
    headers = await api.headers()
    first = await api.http.put(
        f"{API}/people/42", json={"badgeNumber": "B-1", "employeeNumber": "E-1"}, headers=headers
    )
    assert first.status_code == 201
    assert first.json()["badgeNumber"] == "B-1"
    second = await api.http.put(
        f"{API}/people/42", json={"id": 42, "employeeNumber": "E-2"}, headers=headers
    )
    assert second.status_code == 200
    assert second.json()["employeeNumber"] == "E-2"
    assert second.json()["badgeNumber"] is None
    assert second.json()["changeVersion"] > first.json()["changeVersion"]
    got = await api.http.get(f"{API}/people/42", headers=headers)
    assert got.json() == second.json()


async def test_put_work_interruption_creates_then_replaces(any_api: Api) -> None:
    """PUT answers 201 then 200, with 20-hex-digit changeVersions that increase; GET agrees."""
    api = any_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    created = await api.http.put(
        f"{API}/work-interruptions/10", json=work_interruption(), headers=headers
    )
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "changeVersion": body["changeVersion"],
        "id": 10,
        "person": {"id": 1},
        "date": "2024-03-04",
        "durationInMinutes": 30,
        "startTimeInMinutes": 600,
        "endTimeInMinutes": 630,
    }
    assert CHANGE_VERSION.fullmatch(body["changeVersion"])
    assert (await api.http.get(f"{API}/work-interruptions/10", headers=headers)).json() == body
    replaced = await api.http.put(
        f"{API}/work-interruptions/10",
        json=work_interruption(id=10, durationInMinutes=45, endTimeInMinutes=645),
        headers=headers,
    )
    assert replaced.status_code == 200
    assert replaced.json()["durationInMinutes"] == 45
    assert CHANGE_VERSION.fullmatch(replaced.json()["changeVersion"])
    assert replaced.json()["changeVersion"] > body["changeVersion"]
    got = await api.http.get(f"{API}/work-interruptions/10", headers=headers)
    assert got.json() == replaced.json()


async def test_batch_upsert(any_api: Api) -> None:
    """A batch upserts every item atomically, in order, each with a higher changeVersion."""
    api = any_api
    headers = await api.headers()
    batch = await api.http.post(
        f"{API}/people/batch",
        json={"value": [{"id": 1}, {"id": 2, "badgeNumber": "B2"}]},
        headers=headers,
    )
    assert batch.status_code == 200
    assert [p["id"] for p in batch.json()["value"]] == [1, 2]
    await api.http.put(f"{API}/work-interruptions/5", json=work_interruption(), headers=headers)
    items = [
        work_interruption(1, id=5, durationInMinutes=10),
        work_interruption(2, id=6),
        work_interruption(2, id=7, date="2024-12-31"),
    ]
    response = await api.http.post(
        f"{API}/work-interruptions/batch", json={"value": items}, headers=headers
    )
    assert response.status_code == 200
    value = response.json()["value"]
    assert [v["id"] for v in value] == [5, 6, 7]
    versions = [v["changeVersion"] for v in value]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
    for item in value:
        got = await api.http.get(f"{API}/work-interruptions/{item['id']}", headers=headers)
        assert got.json() == item
    assert value[0]["durationInMinutes"] == 10


async def test_delete_work_interruption(any_api: Api) -> None:
    """DELETE answers 204, then GET answers 404; a later PUT creates it again (201)."""
    api = any_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    await api.http.put(f"{API}/work-interruptions/3", json=work_interruption(), headers=headers)
    deleted = await api.http.delete(f"{API}/work-interruptions/3", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await api.http.get(f"{API}/work-interruptions/3", headers=headers)).status_code == 404
    again = await api.http.put(
        f"{API}/work-interruptions/3", json=work_interruption(), headers=headers
    )
    assert again.status_code == 201


async def test_delete_person_without_work_interruptions(api: Api) -> None:
    """A person nobody refers to can be deleted: 204, then GET answers 404."""
    headers = await api.headers()
    await api.put_person(headers, 9)
    assert (await api.http.delete(f"{API}/people/9", headers=headers)).status_code == 204
    assert (await api.http.get(f"{API}/people/9", headers=headers)).status_code == 404


# -- webhooks ----------------------------------------------------------------------------


async def test_create_webhook(any_api: Api) -> None:
    """POST /webhooks answers 201, a Location, a ``whsec_`` key and validUntil = now + 30 days."""
    api = any_api
    headers = await api.headers()
    response = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id", "key", "validUntil", "status", "destinationUrl", "collectionName",
        "externalReferences",
    }  # fmt: skip
    assert response.headers["location"] == f"{API}/webhooks/{body['id']}"
    assert body["key"].startswith("whsec_")
    assert len(base64.b64decode(body["key"].removeprefix("whsec_"), validate=True)) == 32
    valid_until = dt.datetime.fromisoformat(body["validUntil"])
    assert valid_until.utcoffset() is not None
    assert abs(valid_until - (api.clock.now() + dt.timedelta(days=30))) < dt.timedelta(seconds=2)
    assert body["status"] == "Enabled"
    assert body["destinationUrl"] == HOOK["destinationUrl"]
    assert body["collectionName"] == "work-interruptions"
    other = await create_webhook(api, headers)
    assert other["id"] != body["id"]
    assert other["key"] != body["key"]


async def test_get_webhook_never_shows_the_key(any_api: Api) -> None:
    """GET /webhooks/{id} and the list answer the webhook without its ``key``."""
    api = any_api
    headers = await api.headers()
    created = await create_webhook(api, headers)
    got = await api.http.get(f"{API}/webhooks/{created['id']}", headers=headers)
    assert got.status_code == 200
    assert "key" not in got.json()
    assert created["key"] not in got.text
    assert got.json() == {k: v for k, v in created.items() if k != "key"}
    listed = await api.http.get(f"{API}/webhooks", headers=headers)
    assert listed.json() == {"value": [got.json()]}
    assert created["key"] not in listed.text


async def disable_by_gone(api: Api, headers: dict[str, str], webhook_url: str) -> None:
    """Make ``webhook_url`` answer 410 and deliver one change, which disables its webhook."""
    api.sender.status_for = lambda url, _body: 410 if url == webhook_url else 204
    await api.put_person(headers, 1)
    put = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(), headers=headers
    )
    assert put.status_code == 201
    await api.rt.worker.run_once()


async def test_list_webhooks_with_filters(any_api: Api) -> None:
    """The list filters on ``status`` (eq, in) and ``collection-name``."""
    api = any_api
    headers = await api.headers()
    enabled = await create_webhook(api, headers, "https://enabled.example.com/in")
    disabled = await create_webhook(api, headers, "https://gone.example.com/in")
    await disable_by_gone(api, headers, disabled["destinationUrl"])

    async def ids(expression: str) -> set[str]:
        response = await api.http.get(
            f"{API}/webhooks", params={"filter": expression}, headers=headers
        )
        assert response.status_code == 200, response.text
        return {w["id"] for w in response.json()["value"]}

    both = {enabled["id"], disabled["id"]}
    assert await ids("status eq 'Enabled'") == {enabled["id"]}
    assert await ids("status eq 'Disabled'") == {disabled["id"]}
    assert await ids("collection-name eq 'work-interruptions'") == both
    assert await ids("status in ('Enabled','Disabled')") == both
    assert await ids("status eq 'Disabled' and collection-name eq 'work-interruptions'") == {
        disabled["id"]
    }
    got = await api.http.get(f"{API}/webhooks/{disabled['id']}", headers=headers)
    assert got.json()["status"] == "Disabled"


async def test_delete_webhook(any_api: Api) -> None:
    """DELETE /webhooks/{id} answers 204; the webhook then answers 404 and leaves the list."""
    api = any_api
    headers = await api.headers()
    kept = await create_webhook(api, headers)
    gone = await create_webhook(api, headers)
    response = await api.http.delete(f"{API}/webhooks/{gone['id']}", headers=headers)
    assert response.status_code == 204
    assert (await api.http.get(f"{API}/webhooks/{gone['id']}", headers=headers)).status_code == 404
    listed = await api.http.get(f"{API}/webhooks", headers=headers)
    assert [w["id"] for w in listed.json()["value"]] == [kept["id"]]


async def test_change_is_delivered_as_the_get_document(api: Api) -> None:
    """A PUT reaches the webhook as one signed ``InsertOrUpdate`` whose data equals the GET."""
    headers = await api.headers()
    created = await create_webhook(api, headers)
    await api.put_person(headers, 1)
    await api.http.put(f"{API}/work-interruptions/8", json=work_interruption(), headers=headers)
    assert await api.rt.worker.run_once() == 1
    (request,) = api.sender.requests
    assert request.url == created["destinationUrl"]
    got = await api.http.get(f"{API}/work-interruptions/8", headers=headers)
    assert json.loads(request.body) == {"changeType": "InsertOrUpdate", "data": got.json()}
    assert request.headers["webhook-signature"].startswith("v1,")


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "http://localhost:3000/hook",
        "http://[::1]:9000/hook",
    ],
)
async def test_dev_mode_accepts_http_and_loopback(api_factory: ApiFactory, url: str) -> None:
    """With ``dev=True``, plain http and loopback destinations are accepted."""
    api = await api_factory(Settings.of(database_url="memory://", dev=True))
    created = await create_webhook(api, await api.headers(), url)
    assert created["destinationUrl"] == url
    assert created["status"] == "Enabled"


async def test_dev_mode_still_refuses_private_networks(api_factory: ApiFactory) -> None:
    """Development mode relaxes only http and loopback: a private address still answers 400."""
    api = await api_factory(Settings.of(database_url="memory://", dev=True))
    response = await api.http.post(
        f"{API}/webhooks",
        json={**HOOK, "destinationUrl": "http://10.1.2.3/hook"},
        headers=await api.headers(),
    )
    assert response.status_code == 400
    assert response.json()["error"]["reasons"]
