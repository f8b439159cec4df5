"""Webhook and routing errors of the API: bad destinations, collections and filters,
unknown ids (404), conflicts (409) and unknown routes or methods (404/405)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import HOOK, assert_error, create_webhook, reasons_text
from workhooks.config import Settings

pytestmark = pytest.mark.timeout(60)


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


async def test_a_tenant_at_its_webhook_limit_gets_400_until_it_deletes_one(
    api_factory: ApiFactory,
) -> None:
    """Past ``WORKHOOKS_MAX_WEBHOOKS_PER_TENANT`` enabled webhooks a create answers 400."""
    api = await api_factory(Settings.of(database_url="memory://", max_webhooks_per_tenant=2))
    headers = await api.headers()
    first = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    refused = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    error = assert_error(refused, 400, code="TooManyWebhooks", reasons=True)
    assert "at most 2 enabled webhooks" in reasons_text(error)
    assert len((await api.http.get(f"{API}/webhooks", headers=headers)).json()["value"]) == 2
    deleted = await api.http.delete(f"{API}/webhooks/{first.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    again = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert again.status_code == 201


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
    [f"{API}/nope", f"{API}/work-interruptions/1/x", f"{API}/", "/nope", f"{API}/webhooks/a/b/c"],
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
