"""Org-groups and circles over the API, and the filters that select their people:
``person in org-group(...)`` (with the groups below), ``person in circle(...)``, ``or``
between ``person`` conditions, and any other list name refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import API, Api, work_interruption
from tests.integration.errors_helpers import assert_error, reasons_text
from workhooks.domain.groups import GroupKind, PersonGroup
from workhooks.domain.scopes import Scope

pytestmark = pytest.mark.timeout(60)

WI = f"{API}/work-interruptions"
DAY = "date eq '2024-03-04'"


async def seed_people_with_records(api: Api, headers: dict[str, str], *people: int) -> None:
    """Person ``p`` and their work interruption ``p`` (same id) on 2024-03-04."""
    for pid in people:
        await api.put_person(headers, pid)
    batch = [work_interruption(pid, id=pid) for pid in people]
    response = await api.http.post(f"{WI}/batch", json={"value": batch}, headers=headers)
    assert response.status_code == 200, response.text


async def put_group(
    api: Api, headers: dict[str, str], path: str, body: dict[str, Any], status: int = 201
) -> dict[str, Any]:
    """PUT a group and check the status; return the answer's body."""
    response = await api.http.put(f"{API}/{path}", json=body, headers=headers)
    assert response.status_code == status, response.text
    document: dict[str, Any] = response.json()
    return document


async def selected(api: Api, headers: dict[str, str], condition: str) -> list[int]:
    """The ids of the work interruptions ``date eq '2024-03-04' and <condition>`` lists."""
    response = await api.http.get(WI, params={"filter": f"{DAY} and {condition}"}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["value"]]


def people(*ids: int) -> list[dict[str, int]]:
    """The ``people`` list of a group body."""
    return [{"id": i} for i in ids]


async def test_org_groups_and_circles_are_created_read_replaced_and_deleted(api: Api) -> None:
    """PUT answers 201 with Location then 200; GET returns the group; DELETE answers 204
    and then 404; an org-group with groups below it cannot be deleted (409)."""
    headers = await api.headers()
    created = await api.http.put(
        f"{API}/org-groups/100", json={"name": "Company", "people": people(1)}, headers=headers
    )
    assert created.status_code == 201
    assert created.headers["location"] == f"{API}/org-groups/100"
    assert created.json() == {"id": 100, "name": "Company", "parent": None, "people": people(1)}
    child = {"name": "Sales", "parent": {"id": 100}, "people": people(3, 2)}
    assert (await put_group(api, headers, "org-groups/121", child))["people"] == people(2, 3)
    fetched = await api.http.get(f"{API}/org-groups/121", headers=headers)
    assert fetched.json() == {
        "id": 121,
        "name": "Sales",
        "parent": {"id": 100},
        "people": people(2, 3),
    }
    await put_group(api, headers, "org-groups/121", {**child, "people": []}, status=200)
    assert_error(await api.http.delete(f"{API}/org-groups/100", headers=headers), 409)
    circle = await put_group(api, headers, "circles/2", {"name": "Night", "people": people(1)})
    assert circle == {"id": 2, "name": "Night", "people": people(1)}
    for path in ("org-groups/121", "org-groups/100", "circles/2"):
        assert (await api.http.delete(f"{API}/{path}", headers=headers)).status_code == 204
        assert_error(await api.http.get(f"{API}/{path}", headers=headers), 404)


async def test_group_rules_answer_400_with_reasons(api: Api) -> None:
    """An unknown parent, a parent below the group, a blank name and a bad body are 400s."""
    headers = await api.headers()
    unknown = await api.http.put(
        f"{API}/org-groups/1", json={"name": "A", "parent": {"id": 9}}, headers=headers
    )
    assert "org-group 9 does not exist" in reasons_text(assert_error(unknown, 400, reasons=True))
    await put_group(api, headers, "org-groups/1", {"name": "A"})
    await put_group(api, headers, "org-groups/2", {"name": "B", "parent": {"id": 1}})
    cycle = await api.http.put(
        f"{API}/org-groups/1", json={"name": "A", "parent": {"id": 2}}, headers=headers
    )
    assert "below org-group 1" in reasons_text(assert_error(cycle, 400, reasons=True))
    blank = await api.http.put(f"{API}/circles/1", json={"name": " "}, headers=headers)
    assert "name" in reasons_text(assert_error(blank, 400, reasons=True))
    wrong = await api.http.put(f"{API}/circles/1", json={"people": [1]}, headers=headers)
    assert wrong.status_code == 400
    assert "validationErrors" in wrong.json()


