"""Every error path of the API answers its documented status with a Protime body, never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import API, USER_AGENT, Api, ApiFactory, work_interruption
from workhooks.config import Settings
from workhooks.domain.scopes import Scope

pytestmark = pytest.mark.timeout(60)

HOOK = {"destinationUrl": "https://hooks.example.com/in", "collectionName": "work-interruptions"}


def assert_error(
    response: httpx.Response, status: int, *, code: str | None = None, reasons: bool = False
) -> dict[str, Any]:
    """Check ``response`` is ``status`` with a Protime error body; return the ``error`` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) <= {"code", "message", "reasons"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    if reasons:
        assert error.get("reasons"), error
    if "reasons" in error:
        assert all(isinstance(r, str) and r for r in error["reasons"]), error
    return error


def assert_validation_errors(response: httpx.Response) -> list[dict[str, str]]:
    """Check ``response`` is a 400 with a ``validationErrors`` list; return the list."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"validationErrors"}, body
    errors = body["validationErrors"]
    assert isinstance(errors, list)
    assert errors
    for item in errors:
        assert set(item) == {"field", "message"}, item
        assert isinstance(item["field"], str)
        assert isinstance(item["message"], str)
        assert item["message"]
    return errors


def reasons_text(error: dict[str, Any]) -> str:
    """All reasons of an error object joined, for substring checks."""
    return " | ".join(error.get("reasons", []))


async def create_webhook(api: Api, headers: dict[str, str]) -> str:
    """Create a valid webhook and return its id."""
    response = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert response.status_code == 201, response.text
    webhook_id: str = response.json()["id"]
    return webhook_id


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
    assert_error(response, 401, code="invalid_client")
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


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "curl/8.4.0",
        "Acme",
        "Acme/1.0",
        "Acme (Company)",
        "/1.0 (Acme)",
        "Acme/1.0 Acme",
        "a b/1 (c)",
    ],
)
async def test_badly_formed_user_agent_is_400(api: Api, agent: str) -> None:
    """A ``User-Agent`` not shaped ``Name/Version (Company)`` answers 400 with reasons."""
    token = await api.token()
    response = await api.http.get(
        f"{API}/webhooks", headers={"User-Agent": agent, "Authorization": f"Bearer {token}"}
    )
    error = assert_error(response, 400, code="InvalidRequest", reasons=True)
    assert "User-Agent" in reasons_text(error)


# -- request bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad",
        b"",
        b"null",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b'{"person": ',
        b"{}}",
        b'{"durationInMinutes": 1e400}',
        b'{"person": {"id": 123456789012345678901234567890}}',
    ],
)
@pytest.mark.parametrize("target", ["/work-interruptions/1", "/webhooks"])
async def test_bad_json_is_400_validation_errors(api: Api, raw: bytes, target: str) -> None:
    """A body that is not a JSON object answers 400 with ``validationErrors``."""
    headers = {**await api.headers(), "Content-Type": "application/json"}
    method = "PUT" if target.startswith("/work") else "POST"
    response = await api.http.request(method, f"{API}{target}", content=raw, headers=headers)
    assert_validation_errors(response)


WRONG_TYPES = [
    ({"durationInMinutes": "30"}, "durationInMinutes"),
    ({"durationInMinutes": True}, "durationInMinutes"),
    ({"durationInMinutes": 30.5}, "durationInMinutes"),
    ({"startTimeInMinutes": "600"}, "startTimeInMinutes"),
    ({"endTimeInMinutes": None}, "endTimeInMinutes"),
    ({"person": {"id": "1"}}, "person.id"),
    ({"person": 1}, "person"),
    ({"date": 20240304}, "date"),
    ({"id": "1"}, "id"),
]


@pytest.mark.parametrize(("override", "field"), WRONG_TYPES)
async def test_wrong_types_are_400_validation_errors(
    api: Api, override: dict[str, Any], field: str
) -> None:
    """A value of the wrong JSON type (no coercion of ``"30"`` or ``true``) answers 400."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    response = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(**override), headers=headers
    )
    errors = assert_validation_errors(response)
    assert [e["field"] for e in errors] == [field]
    assert (await api.http.get(f"{API}/work-interruptions/1", headers=headers)).status_code == 404


