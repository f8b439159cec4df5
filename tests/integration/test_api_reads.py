"""The work-interruptions read API: filters, ordering, paging, tokens and external references."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from tests.conftest import API, USER_AGENT, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import assert_error, reasons_text
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)

WI = f"{API}/work-interruptions"
MARCH = "date ge '2025-03-01' and date le '2025-03-31'"
ALL_REFS = "(people,@badge-number)(people,@employee-number)(people,HRMID)"


@pytest.fixture(params=["memory", "sqlite"])
async def any_api(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app on the in-memory store and on a real SQLite file, default page size."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/reads.db"
    return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))


@pytest.fixture(params=["memory", "sqlite"])
async def paged_api(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app with pages of three records, on the in-memory store and on SQLite."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/paged.db"
    return await api_factory(Settings.of(database_url=url, page_size=3, master_key=TEST_MASTER_KEY))


def record(record_id: int, person_id: int, date: str) -> dict[str, Any]:
    """A work interruption body with an explicit id, for the batch endpoint."""
    return work_interruption(person_id, id=record_id, date=date)


async def seed(api: Api, headers: dict[str, str], records: list[dict[str, Any]]) -> None:
    """Create the people the records name, then upsert the records in one batch."""
    for person_id in sorted({r["person"]["id"] for r in records}):
        await api.put_person(headers, person_id)
    response = await api.http.post(f"{WI}/batch", json={"value": records}, headers=headers)
    assert response.status_code == 200, response.text


async def walk(
    api: Api, headers: dict[str, str], url: str, params: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow ``nextLink`` from ``url`` until it is absent; return all items and every page."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    response = await api.http.get(url, params=params, headers=headers)
    for _ in range(100):
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items.extend(page["value"])
        if "nextLink" not in page:
            return items, pages
        response = await api.http.get(page["nextLink"], headers=headers)
    raise AssertionError("nextLink never ended")


def without(*excluded: Scope) -> list[Scope]:
    """Every scope except ``excluded``."""
    return [s for s in Scope if s not in excluded]


# -- scope and filter validation ------------------------------------------------------------


async def test_list_requires_the_work_interruptions_read_scope(api: Api) -> None:
    """Listing answers 401 without a token and with a token lacking the read scope."""
    anonymous = await api.http.get(WI, params={"filter": MARCH}, headers={"User-Agent": USER_AGENT})
    assert_error(anonymous, 401)
    headers = await api.headers(scopes=without(Scope.WORK_INTERRUPTIONS_READ))
    refused = await api.http.get(WI, params={"filter": MARCH}, headers=headers)
    assert_error(refused, 401)
    assert "insufficient_scope" in refused.headers["www-authenticate"]
    allowed = await api.headers(scopes=[Scope.WORK_INTERRUPTIONS_READ])
    assert (await api.http.get(WI, params={"filter": MARCH}, headers=allowed)).status_code == 200


@pytest.mark.parametrize("params", [{}, {"filter": ""}, {"filter": "person eq 1"}])
async def test_list_without_a_date_filter_is_400_with_reasons(
    api: Api, params: dict[str, str]
) -> None:
    """A list without a ``date`` condition answers 400 whose reasons name ``date``."""
    headers = await api.headers()
    error = assert_error(await api.http.get(WI, params=params, headers=headers), 400, reasons=True)
    assert "date" in reasons_text(error)


async def test_a_date_range_over_one_year_is_400_and_one_year_is_accepted(api: Api) -> None:
    """A date range of a year and a day answers 400; exactly one year (inclusive) is accepted."""
    headers = await api.headers()
    too_long = "date ge '2024-01-01' and date le '2025-01-01'"
    error = assert_error(
        await api.http.get(WI, params={"filter": too_long}, headers=headers), 400, reasons=True
    )
    assert "one year" in reasons_text(error)
    one_year = "date ge '2024-01-01' and date le '2024-12-31'"
    response = await api.http.get(WI, params={"filter": one_year}, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_year_from_29_february_ends_on_28_february(api: Api) -> None:
    """From 2024-02-29 a range may end on 2025-02-28 but not on 2025-03-01."""
    headers = await api.headers()
    fits = "date ge '2024-02-29' and date le '2025-02-28'"
    response = await api.http.get(WI, params={"filter": fits}, headers=headers)
    assert response.status_code == 200, response.text
    too_long = "date ge '2024-02-29' and date le '2025-03-01'"
    response = await api.http.get(WI, params={"filter": too_long}, headers=headers)
    assert_error(response, 400, reasons=True)


async def test_an_unknown_filter_field_is_400_naming_it(api: Api) -> None:
    """A filter on a field work interruptions do not offer answers 400 naming the field."""
    headers = await api.headers()
    response = await api.http.get(
        WI, params={"filter": f"{MARCH} and colour eq 'red'"}, headers=headers
    )
    error = assert_error(response, 400, reasons=True)
    assert "colour" in f"{error['message']} {reasons_text(error)}"


@pytest.mark.parametrize(
    "text", [f"{MARCH} and and", "date ge '2025-03-01", "date gt '2025-03-01'", f"({MARCH}"]
)
async def test_malformed_filter_is_400_with_the_position(api: Api, text: str) -> None:
    """A syntactically broken filter answers 400 whose reasons give the position of the fault."""
    headers = await api.headers()
    error = assert_error(
        await api.http.get(WI, params={"filter": text}, headers=headers), 400, reasons=True
    )
    assert "position" in reasons_text(error)


# -- ordering and person filter -----------------------------------------------------------


async def test_results_are_ordered_by_date_then_id_and_filtered_by_person(any_api: Api) -> None:
    """Lists come in (date, id) order and ``person eq`` / ``person in`` narrow them."""
    api = any_api
    headers = await api.headers()
    await seed(
        api,
        headers,
        [
            record(30, 1, "2025-03-02"),
            record(10, 2, "2025-03-02"),
            record(20, 3, "2025-03-01"),
            record(5, 1, "2025-03-31"),
            record(40, 2, "2025-04-01"),  # outside the range
            record(50, 1, "2025-02-28"),  # outside the range
        ],
    )
    everything, _ = await walk(api, headers, WI, {"filter": MARCH})
    assert [(r["date"], r["id"]) for r in everything] == [
        ("2025-03-01", 20),
        ("2025-03-02", 10),
        ("2025-03-02", 30),
        ("2025-03-31", 5),
    ]
    one, _ = await walk(api, headers, WI, {"filter": f"{MARCH} and person eq 1"})
    assert [r["id"] for r in one] == [30, 5]
    some, _ = await walk(api, headers, WI, {"filter": f"person in (2, 3) and {MARCH}"})
    assert [r["id"] for r in some] == [20, 10]
    none, _ = await walk(api, headers, WI, {"filter": f"{MARCH} and person eq 99"})
    assert none == []


async def test_list_items_are_the_documents_get_returns(any_api: Api) -> None:
    """Each listed item equals ``GET /work-interruptions/{id}`` of the same record."""
    api = any_api
    headers = await api.headers()
    await seed(api, headers, [record(1, 1, "2025-03-04"), record(2, 2, "2025-03-05")])
    listed, _ = await walk(api, headers, WI, {"filter": MARCH})
    for item in listed:
        single = await api.http.get(f"{WI}/{item['id']}", headers=headers)
        assert single.json() == item
    assert set(listed[0]) == {
        "changeVersion",
        "id",
        "person",
        "date",
        "durationInMinutes",
        "startTimeInMinutes",
        "endTimeInMinutes",
    }
    assert listed[0]["person"] == {"id": 1}


# -- paging ----------------------------------------------------------------------------------


async def test_paging_collects_exactly_the_matching_set_once(paged_api: Api) -> None:
    """Following nextLink (3 per page) yields every matching record once, then no nextLink."""
    api = paged_api
    headers = await api.headers()
    matching = [record(i, 1 + i % 2, f"2025-03-{1 + i % 4:02d}") for i in range(1, 11)]
    others = [record(100, 1, "2025-04-01"), record(101, 2, "2025-02-01")]
    await seed(api, headers, matching + others)
    items, pages = await walk(api, headers, WI, {"filter": MARCH})
    ids = [r["id"] for r in items]
    assert sorted(ids) == list(range(1, 11))
    assert len(ids) == len(set(ids))
    assert [len(p["value"]) for p in pages] == [3, 3, 3, 1]
    assert all("nextLink" in p for p in pages[:-1])
    assert "nextLink" not in pages[-1]
    assert all("deltaLink" not in p for p in pages)
    assert [(r["date"], r["id"]) for r in items] == sorted((r["date"], r["id"]) for r in items)


async def test_an_exact_multiple_of_the_page_size_ends_without_an_empty_page(
    paged_api: Api,
) -> None:
    """Six matching records with pages of three end after the second page, without nextLink."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [record(i, 1, "2025-03-10") for i in range(1, 7)])
    items, pages = await walk(api, headers, WI, {"filter": MARCH})
    assert [r["id"] for r in items] == [1, 2, 3, 4, 5, 6]
    assert len(pages) == 2


