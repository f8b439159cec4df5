"""Request-body errors of the API: bad JSON, wrong types, missing fields and record rules
answer 400 with a Protime body, and fuzzed bodies never answer a 5xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import (
    HOOK,
    assert_error,
    assert_validation_errors,
    reasons_text,
)
from workhooks.config import Settings
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)


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


# -- fuzzing -----------------------------------------------------------------------------

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def sqlite_api(api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app on a real SQLite file, production rules."""
    return await api_factory(
        Settings.of(
            database_url=f"sqlite:///{tmp_path}/fuzz.db", dev=False, master_key=TEST_MASTER_KEY
        )
    )


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