async def test_wrong_types_in_batch_and_person_and_webhook_bodies(api: Api) -> None:
    """Wrong JSON types in batch items, people and webhooks answer 400 naming the field."""
    headers = await api.headers()
    cases: list[tuple[str, str, Any, str]] = [
        (
            "POST",
            "/work-interruptions/batch",
            {"value": [work_interruption(id="1")]},
            "value[0].id",
        ),
        ("POST", "/work-interruptions/batch", {"value": {}}, "value"),
        ("PUT", "/people/1", {"badgeNumber": 42}, "badgeNumber"),
        (
            "POST",
            "/people/batch",
            {"value": [{"id": 1, "employeeNumber": False}]},
            "value[0].employeeNumber",
        ),
        ("POST", "/webhooks", {**HOOK, "destinationUrl": 5}, "destinationUrl"),
        ("POST", "/webhooks", {**HOOK, "collectionName": ["work-interruptions"]}, "collectionName"),
    ]
    for method, path, body, field in cases:
        response = await api.http.request(method, f"{API}{path}", json=body, headers=headers)
        errors = assert_validation_errors(response)
        assert [e["field"] for e in errors] == [field], (path, errors)


@pytest.mark.parametrize(
    "missing", ["person", "date", "durationInMinutes", "startTimeInMinutes", "endTimeInMinutes"]
)
async def test_missing_field_is_400_validation_errors(api: Api, missing: str) -> None:
    """A work interruption without a required field answers 400 naming the field."""
    body = work_interruption()
    del body[missing]
    response = await api.http.put(
        f"{API}/work-interruptions/1", json=body, headers=await api.headers()
    )
    errors = assert_validation_errors(response)
    assert any(missing in e["message"] or e["field"] == missing for e in errors), errors


@pytest.mark.parametrize("missing", ["destinationUrl", "collectionName"])
async def test_webhook_missing_field_is_400_validation_errors(api: Api, missing: str) -> None:
    """A webhook body without ``destinationUrl`` or ``collectionName`` answers 400."""
    body = {k: v for k, v in HOOK.items() if k != missing}
    response = await api.http.post(f"{API}/webhooks", json=body, headers=await api.headers())
    errors = assert_validation_errors(response)
    assert any(missing in e["message"] or e["field"] == missing for e in errors), errors