async def test_next_link_keeps_the_filter_and_the_external_references(paged_api: Api) -> None:
    """nextLink repeats ``filter`` and ``externalReferences``, so later pages render references."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [record(i, 1, "2025-03-10") for i in range(1, 5)])
    put = await api.http.put(f"{API}/people/1", json={"employeeNumber": "E-1"}, headers=headers)
    assert put.status_code == 200, put.text
    refs = "(people,@employee-number)"
    first = await api.http.get(
        WI, params={"filter": MARCH, "externalReferences": refs}, headers=headers
    )
    link = first.json()["nextLink"]
    parts = urlsplit(link)
    assert parts.path == WI
    query = parse_qs(parts.query)
    assert query["filter"] == [MARCH]
    assert query["externalReferences"] == [refs]
    assert len(query["continuationToken"]) == 1
    second = await api.http.get(link, headers=headers)
    assert second.status_code == 200, second.text
    assert [r["person"] for r in second.json()["value"]] == [
        {"id": 1, "externalReferences": {"@employee-number": "E-1"}}
    ]


# -- continuation tokens ------------------------------------------------------------------


async def first_token(api: Api, headers: dict[str, str], filter_text: str = MARCH) -> str:
    """The continuation token of the first page of ``filter_text``."""
    response = await api.http.get(WI, params={"filter": filter_text}, headers=headers)
    assert response.status_code == 200, response.text
    link: str = response.json()["nextLink"]
    (token,) = parse_qs(urlsplit(link).query)["continuationToken"]
    return token


def tampered(token: str) -> list[str]:
    """Altered spellings of a token: a changed payload character, a changed MAC, a cut."""
    body, _, mac = token.partition(".")
    flip = {"A": "B", "B": "A"}
    changed_body = ("B" if body[0] != "B" else "C") + body[1:]
    changed_mac = mac[:-2] + flip.get(mac[-2], "A") + mac[-1]
    return [f"{changed_body}.{mac}", f"{body}.{changed_mac}", token[:-4], "garbage", ""]


async def test_tampered_continuation_tokens_answer_409(paged_api: Api) -> None:
    """Altered, truncated or made-up continuation tokens answer 409 with a Protime body."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [record(i, 1, "2025-03-10") for i in range(1, 5)])
    token = await first_token(api, headers)
    for bad in tampered(token):
        response = await api.http.get(
            WI, params={"filter": MARCH, "continuationToken": bad}, headers=headers
        )
        assert_error(response, 409, code="InvalidContinuationToken")
    good = await api.http.get(
        WI, params={"filter": MARCH, "continuationToken": token}, headers=headers
    )
    assert good.status_code == 200, good.text


