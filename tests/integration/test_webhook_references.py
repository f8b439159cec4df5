"""Webhooks with external references: shown on the webhook, rendered at send time in events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import assert_error, reasons_text
from workhooks.config import Settings
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)

WI = f"{API}/work-interruptions"
EMPLOYEE = "(people,@employee-number)"
WITH_REFS_URL = "https://refs.example.com/in"
PLAIN_URL = "https://plain.example.com/in"


@pytest.fixture(params=["memory", "sqlite"])
async def any_api(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app on the in-memory store and on a real SQLite file, production rules."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/refs.db"
    return await api_factory(Settings.of(database_url=url, dev=False, master_key=TEST_MASTER_KEY))


async def create_webhook(
    api: Api, headers: dict[str, str], url: str, references: str | None = None
) -> dict[str, Any]:
    """Create a work-interruptions webhook on ``url``, with ``references`` if given."""
    params = {} if references is None else {"externalReferences": references}
    response = await api.http.post(
        f"{API}/webhooks",
        params=params,
        json={"destinationUrl": url, "collectionName": "work-interruptions"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_person(api: Api, headers: dict[str, str], person_id: int, **fields: str) -> None:
    """Create or replace a person with the given fields."""
    response = await api.http.put(f"{API}/people/{person_id}", json=fields, headers=headers)
    assert response.status_code in (200, 201), response.text


def sent_to(api: Api, url: str) -> list[dict[str, Any]]:
    """The decoded bodies the scripted sender posted to ``url``, in order."""
    return [json.loads(r.body) for r in api.sender.requests if r.url == url]


async def test_webhook_shows_its_external_references(any_api: Api) -> None:
    """A webhook made with references lists them on create, get and list as an object keyed by
    collection (``{"people": [...]}``, as Protime types it); one without has ``{}``."""
    api = any_api
    headers = await api.headers()
    created = await create_webhook(api, headers, WITH_REFS_URL, EMPLOYEE)
    expected = {"people": ["@employee-number"]}
    assert created["externalReferences"] == expected
    fetched = await api.http.get(f"{API}/webhooks/{created['id']}", headers=headers)
    assert fetched.json()["externalReferences"] == expected
    plain = await create_webhook(api, headers, PLAIN_URL)
    assert plain["externalReferences"] == {}
    listed = (await api.http.get(f"{API}/webhooks", headers=headers)).json()["value"]
    assert {w["id"]: w["externalReferences"] for w in listed} == {
        created["id"]: expected,
        plain["id"]: {},
    }


async def test_webhook_keeps_several_references_in_order(api: Api) -> None:
    """Several references are kept in the order asked, each once."""
    headers = await api.headers()
    created = await create_webhook(
        api,
        headers,
        WITH_REFS_URL,
        "(people,HRMID)(people,@badge-number)(people,HRMID)",
    )
    assert created["externalReferences"] == {"people": ["HRMID", "@badge-number"]}


@pytest.mark.parametrize("references", ["(teams,@employee-number)", "(people,@nickname)", "x"])
async def test_webhook_with_invalid_references_is_400(api: Api, references: str) -> None:
    """Unknown collections, unknown ``@`` references or malformed lists refuse the webhook (400)."""
    headers = await api.headers()
    response = await api.http.post(
        f"{API}/webhooks",
        params={"externalReferences": references},
        json={"destinationUrl": WITH_REFS_URL, "collectionName": "work-interruptions"},
        headers=headers,
    )
    error = assert_error(response, 400, reasons=True)
    assert "externalReferences" in reasons_text(error)
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).json()["value"] == []


async def test_events_carry_the_employee_number_as_it_is_at_send_time(any_api: Api) -> None:
    """An event renders the person's employee number read when it is sent, not when written."""
    api = any_api
    headers = await api.headers()
    await set_person(api, headers, 7, employeeNumber="E-OLD")
    await create_webhook(api, headers, WITH_REFS_URL, EMPLOYEE)
    written = await api.http.put(
        f"{WI}/70", json=work_interruption(7, date="2025-03-04"), headers=headers
    )
    assert written.status_code == 201, written.text
    await set_person(api, headers, 7, employeeNumber="E-NEW")
    assert await api.rt.worker.run_once() == 1
    (event,) = sent_to(api, WITH_REFS_URL)
    assert event["changeType"] == "InsertOrUpdate"
    assert event["data"]["person"] == {"id": 7, "externalReferences": {"@employee-number": "E-NEW"}}
    # Apart from the person, the data is the record exactly as GET returns it.
    document = written.json()
    assert {k: v for k, v in event["data"].items() if k != "person"} == {
        k: v for k, v in document.items() if k != "person"
    }
    asked = await api.http.get(f"{WI}/70", params={"externalReferences": EMPLOYEE}, headers=headers)
    assert event["data"] == asked.json()