async def test_body_id_differing_from_path_id_is_400(api: Api) -> None:
    """A body ``id`` that differs from the path id answers 400 naming both ids."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    response = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(id=2), headers=headers
    )
    error = assert_error(response, 400, code="InvalidRecord", reasons=True)
    assert "body says 2" in reasons_text(error)
    assert "path says 1" in reasons_text(error)
    person = await api.http.put(f"{API}/people/3", json={"id": 4}, headers=headers)
    assert_error(person, 400, code="InvalidRecord", reasons=True)


@pytest.mark.parametrize(
    "date", ["2024-02-30", "2023-02-29", "2024-13-01", "2024-3-4", "04-03-2024", ""]
)
async def test_bad_date_is_400_with_reason(api: Api, date: str) -> None:
    """A date that is not a real ``YYYY-MM-DD`` calendar date answers 400 naming ``date``."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    response = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(date=date), headers=headers
    )
    error = assert_error(response, 400, code="InvalidRecord", reasons=True)
    assert reasons_text(error).startswith("date:")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"startTimeInMinutes": -1}, "startTimeInMinutes"),
        ({"startTimeInMinutes": 1441, "endTimeInMinutes": 1442}, "startTimeInMinutes"),
        ({"endTimeInMinutes": 1441}, "endTimeInMinutes"),
        ({"startTimeInMinutes": 700, "endTimeInMinutes": 600}, "endTimeInMinutes"),
        ({"durationInMinutes": -5}, "durationInMinutes"),
        ({"durationInMinutes": 1441}, "durationInMinutes"),
        ({"person": {"id": 0}}, "person.id"),
        ({"person": {"id": 2**64}}, "person.id"),
        ({"durationInMinutes": 2**63}, "durationInMinutes"),
    ],
)
async def test_business_rule_violations_are_400_with_reasons(
    api: Api, override: dict[str, Any], field: str
) -> None:
    """Minutes outside a day, end before start, a negative duration or bad ids answer 400."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    response = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(**override), headers=headers
    )
    error = assert_error(response, 400, code="InvalidRecord", reasons=True)
    assert any(r.startswith(f"{field}:") for r in error["reasons"]), error


async def test_unknown_person_is_400_naming_the_person(api: Api) -> None:
    """A work interruption of a person that does not exist answers 400 naming that person."""
    response = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(987), headers=await api.headers()
    )
    error = assert_error(response, 400, code="UnknownPerson", reasons=True)
    assert "987" in reasons_text(error)


async def test_batch_errors_are_400_and_write_nothing(api: Api) -> None:
    """An empty batch, a duplicate id or one invalid item answers 400 and writes no record."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    good = work_interruption(id=1)
    bad_batches: list[list[dict[str, Any]]] = [
        [],
        [good, work_interruption(id=1)],
        [good, work_interruption(id=2, durationInMinutes=-1)],
        [good, work_interruption(404, id=3)],
    ]
    for value in bad_batches:
        response = await api.http.post(
            f"{API}/work-interruptions/batch", json={"value": value}, headers=headers
        )
        assert_error(response, 400, reasons=True)
    assert (await api.http.get(f"{API}/work-interruptions/1", headers=headers)).status_code == 404
    missing_id = await api.http.post(
        f"{API}/work-interruptions/batch", json={"value": [work_interruption()]}, headers=headers
    )
    assert_error(missing_id, 400, reasons=True)


# -- webhooks ----------------------------------------------------------------------------

FORBIDDEN_DESTINATIONS = [
    "http://hooks.example.com/in",
    "https://localhost/in",
    "https://LOCALHOST./in",
    "https://api.localhost/in",
    "https://127.0.0.1/in",
    "https://127.1.2.3:8443/in",
    "https://[::1]/in",
    "https://10.0.0.1/in",
    "https://172.16.5.4/in",
    "https://192.168.1.10/in",
    "https://169.254.169.254/latest/meta-data",
    "https://[fd00::1]/in",
    "https://0.0.0.0/in",
    "https://user:pass@hooks.example.com/in",
    "ftp://hooks.example.com/in",
    "/relative/path",
    "hooks.example.com/in",
    "https:///in",
    "https://hooks.example.com:99999/in",
    "https://hooks.example.com/" + "a" * 2048,
    "https://hooks.example.com/in path",
    "",
]


@pytest.mark.parametrize("url", FORBIDDEN_DESTINATIONS)
async def test_bad_destination_is_400_with_reasons(api: Api, url: str) -> None:
    """Without dev mode, http, loopback, private and malformed destinations answer 400."""
    headers = await api.headers()
    response = await api.http.post(
        f"{API}/webhooks", json={**HOOK, "destinationUrl": url}, headers=headers
    )
    assert_error(response, 400, code="InvalidDestinationUrl", reasons=True)
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).json() == {"value": []}


@pytest.mark.parametrize(
    "name", ["people", "work-interruption", "Work-Interruptions", "", "webhooks"]
)
async def test_unknown_collection_is_400_with_reasons(api: Api, name: str) -> None:
    """A ``collectionName`` that does not support webhooks answers 400 with reasons."""
    response = await api.http.post(
        f"{API}/webhooks", json={**HOOK, "collectionName": name}, headers=await api.headers()
    )
    error = assert_error(response, 400, code="UnknownCollection", reasons=True)
    assert "collectionName" in reasons_text(error)