async def test_a_continuation_token_with_another_filter_answers_409(paged_api: Api) -> None:
    """A continuation token presented with a different filter (or with delta) answers 409."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [record(i, 1, "2025-03-10") for i in range(1, 5)])
    token = await first_token(api, headers)
    other = "date ge '2025-03-01' and date le '2025-03-30'"
    for params in (
        {"filter": other, "continuationToken": token},
        {"filter": f"{MARCH} and person eq 1", "continuationToken": token},
    ):
        assert_error(await api.http.get(WI, params=params, headers=headers), 409)
    # httpx drops a query already in the URL when given params, so spell the query out.
    query = urlencode({"filter": MARCH, "continuationToken": token}, quote_via=quote)
    with_delta = await api.http.get(f"{WI}?{query}&delta", headers=headers)
    assert_error(with_delta, 409)


async def test_a_continuation_token_of_another_tenant_answers_409(paged_api: Api) -> None:
    """A continuation token issued to one tenant answers 409 when another tenant presents it."""
    api = paged_api
    acme = await api.headers("acme")
    other = await api.headers("globex")
    await seed(api, acme, [record(i, 1, "2025-03-10") for i in range(1, 5)])
    await seed(api, other, [record(i, 1, "2025-03-10") for i in range(1, 5)])
    token = await first_token(api, acme)
    response = await api.http.get(
        WI, params={"filter": MARCH, "continuationToken": token}, headers=other
    )
    assert_error(response, 409, code="InvalidContinuationToken")


async def test_a_continuation_token_older_than_24_hours_answers_409(paged_api: Api) -> None:
    """A continuation token still works after 23 hours but answers 409 after 24 hours."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [record(i, 1, "2025-03-10") for i in range(1, 8)])
    token = await first_token(api, headers)
    api.clock.advance(dt.timedelta(hours=23))
    headers = await api.headers()  # access tokens only last 1800 s
    params = {"filter": MARCH, "continuationToken": token}
    page = await api.http.get(WI, params=params, headers=headers)
    assert page.status_code == 200, page.text
    later_link = page.json()["nextLink"]
    api.clock.advance(dt.timedelta(hours=1, seconds=1))
    headers = await api.headers()
    stale = await api.http.get(WI, params=params, headers=headers)
    assert_error(stale, 409, code="InvalidContinuationToken")
    # The link issued an hour ago is still young enough.
    assert (await api.http.get(later_link, headers=headers)).status_code == 200


