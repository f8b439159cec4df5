"""Record headers of the Protime header table: ``Location`` on an upsert that creates, an
``ETag`` from the ``changeVersion`` on GET by id, and ``If-None-Match`` answered with 304."""

from __future__ import annotations

import pytest

from tests.conftest import API, Api, work_interruption

pytestmark = pytest.mark.timeout(60)


async def test_put_that_creates_answers_location_and_put_that_replaces_does_not(api: Api) -> None:
    """A PUT answering 201 carries ``Location`` with the record's path; a 200 replace has none."""
    headers = await api.headers()
    created = await api.http.put(f"{API}/people/7", json={}, headers=headers)
    assert created.status_code == 201
    assert created.headers["location"] == f"{API}/people/7"
    replaced = await api.http.put(f"{API}/people/7", json={}, headers=headers)
    assert replaced.status_code == 200
    assert "location" not in replaced.headers
    record = await api.http.put(
        f"{API}/work-interruptions/3", json=work_interruption(7), headers=headers
    )
    assert record.status_code == 201
    assert record.headers["location"] == f"{API}/work-interruptions/3"
    assert (await api.http.get(record.headers["location"], headers=headers)).json()["id"] == 3


async def test_get_by_id_has_an_etag_from_the_change_version(api: Api) -> None:
    """GET of a work interruption or a person carries ``ETag: "<changeVersion>"``; a write
    gives a new one."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    put = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(), headers=headers
    )
    got = await api.http.get(f"{API}/work-interruptions/1", headers=headers)
    assert got.headers["etag"] == f'"{got.json()["changeVersion"]}"' == put.headers["etag"]
    person = await api.http.get(f"{API}/people/1", headers=headers)
    assert person.headers["etag"] == f'"{person.json()["changeVersion"]}"'
    await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(durationInMinutes=5), headers=headers
    )
    again = await api.http.get(f"{API}/work-interruptions/1", headers=headers)
    assert again.headers["etag"] != got.headers["etag"]


async def test_if_none_match_with_the_current_etag_answers_304(api: Api) -> None:
    """``If-None-Match`` naming the current ETag (also weak, in a list, or ``*``) answers 304
    without a body; a stale tag gets the record with its new ETag."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    await api.http.put(f"{API}/work-interruptions/1", json=work_interruption(), headers=headers)
    url = f"{API}/work-interruptions/1"
    etag = (await api.http.get(url, headers=headers)).headers["etag"]
    for condition in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        response = await api.http.get(url, headers={**headers, "If-None-Match": condition})
        assert response.status_code == 304, condition
        assert response.content == b""
        assert response.headers["etag"] == etag
    await api.http.put(url, json=work_interruption(durationInMinutes=5), headers=headers)
    changed = await api.http.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    person_etag = (await api.http.get(f"{API}/people/1", headers=headers)).headers["etag"]
    person = await api.http.get(
        f"{API}/people/1", headers={**headers, "If-None-Match": person_etag}
    )
    assert person.status_code == 304


async def test_etag_differs_when_external_references_change(api: Api) -> None:
    """With ``externalReferences``, a changed reference value (no new record version) gives
    another ETag, so a cached body with the old value is never confirmed."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    await api.http.put(f"{API}/work-interruptions/1", json=work_interruption(), headers=headers)
    url = f"{API}/work-interruptions/1"
    params = {"externalReferences": "(people,HRMID)"}
    await api.http.put(
        f"{API}/people/1/external-references/HRMID", json={"value": "a"}, headers=headers
    )
    before = await api.http.get(url, params=params, headers=headers)
    await api.http.put(
        f"{API}/people/1/external-references/HRMID", json={"value": "b"}, headers=headers
    )
    after = await api.http.get(
        url, params=params, headers={**headers, "If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.json()["person"]["externalReferences"] == {"HRMID": "b"}
    assert after.headers["etag"].startswith(f'"{after.json()["changeVersion"]}-')