async def test_groups_use_the_people_scopes(api: Api) -> None:
    """Writing a group needs ``people.write`` and reading it ``people.read`` (401 otherwise)."""
    reader = await api.headers(scopes=[Scope.PEOPLE_READ])
    refused = await api.http.put(f"{API}/circles/1", json={"name": "A"}, headers=reader)
    assert_error(refused, 401)
    writer = await api.headers(scopes=[Scope.PEOPLE_WRITE])
    await put_group(api, writer, "circles/1", {"name": "A"})
    assert_error(await api.http.get(f"{API}/circles/1", headers=writer), 401)
    assert (await api.http.get(f"{API}/circles/1", headers=reader)).status_code == 200


async def test_person_in_org_group_selects_the_group_and_the_groups_below(api: Api) -> None:
    """``person in org-group(121, 122)`` lists the records of the people of 121, 122 and every
    group below them, and nobody else's (it was read as person ids 121 and 122)."""
    headers = await api.headers()
    await seed_people_with_records(api, headers, 1, 2, 3, 4, 5, 121, 122)
    await put_group(api, headers, "org-groups/100", {"name": "Top", "people": people(1)})
    await put_group(
        api, headers, "org-groups/121", {"name": "A", "parent": {"id": 100}, "people": people(2)}
    )
    await put_group(
        api, headers, "org-groups/122", {"name": "B", "parent": {"id": 100}, "people": people(3)}
    )
    await put_group(
        api, headers, "org-groups/130", {"name": "A1", "parent": {"id": 121}, "people": people(4)}
    )
    assert await selected(api, headers, "person in org-group(121, 122)") == [2, 3, 4]
    assert await selected(api, headers, "person in org-group(100)") == [1, 2, 3, 4]
    assert await selected(api, headers, "person in org-group(999)") == []


async def test_person_in_circle_selects_its_people(api: Api) -> None:
    """``person in circle(2, 8)`` lists the records of the people of circles 2 and 8."""
    headers = await api.headers()
    await seed_people_with_records(api, headers, 1, 2, 3, 8, 9)
    await put_group(api, headers, "circles/2", {"name": "Day", "people": people(1, 9)})
    await put_group(api, headers, "circles/8", {"name": "Night", "people": people(3)})
    assert await selected(api, headers, "person in circle(2, 8)") == [1, 3, 9]
    assert await selected(api, headers, "(person in circle(8) or person eq 2)") == [2, 3]
    assert await selected(api, headers, "person in circle(2) and person in (9, 3)") == [9]


async def test_person_conditions_combine_with_or(api: Api) -> None:
    """``person`` is a Multiple field: ``person eq 1 or person eq 2`` is accepted; ``or`` on
    ``date`` (a Range field) answers 400 naming it."""
    headers = await api.headers()
    await seed_people_with_records(api, headers, 1, 2, 3)
    assert await selected(api, headers, "(person eq 1 or person eq 2)") == [1, 2]
    response = await api.http.get(
        WI, params={"filter": f"{DAY} or date eq '2024-03-05'"}, headers=headers
    )
    error = assert_error(response, 400, reasons=True)
    assert "'date' is a Range field" in reasons_text(error)


@pytest.mark.parametrize("name", ["team", "people", "circles"])
async def test_an_unknown_list_name_is_400_naming_it(api: Api, name: str) -> None:
    """Any list name other than ``circle`` and ``org-group`` answers 400 naming it."""
    headers = await api.headers()
    response = await api.http.get(
        WI, params={"filter": f"{DAY} and person in {name}(2, 8)"}, headers=headers
    )
    error = assert_error(response, 400, code="InvalidFilter", reasons=True)
    assert f"{name}(...)" in reasons_text(error)


async def test_the_python_api_manages_groups_like_the_http_api(api: Api) -> None:
    """Embedders use ``services.groups`` directly: what they put, the filters select."""
    headers = await api.headers()
    await seed_people_with_records(api, headers, 5, 6)
    groups = api.rt.services.groups
    circle = PersonGroup(kind=GroupKind.CIRCLE, id=4, name="Embedded", people=frozenset({6}))
    assert await groups.put("acme", circle) is True
    assert await groups.get("acme", GroupKind.CIRCLE, 4) == circle
    assert await selected(api, headers, "person in circle(4)") == [6]
    await groups.delete("acme", GroupKind.CIRCLE, 4)
    assert await selected(api, headers, "person in circle(4)") == []