@pytest.mark.parametrize(
    "expression",
    [
        "status eq",
        "status eq 'Enabled' and",
        "(status eq 'Enabled'",
        "status gt 'Enabled'",
        "colour eq 'red'",
        "status eq 'Sleeping'",
        "status eq 5",
        "status eq 'Enabled' xor status eq 'Disabled'",
        "",
        "'Enabled' eq status",
    ],
)
async def test_invalid_webhook_filter_is_400_with_reasons(api: Api, expression: str) -> None:
    """A malformed or unsupported ``filter`` on the webhook list answers 400 with reasons."""
    response = await api.http.get(
        f"{API}/webhooks", params={"filter": expression}, headers=await api.headers()
    )
    assert_error(response, 400, code="InvalidFilter", reasons=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/webhooks/{uuid.uuid4()}"),
        ("DELETE", f"/webhooks/{uuid.uuid4()}"),
        ("GET", "/webhooks/not-a-guid"),
        ("GET", "/work-interruptions/999"),
        ("DELETE", "/work-interruptions/999"),
        ("GET", "/work-interruptions/abc"),
        ("GET", "/work-interruptions/-1"),
        ("GET", "/work-interruptions/0"),
        ("GET", f"/work-interruptions/{2**63}"),
        ("GET", "/work-interruptions/１２"),
        ("GET", "/people/999"),
        ("DELETE", "/people/999"),
    ],
)
async def test_unknown_ids_are_404(api: Api, method: str, path: str) -> None:
    """An unknown webhook, record or person id answers 404 with a Protime body."""
    response = await api.http.request(method, f"{API}{path}", headers=await api.headers())
    assert_error(response, 404, code="NotFound")


async def test_deleting_a_webhook_twice_is_404(api: Api) -> None:
    """A soft-deleted webhook cannot be deleted again: the second DELETE answers 404."""
    headers = await api.headers()
    webhook_id = await create_webhook(api, headers)
    assert (
        await api.http.delete(f"{API}/webhooks/{webhook_id}", headers=headers)
    ).status_code == 204
    assert_error(await api.http.delete(f"{API}/webhooks/{webhook_id}", headers=headers), 404)


async def test_deleting_a_person_in_use_is_409(api: Api) -> None:
    """A person that still has work interruptions cannot be deleted: 409 with reasons."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    await api.http.put(f"{API}/work-interruptions/1", json=work_interruption(), headers=headers)
    assert_error(await api.http.delete(f"{API}/people/1", headers=headers), 409, reasons=True)


# -- routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [f"{API}/nope", f"{API}/work-interruptions", f"{API}/", "/nope", f"{API}/webhooks/a/b/c"],
)
async def test_unknown_route_is_404_protime_body(api: Api, path: str) -> None:
    """A path no route matches answers 404 with a Protime error body."""
    response = await api.http.get(path, headers=await api.headers())
    assert_error(response, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/webhooks"),
        ("PUT", "/webhooks"),
        ("PUT", f"/webhooks/{uuid.uuid4()}"),
        ("POST", "/work-interruptions/1"),
        ("GET", "/work-interruptions/batch"),
    ],
)
async def test_wrong_method_is_405_protime_body(api: Api, method: str, path: str) -> None:
    """A known path with a method it does not support answers 405 with a Protime body."""
    response = await api.http.request(method, f"{API}{path}", headers=await api.headers())
    assert_error(response, 405)
    assert method not in response.headers["allow"]


async def test_wrong_method_on_token_endpoint_is_405(api: Api) -> None:
    """GET on the token endpoint answers 405 with a Protime body."""
    assert_error(await api.http.get("/tenants/acme/connect/token"), 405)


# -- token endpoint ----------------------------------------------------------------------


async def test_token_request_must_be_form_encoded(api: Api) -> None:
    """A JSON token request answers 400 naming the form content type."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    response = await api.http.post(
        "/tenants/acme/connect/token",
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    error = assert_error(response, 400, reasons=True)
    assert "application/x-www-form-urlencoded" in reasons_text(error)


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "", None])
async def test_token_request_with_wrong_grant_type_is_400(api: Api, grant_type: str | None) -> None:
    """A grant type other than ``client_credentials`` answers 400 with reasons."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    form = {"client_id": client_id, "client_secret": secret}
    if grant_type is not None:
        form["grant_type"] = grant_type
    response = await api.http.post("/tenants/acme/connect/token", data=form)
    error = assert_error(response, 400, reasons=True)
    assert "grant_type" in reasons_text(error)


async def test_token_request_with_bad_credentials_is_401(api: Api) -> None:
    """A wrong secret, an unknown client or missing credentials answer 401 ``invalid_client``."""
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
        assert_error(response, 401, code="invalid_client")


async def test_token_request_for_unknown_or_ungranted_scope_is_400(api: Api) -> None:
    """Requesting an unknown scope, or one the client was not given, answers 400 naming it."""
    client_id, secret = await api.credentials("acme", [Scope.WEBHOOKS_READ])
    for scope, named in [
        ("connector-protimeapi-nope.read", "connector-protimeapi-nope.read"),
        (f"{Scope.WEBHOOKS_READ} {Scope.WEBHOOKS_WRITE}", Scope.WEBHOOKS_WRITE.value),
    ]:
        response = await api.token_response("acme", client_id, secret, scope=scope)
        error = assert_error(response, 400, reasons=True)
        assert named in reasons_text(error)


async def test_token_request_with_repeated_field_is_400(api: Api) -> None:
    """A form field given twice answers 400 instead of picking one."""
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
    assert_error(response, 400, reasons=True)


# -- fuzzing -----------------------------------------------------------------------------

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def sqlite_api(api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app on a real SQLite file, production rules."""
    return await api_factory(Settings(database_url=f"sqlite:///{tmp_path}/fuzz.db", dev=False))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)