# -- get by id -----------------------------------------------------------------------------


async def test_get_by_id_with_and_without_references(any_api: Api) -> None:
    """GET by id renders ``person.externalReferences`` only when asked; unknown ids are 404."""
    api = any_api
    headers = await api.headers()
    await api.put_person(headers, 7)
    await api.http.put(
        f"{API}/people/7", json={"badgeNumber": "B-7", "employeeNumber": ""}, headers=headers
    )
    created = await api.http.put(
        f"{WI}/70", json=work_interruption(7, date="2025-03-04"), headers=headers
    )
    assert created.status_code == 201, created.text
    plain = await api.http.get(f"{WI}/70", headers=headers)
    assert plain.json() == created.json()
    assert plain.json()["person"] == {"id": 7}
    with_refs = await api.http.get(
        f"{WI}/70", params={"externalReferences": ALL_REFS}, headers=headers
    )
    assert with_refs.status_code == 200, with_refs.text
    assert with_refs.json()["person"] == {"id": 7, "externalReferences": {"@badge-number": "B-7"}}
    assert {k: v for k, v in with_refs.json().items() if k != "person"} == {
        k: v for k, v in plain.json().items() if k != "person"
    }
    assert_error(await api.http.get(f"{WI}/71", headers=headers), 404)


# -- external references on reads -----------------------------------------------------------


async def test_external_references_render_under_person_and_empty_ones_are_left_out(
    any_api: Api,
) -> None:
    """Asked references appear under ``person.externalReferences``; empty or unset values do not."""
    api = any_api
    headers = await api.headers()
    await seed(api, headers, [record(1, 1, "2025-03-01"), record(2, 2, "2025-03-02")])
    await seed(api, headers, [record(3, 3, "2025-03-03")])
    for person_id, body in (
        (1, {"badgeNumber": "B-1", "employeeNumber": "E-1"}),
        (2, {"badgeNumber": "", "employeeNumber": "E-2"}),
        (3, {}),
    ):
        put = await api.http.put(f"{API}/people/{person_id}", json=body, headers=headers)
        assert put.status_code == 200, put.text
    custom = await api.http.put(
        f"{API}/people/1/external-references/HRMID", json={"value": "H-1"}, headers=headers
    )
    assert custom.status_code == 204, custom.text
    items, _ = await walk(api, headers, WI, {"filter": MARCH, "externalReferences": ALL_REFS})
    assert [r["person"] for r in items] == [
        {
            "id": 1,
            "externalReferences": {
                "@badge-number": "B-1",
                "@employee-number": "E-1",
                "HRMID": "H-1",
            },
        },
        {"id": 2, "externalReferences": {"@employee-number": "E-2"}},
        {"id": 3, "externalReferences": {}},
    ]
    only_custom, _ = await walk(
        api, headers, WI, {"filter": MARCH, "externalReferences": "(people,HRMID)"}
    )
    assert only_custom[0]["person"] == {"id": 1, "externalReferences": {"HRMID": "H-1"}}
    plain, _ = await walk(api, headers, WI, {"filter": MARCH})
    assert all(r["person"] == {"id": r["person"]["id"]} for r in plain)


