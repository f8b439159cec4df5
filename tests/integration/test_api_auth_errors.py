"""Authentication and authorization errors of the API: tokens, scopes, User-Agent,
tenancy and the token endpoint, each with its documented status and a Protime body."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.conftest import API, USER_AGENT, Api, work_interruption
from tests.integration.errors_helpers import (
    HOOK,
    assert_error,
    assert_oauth_error,
    create_webhook,
    reasons_text,
)
from workhooks.api import security
from workhooks.domain.scopes import Scope

pytestmark = pytest.mark.timeout(60)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as in JWTs."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- authentication ----------------------------------------------------------------------


async def test_no_token_is_401_with_bearer_challenge(api: Api) -> None:
    """A request without Authorization answers 401 and a ``WWW-Authenticate: Bearer`` header."""
    response = await api.http.get(f"{API}/webhooks", headers={"User-Agent": USER_AGENT})
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/work-interruptions/1"),
        ("POST", "/work-interruptions/batch"),
        ("POST", "/webhooks"),
    ],
)
async def test_authentication_is_checked_before_the_body(api: Api, method: str, path: str) -> None:
    """Without a token a malformed body still answers 401: callers learn nothing of body rules."""
    response = await api.http.request(
        method,
        f"{API}{path}",
        content=b'{"person": ',
        headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
    )
    assert_error(response, 401)


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc", "bearer-abc", "Bearer a b c"],
)
async def test_malformed_authorization_is_401(api: Api, authorization: str) -> None:
    """An Authorization header that is not ``Bearer <jwt>`` answers 401 with a challenge."""
    response = await api.http.get(
        f"{API}/webhooks", headers={"User-Agent": USER_AGENT, "Authorization": authorization}
    )
    assert_error(response, 401, code="InvalidToken")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def tampered_tokens(api: Api) -> dict[str, str]:
    """Tokens that must all be refused: garbage, and a real token with parts altered."""
    token = await api.token("acme", [Scope.WEBHOOKS_READ])
    header, payload, signature = token.split(".")
    sig = bytearray(b64url_decode(signature))
    sig[0] ^= 0x01
    claims = json.loads(b64url_decode(payload))
    claims["scope"] = " ".join(Scope)
    other_tenant = dict(claims, tenant="other")
    none_header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return {
        "garbage": "not-a-jwt",
        "three garbage parts": "abc.def.ghi",
        "flipped signature bit": f"{header}.{payload}.{b64url(bytes(sig))}",
        "widened scopes": f"{header}.{b64url(json.dumps(claims).encode())}.{signature}",
        "other tenant claim": f"{header}.{b64url(json.dumps(other_tenant).encode())}.{signature}",
        "alg none": f"{none_header}.{b64url(json.dumps(claims).encode())}.",
        "signature removed": f"{header}.{payload}.",
    }


async def test_bad_and_tampered_tokens_are_401(api: Api) -> None:
    """Garbage tokens and real tokens with a tampered payload or signature answer 401."""
    for name, token in (await tampered_tokens(api)).items():
        response = await api.http.get(
            f"{API}/webhooks",
            headers={"User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"},
        )
        error = assert_error(response, 401, code="InvalidToken")
        assert "invalid_token" in response.headers["www-authenticate"], (name, error)


async def test_expired_token_is_401(api: Api) -> None:
    """A token works until 1800 s after issue and answers 401 ``invalid_token`` afterwards."""
    headers = await api.headers("acme", [Scope.WEBHOOKS_READ])
    api.clock.advance(1799)
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
    api.clock.advance(2)
    response = await api.http.get(f"{API}/webhooks", headers=headers)
    error = assert_error(response, 401, code="InvalidToken")
    assert "expired" in error["message"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_other_tenant_cannot_see_or_delete_a_webhook(api: Api) -> None:
    """A tenant-B token gets 404 for tenant A's webhook, on GET and DELETE, and cannot list it."""
    a_headers = await api.headers("tenant-a")
    webhook_id = await create_webhook(api, a_headers)
    b_headers = await api.headers("tenant-b")
    assert_error(await api.http.get(f"{API}/webhooks/{webhook_id}", headers=b_headers), 404)
    assert_error(await api.http.delete(f"{API}/webhooks/{webhook_id}", headers=b_headers), 404)
    listed = await api.http.get(f"{API}/webhooks", headers=b_headers)
    assert listed.json() == {"value": []}
    still = await api.http.get(f"{API}/webhooks/{webhook_id}", headers=a_headers)
    assert still.status_code == 200


