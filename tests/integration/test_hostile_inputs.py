"""Hostile and unlucky inputs answer clear 4xx on SQLite and PostgreSQL alike, never a 500;
``OPTIONS`` names every method of a path; only canonical ids name records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import (
    assert_error,
    assert_oauth_error,
    assert_validation_errors,
    create_webhook,
)
from tests.postgres import reset_database
from workhooks.config import Settings
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)

WEBHOOK = "00000000-0000-4000-8000-000000000000"
RANGE = "date ge '2024-01-01' and date le '2024-12-31'"


@pytest.fixture(params=["sqlite", "postgres"])
async def stored_api(
    request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path
) -> Api:
    """The app on each durable store (the stores must accept and refuse the same inputs)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'h.db'}"
        return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))


REFUSED: list[tuple[str, str, dict[str, Any], int]] = [
    ("PUT", "/people/7", {"json": {"badgeNumber": "a\x00b"}}, 400),
    ("PUT", "/people/7", {"json": {"employeeNumber": "\x00"}}, 400),
    ("GET", "/webhooks/%00", {}, 404),
    ("DELETE", "/webhooks/%00", {}, 404),
    ("GET", "/webhooks/%00/deliveries", {}, 404),
    ("GET", "/webhooks/{hook}/deliveries/%00", {}, 404),
    ("GET", "/people/%00", {}, 404),
    ("GET", "/work-interruptions/%00", {}, 404),
    ("GET", f"/work-interruptions?filter={RANGE} and person eq 9223372036854775808", {}, 400),
    (
        "GET",
        f"/work-interruptions?filter={RANGE} and person in (1, -99999999999999999999)",
        {},
        400,
    ),
    (
        "GET",
        "/webhooks/{hook}/deliveries?filter=lastAttemptAt le '9999-12-31T23:00:00-05:00'",
        {},
        400,
    ),
    (
        "GET",
        "/webhooks/{hook}/deliveries?filter=lastAttemptAt ge '0001-01-01T00:00:00+01:00'",
        {},
        400,
    ),
]


@pytest.mark.parametrize(("method", "path", "options", "status"), REFUSED)
async def test_hostile_input_is_a_clear_client_error(
    stored_api: Api, method: str, path: str, options: dict[str, Any], status: int
) -> None:
    """NUL characters, ids that cannot exist, integers beyond int64 and instants past year 9999
    answer 400 or 404 with a Protime body on both stores."""
    headers = await stored_api.headers()
    await stored_api.put_person(headers, 1)
    hook = await create_webhook(stored_api, headers)
    response = await stored_api.http.request(
        method, f"{API}{path.replace('{hook}', hook)}", headers=headers, **options
    )
    assert_error(response, status)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"value": ' * 5_000 + b"1" + b"}" * 5_000,
        b'{"badgeNumber": "\xc3\x28"}',
    ],
)
async def test_deep_or_undecodable_json_is_a_validation_error(stored_api: Api, raw: bytes) -> None:
    """Deeply nested JSON and invalid UTF-8 in a body answer 400 ``validationErrors``."""
    headers = {**await stored_api.headers(), "Content-Type": "application/json"}
    for method, path in (("PUT", "/people/3"), ("POST", "/webhooks"), ("POST", "/people/batch")):
        response = await stored_api.http.request(
            method, f"{API}{path}", content=raw, headers=headers
        )
        assert_validation_errors(response)


async def test_token_request_with_nul_client_id_is_refused(stored_api: Api) -> None:
    """A client id with a NUL character is an unknown client (401), not a server error."""
    response = await stored_api.token_response("acme", "wh_\x00", "secret")
    assert_oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
async def test_every_storable_date_can_be_read_back(stored_api: Api, day: str) -> None:
    """A record dated on the first or last representable day is returned by a filter on its
    year: the read API serves every date a record may have."""
    headers = await stored_api.headers()
    await stored_api.put_person(headers, 1)
    written = await stored_api.http.put(
        f"{API}/work-interruptions/9", json=work_interruption(1, date=day), headers=headers
    )
    assert written.status_code == 201, written.text
    year = day[:4]
    text = f"date ge '{year}-01-01' and date le '{year}-12-31'"
    listed = await stored_api.http.get(
        f"{API}/work-interruptions", params={"filter": text}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    assert [r["date"] for r in listed.json()["value"]] == [day]


async def test_options_names_every_method_of_the_path(stored_api: Api) -> None:
    """``OPTIONS`` answers an ``Allow`` header listing every method the path serves."""
    expected = {
        "/webhooks": "GET, OPTIONS, POST",
        f"/webhooks/{WEBHOOK}": "DELETE, GET, OPTIONS",
        "/work-interruptions/1": "DELETE, GET, OPTIONS, PUT",
        "/people/1": "DELETE, GET, OPTIONS, PUT",
    }
    for path, allow in expected.items():
        response = await stored_api.http.options(f"{API}{path}")
        assert response.status_code == 204
        assert response.headers["Allow"] == allow, path


@pytest.mark.parametrize("spelling", ["01", "001", "0"])
async def test_only_canonical_ids_name_a_record(stored_api: Api, spelling: str) -> None:
    """``/work-interruptions/01`` is not record 1: a non-canonical id is 404."""
    headers = await stored_api.headers()
    await stored_api.put_person(headers, 1)
    written = await stored_api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(1), headers=headers
    )
    assert written.status_code == 201
    assert (
        await stored_api.http.get(f"{API}/work-interruptions/1", headers=headers)
    ).status_code == 200
    response = await stored_api.http.get(f"{API}/work-interruptions/{spelling}", headers=headers)
    assert_error(response, 404)
    assert_error(await stored_api.http.get(f"{API}/people/0{1}", headers=headers), 404)


@pytest.mark.parametrize(
    "url",
    [
        "https://１２７.０.０.１/in",
        "https://ｌｏｃａｌｈｏｓｔ/in",
        "https://locaⅼhost/in",
        "https://１６９.２５４.１６９.２５４/latest/meta-data",
    ],
)
async def test_idna_spellings_of_internal_hosts_are_refused_at_creation(
    stored_api: Api, url: str
) -> None:
    """Full-width and compatibility spellings of loopback or metadata hosts answer 400 when
    the webhook is created, as their ASCII spelling does."""
    headers = await stored_api.headers()
    response = await stored_api.http.post(
        f"{API}/webhooks",
        json={"destinationUrl": url, "collectionName": "work-interruptions"},
        headers=headers,
    )
    assert_error(response, 400, reasons=True)