async def test_an_empty_employee_number_is_left_out_of_events(any_api: Api) -> None:
    """A person without (or with an empty) employee number gets ``externalReferences: {}``."""
    api = any_api
    headers = await api.headers()
    await set_person(api, headers, 1)
    await set_person(api, headers, 2, employeeNumber="", badgeNumber="B-2")
    await create_webhook(api, headers, WITH_REFS_URL, EMPLOYEE)
    for record_id, person_id in ((10, 1), (20, 2)):
        response = await api.http.put(
            f"{WI}/{record_id}", json=work_interruption(person_id), headers=headers
        )
        assert response.status_code == 201, response.text
    assert await api.rt.worker.run_once() == 2
    people = {e["data"]["id"]: e["data"]["person"] for e in sent_to(api, WITH_REFS_URL)}
    assert people == {
        10: {"id": 1, "externalReferences": {}},
        20: {"id": 2, "externalReferences": {}},
    }


async def test_custom_references_are_rendered_in_events(any_api: Api) -> None:
    """A webhook asking a custom key sends the person's current value of that key."""
    api = any_api
    headers = await api.headers()
    await set_person(api, headers, 3)
    await create_webhook(api, headers, WITH_REFS_URL, "(people,HRMID)(people,@employee-number)")
    response = await api.http.put(f"{WI}/30", json=work_interruption(3), headers=headers)
    assert response.status_code == 201, response.text
    custom = await api.http.put(
        f"{API}/people/3/external-references/HRMID", json={"value": "H-3"}, headers=headers
    )
    assert custom.status_code == 204, custom.text
    await api.rt.worker.run_once()
    (event,) = sent_to(api, WITH_REFS_URL)
    assert event["data"]["person"] == {"id": 3, "externalReferences": {"HRMID": "H-3"}}


async def test_a_webhook_without_references_sends_only_the_person_id(any_api: Api) -> None:
    """Next to a webhook with references, one without sends ``person`` as ``{"id"}`` only."""
    api = any_api
    headers = await api.headers()
    await set_person(api, headers, 7, employeeNumber="E-7", badgeNumber="B-7")
    await create_webhook(api, headers, WITH_REFS_URL, EMPLOYEE)
    await create_webhook(api, headers, PLAIN_URL)
    written = await api.http.put(f"{WI}/70", json=work_interruption(7), headers=headers)
    assert written.status_code == 201, written.text
    assert await api.rt.worker.run_once() == 2
    (plain,) = sent_to(api, PLAIN_URL)
    assert plain == {"changeType": "InsertOrUpdate", "data": written.json()}
    assert plain["data"]["person"] == {"id": 7}
    (with_refs,) = sent_to(api, WITH_REFS_URL)
    assert with_refs["data"]["person"] == {
        "id": 7,
        "externalReferences": {"@employee-number": "E-7"},
    }


async def test_delete_events_have_no_person(any_api: Api) -> None:
    """A ``Delete`` event holds only changeVersion and id, also for a webhook with references."""
    api = any_api
    headers = await api.headers()
    await set_person(api, headers, 7, employeeNumber="E-7")
    await create_webhook(api, headers, WITH_REFS_URL, EMPLOYEE)
    await create_webhook(api, headers, PLAIN_URL)
    written = await api.http.put(f"{WI}/70", json=work_interruption(7), headers=headers)
    assert written.status_code == 201, written.text
    await api.rt.worker.run_once()
    deleted = await api.http.delete(f"{WI}/70", headers=headers)
    assert deleted.status_code == 204, deleted.text
    await api.rt.worker.run_once()
    for url in (WITH_REFS_URL, PLAIN_URL):
        events = sent_to(api, url)
        assert [e["changeType"] for e in events] == ["InsertOrUpdate", "Delete"]
        delete = events[-1]
        assert set(delete) == {"changeType", "data"}
        assert set(delete["data"]) == {"changeVersion", "id"}
        assert delete["data"]["id"] == 70
        assert delete["data"]["changeVersion"] > events[0]["data"]["changeVersion"]