async def test_other_tenant_cannot_see_or_delete_a_work_interruption(api: Api) -> None:
    """A tenant-B token gets 404 for tenant A's work interruption, on GET and DELETE."""
    a_headers = await api.headers("tenant-a")
    await api.put_person(a_headers, 1)
    put = await api.http.put(
        f"{API}/work-interruptions/7", json=work_interruption(), headers=a_headers
    )
    assert put.status_code == 201
    b_headers = await api.headers("tenant-b")
    assert_error(await api.http.get(f"{API}/work-interruptions/7", headers=b_headers), 404)
    assert_error(await api.http.delete(f"{API}/work-interruptions/7", headers=b_headers), 404)
    assert (await api.http.get(f"{API}/work-interruptions/7", headers=a_headers)).status_code == 200


async def test_other_tenant_person_is_unknown(api: Api) -> None:
    """Tenant B cannot refer to tenant A's person: the write answers 400 naming the person."""
    await api.put_person(await api.headers("tenant-a"), 5)
    response = await api.http.put(
        f"{API}/work-interruptions/1",
        json=work_interruption(5),
        headers=await api.headers("tenant-b"),
    )
    error = assert_error(response, 400, code="UnknownPerson", reasons=True)
    assert "person 5" in reasons_text(error)


async def test_client_cannot_get_a_token_for_another_tenant(api: Api) -> None:
    """A tenant-A client asking a token at tenant B's token endpoint answers 401."""
    client_id, secret = await api.credentials("tenant-a", [Scope.WEBHOOKS_READ])
    response = await api.token_response("tenant-b", client_id, secret)
    assert_oauth_error(response, 401, "invalid_client")
    assert "access_token" not in response.text


MISSING_SCOPE_CASES = [
    ("GET", "/webhooks", None, Scope.WEBHOOKS_READ),
    ("POST", "/webhooks", HOOK, Scope.WEBHOOKS_WRITE),
    ("DELETE", f"/webhooks/{uuid.uuid4()}", None, Scope.WEBHOOKS_WRITE),
    ("GET", "/work-interruptions/1", None, Scope.WORK_INTERRUPTIONS_READ),
    ("PUT", "/work-interruptions/1", work_interruption(), Scope.WORK_INTERRUPTIONS_WRITE),
    ("DELETE", "/work-interruptions/1", None, Scope.WORK_INTERRUPTIONS_WRITE),
    ("PUT", "/people/1", {}, Scope.PEOPLE_WRITE),
    ("GET", "/people/1", None, Scope.PEOPLE_READ),
]


@pytest.mark.parametrize(("method", "path", "body", "needed"), MISSING_SCOPE_CASES)
async def test_missing_scope_is_401_insufficient_scope(
    api: Api, method: str, path: str, body: dict[str, Any] | None, needed: Scope
) -> None:
    """A valid token without the operation's scope answers 401 naming ``insufficient_scope``."""
    headers = await api.headers("acme", set(Scope) - {needed})
    response = await api.http.request(method, f"{API}{path}", json=body, headers=headers)
    assert_error(response, 401, code="InsufficientScope")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    assert 'error="insufficient_scope"' in challenge
    assert needed.value in challenge


# -- User-Agent --------------------------------------------------------------------------


async def test_missing_user_agent_is_400(api: Api) -> None:
    """A request without a ``User-Agent`` header answers 400 with reasons."""
    token = await api.token()
    request = api.http.build_request(
        "GET", f"{API}/webhooks", headers={"Authorization": f"Bearer {token}"}
    )
    del request.headers["user-agent"]
    assert "user-agent" not in request.headers
    error = assert_error(await api.http.send(request), 400, reasons=True)
    assert "User-Agent" in error["message"]


async def test_empty_user_agent_is_400(api: Api) -> None:
    """An empty or blank ``User-Agent`` answers 400 like a missing one."""
    token = await api.token()
    for agent in ("", "   "):
        response = await api.http.get(
            f"{API}/webhooks", headers={"User-Agent": agent, "Authorization": f"Bearer {token}"}
        )
        error = assert_error(response, 400, code="InvalidRequest", reasons=True)
        assert "User-Agent" in reasons_text(error)