@pytest.mark.parametrize(
    "references",
    [
        "(teams,@badge-number)",
        "(people,@nickname)",
        "(people,@badge-number)(projects,HRMID)",
        "people,@badge-number",
        "(people,@badge-number",
        "(people,-lead)",
        "".join(f"(people,K{i})" for i in range(17)),
    ],
)
async def test_unknown_or_malformed_external_references_answer_400(
    api: Api, references: str
) -> None:
    """Unknown collections or ``@`` references and malformed lists answer 400 on list and get."""
    headers = await api.headers()
    await seed(api, headers, [record(1, 1, "2025-03-01")])
    listed = await api.http.get(
        WI, params={"filter": MARCH, "externalReferences": references}, headers=headers
    )
    error = assert_error(listed, 400, reasons=True)
    assert "externalReferences" in reasons_text(error)
    single = await api.http.get(
        f"{WI}/1", params={"externalReferences": references}, headers=headers
    )
    assert_error(single, 400, reasons=True)


# -- custom external references endpoints ------------------------------------------------


def refs_url(person_id: int, key: str | None = None) -> str:
    """The custom references URL of a person, or of one of its keys."""
    base = f"{API}/people/{person_id}/external-references"
    return base if key is None else f"{base}/{key}"


async def test_custom_references_need_their_scopes(api: Api) -> None:
    """PUT/DELETE need ``external-references.write`` and GET needs ``people.read``, else 401."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    no_write = await api.headers(scopes=without(Scope.EXTERNAL_REFERENCES_WRITE))
    refused = await api.http.put(refs_url(1, "HRMID"), json={"value": "H-1"}, headers=no_write)
    assert_error(refused, 401)
    assert "insufficient_scope" in refused.headers["www-authenticate"]
    assert_error(await api.http.delete(refs_url(1, "HRMID"), headers=no_write), 401)
    writer = await api.headers(scopes=[Scope.EXTERNAL_REFERENCES_WRITE])
    put = await api.http.put(refs_url(1, "HRMID"), json={"value": "H-1"}, headers=writer)
    assert put.status_code == 204, put.text
    assert_error(await api.http.get(refs_url(1), headers=writer), 401)
    reader = await api.headers(scopes=[Scope.PEOPLE_READ])
    shown = await api.http.get(refs_url(1), headers=reader)
    assert shown.json() == {"externalReferences": {"HRMID": "H-1"}}


async def test_custom_references_lifecycle(any_api: Api) -> None:
    """PUT sets (204), GET shows, an empty value removes, DELETE removes then answers 404."""
    api = any_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    assert (await api.http.get(refs_url(1), headers=headers)).json() == {"externalReferences": {}}
    for key, value in (("HRMID", "H-1"), ("payroll.id", "P-1"), ("HRMID", "H-1b")):
        put = await api.http.put(refs_url(1, key), json={"value": value}, headers=headers)
        assert put.status_code == 204, put.text
        assert put.content == b""
    shown = await api.http.get(refs_url(1), headers=headers)
    assert shown.json() == {"externalReferences": {"HRMID": "H-1b", "payroll.id": "P-1"}}
    emptied = await api.http.put(refs_url(1, "payroll.id"), json={"value": ""}, headers=headers)
    assert emptied.status_code == 204, emptied.text
    shown = await api.http.get(refs_url(1), headers=headers)
    assert shown.json() == {"externalReferences": {"HRMID": "H-1b"}}
    deleted = await api.http.delete(refs_url(1, "HRMID"), headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert (await api.http.get(refs_url(1), headers=headers)).json() == {"externalReferences": {}}
    assert_error(await api.http.delete(refs_url(1, "HRMID"), headers=headers), 404)


async def test_a_custom_reference_value_of_another_person_is_409(any_api: Api) -> None:
    """A value another person of the tenant holds for the key answers 409 naming the owner."""
    api = any_api
    headers = await api.headers()
    for person_id in (1, 2):
        await api.put_person(headers, person_id)
    first = await api.http.put(refs_url(1, "HRMID"), json={"value": "H-1"}, headers=headers)
    assert first.status_code == 204, first.text
    again = await api.http.put(refs_url(1, "HRMID"), json={"value": "H-1"}, headers=headers)
    assert again.status_code == 204, again.text
    taken = await api.http.put(refs_url(2, "HRMID"), json={"value": "H-1"}, headers=headers)
    error = assert_error(taken, 409, reasons=True)
    assert "person 1" in reasons_text(error)
    assert (await api.http.get(refs_url(2), headers=headers)).json() == {"externalReferences": {}}
    other_key = await api.http.put(refs_url(2, "LDAP"), json={"value": "H-1"}, headers=headers)
    assert other_key.status_code == 204, other_key.text
    # Uniqueness is per tenant: another tenant may use the same value.
    globex = await api.headers("globex")
    await api.put_person(globex, 2)
    foreign = await api.http.put(refs_url(2, "HRMID"), json={"value": "H-1"}, headers=globex)
    assert foreign.status_code == 204, foreign.text


async def test_custom_references_of_an_unknown_person_are_404(any_api: Api) -> None:
    """GET, PUT and DELETE on the references of a person that does not exist answer 404."""
    api = any_api
    headers = await api.headers()
    assert_error(await api.http.get(refs_url(9), headers=headers), 404)
    assert_error(
        await api.http.put(refs_url(9, "HRMID"), json={"value": "H-9"}, headers=headers), 404
    )
    assert_error(await api.http.put(refs_url(9, "HRMID"), json={"value": ""}, headers=headers), 404)
    assert_error(await api.http.delete(refs_url(9, "HRMID"), headers=headers), 404)
    # A person of another tenant is unknown here too.
    globex = await api.headers("globex")
    await api.put_person(globex, 9)
    assert_error(await api.http.get(refs_url(9), headers=headers), 404)


@pytest.mark.parametrize("key", ["@employee-number", "-lead", "a" * 65])
async def test_an_invalid_custom_reference_key_is_400(api: Api, key: str) -> None:
    """Custom keys that are predefined (``@``) or break the key syntax answer 400 with reasons."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    response = await api.http.put(refs_url(1, key), json={"value": "x"}, headers=headers)
    assert_error(response, 400, reasons=True)


