"""The credential lifecycle over HTTP: the operator API for clients, revocation and new
secrets that take effect at once (also across API processes of one database), token signing
key rotation, limits on failed token requests, and token checks cached per token."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.conftest import API, USER_AGENT, Api, open_api
from tests.integration.errors_helpers import assert_error, assert_oauth_error
from tests.postgres import reset_database
from workhooks.config import Settings
from workhooks.domain.scopes import KNOWN_SCOPES, Scope
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)

OPERATOR = "/operator/v1/clients"


async def _database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/clients.db"
    url: str = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return url


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each store."""
    return await _database_url(request, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database that several API processes can share."""
    return await _database_url(request, tmp_path)


@contextlib.asynccontextmanager
async def serving(url: str, **overrides: Any) -> AsyncIterator[Api]:
    """One API process (a runtime) on ``url``."""
    async with open_api(
        Settings.of(database_url=url, master_key=TEST_MASTER_KEY, **overrides)
    ) as api:
        yield api


def _auth(token: str) -> dict[str, str]:
    return {"User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}


async def _operator(api: Api) -> dict[str, str]:
    return _auth(await api.token("ops", [Scope.OPERATOR]))


async def _token_of(api: Api, tenant: str, client_id: str, secret: str) -> str:
    response = await api.token_response(tenant, client_id, secret)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_an_operator_creates_lists_and_reads_clients(database_url: str) -> None:
    """``POST /operator/clients`` answers 201, ``Location`` and the secret once; the client
    then lists (per tenant) and reads without it, and its credentials take a token."""
    async with serving(database_url) as api:
        ops = await _operator(api)
        created = await api.http.post(
            OPERATOR,
            json={"tenant": "acme", "scopes": ["connector-protimeapi-webhooks.read"]},
            headers=ops,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert created.headers["location"] == f"{OPERATOR}/{body['id']}"
        assert created.headers["cache-control"] == "no-store"
        assert body["scopes"] == ["connector-protimeapi-webhooks.read"]
        assert body["revokedAt"] is None
        listed = (await api.http.get(OPERATOR, params={"tenant": "acme"}, headers=ops)).json()
        assert [c["id"] for c in listed["value"]] == [body["id"]]
        assert "secret" not in listed["value"][0]
        everyone = (await api.http.get(OPERATOR, headers=ops)).json()["value"]
        assert {c["tenant"] for c in everyone} == {"acme", "ops"}
        one = (await api.http.get(f"{OPERATOR}/{body['id']}", headers=ops)).json()
        assert one == listed["value"][0]
        await _token_of(api, "acme", body["id"], body["secret"])


async def test_all_never_grants_the_operator_scope(database_url: str) -> None:
    """``scopes: ["all"]`` gives every Protime scope, not ``workhooks-operator``: such a
    client's token is refused by the operator API with 401 insufficient_scope."""
    async with serving(database_url) as api:
        created = await api.http.post(
            OPERATOR, json={"tenant": "acme", "scopes": ["all"]}, headers=await _operator(api)
        )
        body = created.json()
        assert set(body["scopes"]) == set(KNOWN_SCOPES)
        token = await _token_of(api, "acme", body["id"], body["secret"])
        refused = await api.http.get(OPERATOR, headers=_auth(token))
        assert_error(refused, 401, code="InsufficientScope")
        assert "insufficient_scope" in refused.headers["www-authenticate"]


async def test_unknown_scopes_and_clients_answer_protime_errors(database_url: str) -> None:
    """An unknown scope is a 400 with reasons; an unknown client id is a 404."""
    async with serving(database_url) as api:
        ops = await _operator(api)
        bad = await api.http.post(
            OPERATOR, json={"tenant": "acme", "scopes": ["root"]}, headers=ops
        )
        assert "'root' is not a scope" in assert_error(bad, 400, reasons=True)["reasons"][0]
        for response in (
            await api.http.get(f"{OPERATOR}/wh_nope", headers=ops),
            await api.http.post(f"{OPERATOR}/wh_nope/revoke", headers=ops),
            await api.http.post(f"{OPERATOR}/wh_nope/secret", headers=ops),
        ):
            assert_error(response, 404)


async def test_a_revoked_clients_tokens_stop_at_once(database_url: str) -> None:
    """After a revocation the token already in use (and cached) answers 401 on the next
    request, and the client's credentials get no new token; revoking again changes nothing."""
    async with serving(database_url) as api:
        client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
        token = await _token_of(api, "acme", client_id, secret)
        assert (await api.http.get(f"{API}/webhooks", headers=_auth(token))).status_code == 200
        ops = await _operator(api)
        revoked = await api.http.post(f"{OPERATOR}/{client_id}/revoke", headers=ops)
        assert revoked.status_code == 200
        revoked_at = revoked.json()["revokedAt"]
        assert revoked_at is not None
        refused = await api.http.get(f"{API}/webhooks", headers=_auth(token))
        assert "revoked" in assert_error(refused, 401)["message"]
        assert_oauth_error(
            await api.token_response("acme", client_id, secret), 401, "invalid_client"
        )
        again = await api.http.post(f"{OPERATOR}/{client_id}/revoke", headers=ops)
        assert again.json()["revokedAt"] == revoked_at
        assert_error(await api.http.post(f"{OPERATOR}/{client_id}/secret", headers=ops), 409)


async def test_a_new_secret_replaces_the_old_one_at_once(database_url: str) -> None:
    """``POST /operator/clients/{id}/secret`` shows a new secret once; the old secret is refused
    from then on, and tokens already taken keep working until they expire."""
    async with serving(database_url) as api:
        client_id, old_secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
        token = await _token_of(api, "acme", client_id, old_secret)
        rotated = await api.http.post(
            f"{OPERATOR}/{client_id}/secret", headers=await _operator(api)
        )
        assert rotated.status_code == 200
        assert rotated.headers["cache-control"] == "no-store"
        new_secret = rotated.json()["secret"]
        assert new_secret != old_secret
        assert_oauth_error(
            await api.token_response("acme", client_id, old_secret), 401, "invalid_client"
        )
        await _token_of(api, "acme", client_id, new_secret)
        assert (await api.http.get(f"{API}/webhooks", headers=_auth(token))).status_code == 200


async def test_a_revocation_in_one_api_process_stops_the_token_in_another(
    shared_url: str,
) -> None:
    """Two API processes of one database: a client revoked through the first is refused by the
    second at its very next request, though the second had the token verified and cached."""
    async with serving(shared_url) as first, serving(shared_url) as second:
        client_id, secret = await first.credentials("acme", [Scope.WEBHOOKS_READ])
        token = await _token_of(first, "acme", client_id, secret)
        assert (await second.http.get(f"{API}/webhooks", headers=_auth(token))).status_code == 200
        await first.rt.services.clients.revoke(client_id)
        assert_error(await second.http.get(f"{API}/webhooks", headers=_auth(token)), 401)


async def test_failed_token_requests_are_limited_per_client(database_url: str) -> None:
    """After 3 wrong secrets in a minute the client is refused with 429 and ``Retry-After``,
    even with the right secret, until the minute is over."""
    async with serving(database_url, token_failures_per_client=3) as api:
        client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
        for _ in range(3):
            assert_oauth_error(
                await api.token_response("acme", client_id, "wrong"), 401, "invalid_client"
            )
        api.clock.advance(10)
        limited = await api.token_response("acme", client_id, secret)
        assert_error(limited, 429, code="TooManyRequests", reasons=True)
        assert limited.headers["retry-after"] == "50"
        api.clock.advance(50)
        await _token_of(api, "acme", client_id, secret)


async def test_failed_token_requests_are_limited_per_source_address(database_url: str) -> None:
    """Wrong secrets for many client ids from one address: that address is refused with 429."""
    async with serving(database_url, token_failures_per_address=4) as api:
        client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
        for n in range(4):
            assert_oauth_error(
                await api.token_response("acme", f"wh_guess{n}", "wrong"), 401, "invalid_client"
            )
        limited = await api.token_response("acme", client_id, secret)
        assert_error(limited, 429)
        assert int(limited.headers["retry-after"]) == 60


async def test_a_signing_key_rotation_keeps_tokens_valid_until_they_expire(
    database_url: str,
) -> None:
    """After a rotation new tokens name the new key, tokens of the old key still work, and the
    JWKS publishes both; once the old key's tokens have expired it is no longer published."""
    async with serving(database_url, token_ttl_seconds=600) as api:
        old_token = await api.token("acme", [Scope.WEBHOOKS_READ])
        old_kid = jwt.get_unverified_header(old_token)["kid"]
        api.clock.advance(1)
        new_key = await api.rt.services.auth.rotate_signing_key()
        new_token = await api.token("acme", [Scope.WEBHOOKS_READ])
        assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid != old_kid
        for token in (old_token, new_token):
            assert (await api.http.get(f"{API}/webhooks", headers=_auth(token))).status_code == 200
        jwks = (await api.http.get("/tenants/acme/.well-known/openid-configuration/jwks")).json()
        assert [k["kid"] for k in jwks["keys"]] == [old_kid, new_key.kid]
        api.clock.advance(600 + 60)
        assert_error(await api.http.get(f"{API}/webhooks", headers=_auth(old_token)), 401)
        jwks = (await api.http.get("/tenants/acme/.well-known/openid-configuration/jwks")).json()
        assert [k["kid"] for k in jwks["keys"]] == [new_key.kid]


async def test_a_key_rotated_by_another_process_verifies_at_once(shared_url: str) -> None:
    """A token signed with a key another process created is accepted here without waiting."""
    async with serving(shared_url) as first, serving(shared_url) as second:
        second.clock.advance(1)
        key = await second.rt.services.auth.rotate_signing_key()
        token = await second.token("acme", [Scope.WEBHOOKS_READ])
        assert jwt.get_unverified_header(token)["kid"] == key.kid
        assert (await first.http.get(f"{API}/webhooks", headers=_auth(token))).status_code == 200


async def test_each_token_signature_is_verified_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten requests with one token verify its signature once (the check is cached until the
    token expires), and an expired token is refused though it was cached."""
    async with serving(database_url) as api:
        token = await api.token("acme", [Scope.WEBHOOKS_READ])
        verified: list[str] = []
        decode = jwt.decode

        def counting(encoded: str, *args: Any, **kwargs: Any) -> Any:
            verified.append(encoded)
            return decode(encoded, *args, **kwargs)

        monkeypatch.setattr(jwt, "decode", counting)
        for _ in range(10):
            assert (await api.http.get(f"{API}/webhooks", headers=_auth(token))).status_code == 200
        assert verified == [token]
        api.clock.advance(api.rt.settings.security.token_ttl_seconds)
        assert_error(await api.http.get(f"{API}/webhooks", headers=_auth(token)), 401)