known_keys = st.sampled_from(
    ["id", "person", "date", "durationInMinutes", "startTimeInMinutes", "endTimeInMinutes"]
)
work_interruption_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "person": st.fixed_dictionaries({}, optional={"id": json_values}) | json_values,
        "date": st.sampled_from(["2024-03-04", "2024-02-30", ""]) | json_values,
        "durationInMinutes": st.integers(-2000, 2000) | json_values,
        "startTimeInMinutes": st.integers(-2000, 2000) | json_values,
        "endTimeInMinutes": st.integers(-2000, 2000) | json_values,
    },
)
webhook_like = st.fixed_dictionaries(
    {},
    optional={
        "destinationUrl": st.sampled_from(["https://hooks.example.com/", "http://[::1"])
        | st.text(max_size=40)
        | json_values,
        "collectionName": st.sampled_from(["work-interruptions", "people"]) | json_values,
    },
)
path_ids = st.text(
    st.characters(codec="utf-8", exclude_characters="/?#%"),
    min_size=1,
    max_size=25,
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)


@FUZZ_SETTINGS
@given(record_id=path_ids, body=work_interruption_like | json_values)
async def test_fuzzed_work_interruption_puts_never_5xx(
    sqlite_api: Api, record_id: str, body: Any
) -> None:
    """Arbitrary JSON bodies and path ids sent to PUT /work-interruptions/{id} never answer 5xx."""
    api = sqlite_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    url = f"{API}/work-interruptions/{quote(record_id, safe='')}"
    response = await api.http.put(url, content=json.dumps(body), headers=headers)
    assert response.status_code < 500, response.text
    assert response.status_code in (200, 201, 400, 404, 405), response.text
    assert set(response.json()) & {"error", "validationErrors", "changeVersion"}


@FUZZ_SETTINGS
@given(body=webhook_like | json_values)
async def test_fuzzed_webhook_creations_never_5xx(api: Api, body: Any) -> None:
    """Arbitrary JSON bodies sent to POST /webhooks never answer 5xx."""
    headers = await api.headers()
    response = await api.http.post(f"{API}/webhooks", content=json.dumps(body), headers=headers)
    assert response.status_code in (201, 400), response.text
    assert set(response.json()) & {"error", "validationErrors", "key"}