async def test_spaced_and_repeated_external_references_are_accepted(api: Api) -> None:
    """Blanks between references and repeated references are fine; sixteen keys are allowed."""
    headers = await api.headers()
    await seed(api, headers, [record(1, 1, "2025-03-01")])
    spaced = "( people , @badge-number ) (people,@badge-number)  (people,HRMID)"
    response = await api.http.get(f"{WI}/1", params={"externalReferences": spaced}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["person"] == {"id": 1, "externalReferences": {}}
    sixteen = "".join(f"(people,K{i})" for i in range(16))
    response = await api.http.get(
        f"{WI}/1", params={"externalReferences": sixteen}, headers=headers
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", ["v" * 257, "line\nbreak", "tab\there"])
async def test_an_unacceptable_custom_reference_value_is_400(api: Api, value: str) -> None:
    """Values over 256 characters or holding control characters answer 400 with reasons."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    response = await api.http.put(refs_url(1, "HRMID"), json={"value": value}, headers=headers)
    assert_error(response, 400, reasons=True)
    longest = await api.http.put(refs_url(1, "HRMID"), json={"value": "v" * 256}, headers=headers)
    assert longest.status_code == 204, longest.text


# -- URI length ----------------------------------------------------------------------------


async def test_a_uri_over_4096_characters_answers_414_with_a_protime_body(api: Api) -> None:
    """A request URI of 4,097 characters answers 414 with a Protime body; 4,096 is served."""
    headers = await api.headers()
    head = f"{WI}?filter="
    at_limit = head + "x" * (4096 - len(head))
    assert len(at_limit) == 4096
    served = await api.http.get(at_limit, headers=headers)
    assert_error(served, 400)
    over = await api.http.get(at_limit + "x", headers=headers)
    error = assert_error(over, 414, reasons=True)
    assert "4096" in error["message"]
    long_references = await api.http.get(
        WI, params={"filter": MARCH, "externalReferences": "(people,HRMID)" * 300}, headers=headers
    )
    assert_error(long_references, 414)


async def test_a_path_of_exactly_4096_characters_without_query_is_not_414(api: Api) -> None:
    """A 4,096-character URI with no query string is within the limit and is routed (404)."""
    headers = await api.headers()
    prefix = f"{WI}/"
    uri = prefix + "9" * (4096 - len(prefix))
    assert len(uri) == 4096
    assert_error(await api.http.get(uri, headers=headers), 404)