@pytest.mark.parametrize(
    "agent",
    [
        "MyService/1.0 (Acme) httpx/0.28",
        "curl/8.5",
        "Acme",
        "Acme/1.0",
        "python-httpx/0.28.1",
    ],
)
async def test_any_non_empty_user_agent_is_accepted_and_an_odd_one_logged(
    api: Api, agent: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``User-Agent`` in another shape than ``Name/Version (Company)`` (HTTP libraries append
    their own tokens) is accepted, and logged as not following the documented form."""
    security._note_undocumented_agent.cache_clear()  # each value is logged once per process
    token = await api.token()
    with caplog.at_level("INFO", logger="workhooks.api"):
        response = await api.http.get(
            f"{API}/webhooks", headers={"User-Agent": agent, "Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    assert any(agent in record.getMessage() for record in caplog.records)


async def test_documented_user_agent_is_not_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``User-Agent`` of the documented form passes without a log line."""
    headers = await api.headers()
    with caplog.at_level("INFO", logger="workhooks.api"):
        response = await api.http.get(f"{API}/webhooks", headers=headers)
    assert response.status_code == 200
    assert not [r for r in caplog.records if "User-Agent" in r.getMessage()]


# -- token endpoint ----------------------------------------------------------------------


async def test_token_request_must_be_form_encoded(api: Api) -> None:
    """A JSON token request answers 400 ``invalid_request`` naming the form content type."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    response = await api.http.post(
        "/tenants/acme/connect/token",
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "application/x-www-form-urlencoded" in body["error_description"]


@pytest.mark.parametrize(
    ("grant_type", "error"),
    [
        ("password", "unsupported_grant_type"),
        ("authorization_code", "unsupported_grant_type"),
        ("", "unsupported_grant_type"),
        (None, "invalid_request"),
    ],
)
async def test_token_request_with_wrong_grant_type_is_400(
    api: Api, grant_type: str | None, error: str
) -> None:
    """A grant type other than ``client_credentials`` answers 400 ``unsupported_grant_type``,
    a missing one ``invalid_request`` (RFC 6749, section 5.2)."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    form = {"client_id": client_id, "client_secret": secret}
    if grant_type is not None:
        form["grant_type"] = grant_type
    response = await api.http.post("/tenants/acme/connect/token", data=form)
    body = assert_oauth_error(response, 400, error)
    assert "grant_type" in body["error_description"]


def basic(client_id: str, secret: str) -> str:
    """An ``Authorization: Basic`` value as RFC 6749 2.3.1 builds it (form-encode, base64)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


async def test_token_request_authenticated_by_http_basic(api: Api) -> None:
    """A client may authenticate with HTTP Basic instead of form fields, and the token works."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    response = await api.http.post(
        "/tenants/acme/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(client_id, secret)},
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    listed = await api.http.get(
        f"{API}/webhooks", headers={"User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 200


async def test_token_request_with_bad_basic_credentials_is_401(api: Api) -> None:
    """Wrong, malformed or non-Basic client authentication answers 401 ``invalid_client``
    with a ``Basic`` challenge; Basic and a form secret together answer 400."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    for authorization in (
        basic(client_id, secret + "x"),
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        f"Bearer {secret}",
    ):
        response = await api.http.post(
            "/tenants/acme/connect/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": authorization},
        )
        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")
    both = await api.http.post(
        "/tenants/acme/connect/token",
        data={"grant_type": "client_credentials", "client_secret": secret},
        headers={"Authorization": basic(client_id, secret)},
    )
    assert_oauth_error(both, 400, "invalid_request")


async def test_discovery_lists_both_client_authentication_methods(api: Api) -> None:
    """OIDC discovery announces ``client_secret_basic`` and ``client_secret_post``."""
    response = await api.http.get("/tenants/acme/.well-known/openid-configuration")
    methods = response.json()["token_endpoint_auth_methods_supported"]
    assert set(methods) == {"client_secret_basic", "client_secret_post"}


async def test_token_request_with_bad_credentials_is_401(api: Api) -> None:
    """A wrong secret, an unknown client or missing credentials answer 401 ``invalid_client``
    in the RFC 6749 shape ``{"error", "error_description"}``."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    forms = [
        {"client_id": client_id, "client_secret": secret + "x"},
        {"client_id": client_id, "client_secret": ""},
        {"client_id": client_id},
        {"client_id": "wh_0000000000000000", "client_secret": secret},
        {},
    ]
    for form in forms:
        response = await api.http.post(
            "/tenants/acme/connect/token", data={"grant_type": "client_credentials", **form}
        )
        assert_oauth_error(response, 401, "invalid_client")


async def test_token_request_for_unknown_or_ungranted_scope_is_400(api: Api) -> None:
    """Requesting an unknown scope, or one the client was not given, answers 400
    ``invalid_scope`` naming it."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    for scope, named in [
        ("connector-protimeapi-nope.read", "connector-protimeapi-nope.read"),
        (f"{Scope.WEBHOOKS_READ} {Scope.WEBHOOKS_WRITE}", Scope.WEBHOOKS_WRITE.value),
    ]:
        response = await api.token_response("acme", client_id, secret, scope=scope)
        body = assert_oauth_error(response, 400, "invalid_scope")
        assert named in body["error_description"]


async def test_token_request_with_repeated_field_is_400(api: Api) -> None:
    """A form field given twice answers 400 ``invalid_request`` instead of picking one."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    content = (
        f"grant_type=client_credentials&client_id={client_id}"
        f"&client_secret={secret}&client_secret=other"
    )
    response = await api.http.post(
        "/tenants/acme/connect/token",
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(response, 400, "invalid_request")
