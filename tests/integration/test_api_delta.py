"""Delta (change tracking) of work interruptions: the initial walk, delta links and tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import API, USER_AGENT, Api, ApiFactory, open_api, work_interruption
from tests.integration.errors_helpers import assert_error, reasons_text
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(90)

WI = f"{API}/work-interruptions"
DELTA = f"{API}/delta/work-interruptions"
MARCH = "date ge '2025-03-01' and date le '2025-03-31'"
DELETE_KEYS = {"changeVersion", "id"}

Document = dict[str, Any]


@pytest.fixture(params=["memory", "sqlite"])
async def paged_api(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """An app with pages of two records, on the in-memory store and on SQLite."""
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/delta.db"
    return await api_factory(Settings.of(database_url=url, page_size=2, master_key=TEST_MASTER_KEY))


def delta_url(filter_text: str = MARCH, **params: str) -> str:
    """The URL that starts change tracking for ``filter_text``."""
    return f"{WI}?{urlencode({'filter': filter_text, **params}, quote_via=quote)}&delta"


def body_of(record_id: int, person_id: int, date: str, minutes: int = 30) -> Document:
    """A work interruption body with an id, a date and a duration."""
    return work_interruption(
        person_id,
        id=record_id,
        date=date,
        durationInMinutes=minutes,
        startTimeInMinutes=600,
        endTimeInMinutes=600 + minutes,
    )


async def put(api: Api, headers: dict[str, str], body: Document) -> Document:
    """Upsert one work interruption through the API; return its document."""
    response = await api.http.put(f"{WI}/{body['id']}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    document: Document = response.json()
    return document


async def remove(api: Api, headers: dict[str, str], record_id: int) -> None:
    """Delete one live work interruption through the API."""
    response = await api.http.delete(f"{WI}/{record_id}", headers=headers)
    assert response.status_code == 204, response.text


async def seed(api: Api, headers: dict[str, str], bodies: list[Document]) -> None:
    """Create the people of ``bodies``, then upsert them in one batch."""
    for person_id in sorted({b["person"]["id"] for b in bodies}):
        await api.put_person(headers, person_id)
    response = await api.http.post(f"{WI}/batch", json={"value": bodies}, headers=headers)
    assert response.status_code == 200, response.text


async def initial_sync(
    api: Api, headers: dict[str, str], url: str
) -> tuple[list[Document], list[Document], str]:
    """Walk a ``?delta`` list to its end; return the items, the pages and the deltaLink."""
    items: list[Document] = []
    pages: list[Document] = []
    link = url
    for _ in range(100):
        response = await api.http.get(link, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items.extend(page["value"])
        if "deltaLink" in page:
            assert "nextLink" not in page, page
            return items, pages, page["deltaLink"]
        link = page["nextLink"]
    raise AssertionError("the delta walk never ended")


async def read_delta(api: Api, headers: dict[str, str], link: str) -> tuple[list[Document], str]:
    """Follow a deltaLink (and any nextLinks) to the next deltaLink; return items and it."""
    items: list[Document] = []
    for _ in range(100):
        response = await api.http.get(link, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["value"])
        assert ("nextLink" in page) != ("deltaLink" in page), page
        if "deltaLink" in page:
            return items, page["deltaLink"]
        link = page["nextLink"]
    raise AssertionError("the delta never ended")


def token_of(link: str, name: str = "deltaToken") -> str:
    """The token query parameter of a link."""
    (token,) = parse_qs(urlsplit(link).query)[name]
    return token


def by_change(items: list[Document]) -> dict[int, Document]:
    """Delta items by record id (each id appears once in a delta)."""
    ids = [item["data"]["id"] for item in items]
    assert len(ids) == len(set(ids)), ids
    return {item["data"]["id"]: item for item in items}


# -- the initial walk and its limits --------------------------------------------------------


async def test_delta_walk_ends_with_a_delta_link_and_no_next_link(paged_api: Api) -> None:
    """A ``?delta`` walk pages like a list; only its last page has a deltaLink and no nextLink."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [body_of(i, 1, f"2025-03-0{i}") for i in range(1, 6)])
    await seed(api, headers, [body_of(9, 1, "2025-04-01")])
    items, pages, link = await initial_sync(api, headers, delta_url())
    assert [r["id"] for r in items] == [1, 2, 3, 4, 5]
    assert [len(p["value"]) for p in pages] == [2, 2, 1]
    for page in pages[:-1]:
        assert "deltaLink" not in page
        next_query = urlsplit(page["nextLink"]).query
        assert "delta" in next_query.split("&")
        assert parse_qs(next_query)["filter"] == [MARCH]
    assert urlsplit(link).path == DELTA
    assert token_of(link)


async def test_an_empty_delta_walk_still_ends_with_a_delta_link(paged_api: Api) -> None:
    """A ``?delta`` walk that selects nothing answers one empty page with a deltaLink."""
    api = paged_api
    headers = await api.headers()
    items, pages, link = await initial_sync(api, headers, delta_url())
    assert items == []
    assert len(pages) == 1
    assert link.startswith(f"{DELTA}?deltaToken=")


async def test_person_cannot_be_used_with_delta(api: Api) -> None:
    """A ``?delta`` filter naming ``person`` answers 400 whose reasons say so; a list accepts it."""
    headers = await api.headers()
    for text in (f"{MARCH} and person eq 1", f"person in (1, 2) and {MARCH}"):
        response = await api.http.get(delta_url(text), headers=headers)
        error = assert_error(response, 400, reasons=True)
        assert "person" in reasons_text(error)
        listed = await api.http.get(WI, params={"filter": text}, headers=headers)
        assert listed.status_code == 200, listed.text


@pytest.mark.parametrize(
    ("start", "allowed"),
    [("2025-01-01", True), ("2024-12-31", False), ("2024-06-01", False), ("2025-06-01", True)],
)
async def test_delta_starts_no_earlier_than_1_january_of_the_previous_year(
    api: Api, start: str, allowed: bool
) -> None:
    """On 2026-01-05 a delta may start on 2025-01-01 but not on 2024-12-31 (400 with reasons)."""
    headers = await api.headers()
    text = f"date ge '{start}' and date le '{start[:4]}-12-31'"
    response = await api.http.get(delta_url(text), headers=headers)
    if allowed:
        assert response.status_code == 200, response.text
        assert "deltaLink" in response.json()
    else:
        error = assert_error(response, 400, reasons=True)
        assert "2025-01-01" in reasons_text(error)
        # The same range is fine for a plain list.
        listed = await api.http.get(WI, params={"filter": text}, headers=headers)
        assert listed.status_code == 200, listed.text


async def test_a_delta_with_only_a_start_date_tracks_every_later_date(api: Api) -> None:
    """``date ge '2025-03-01'&delta`` (no end date, as Protime allows) walks every record from
    that date on and its deltaLink reports changes at any later date."""
    headers = await api.headers()
    await seed(api, headers, [body_of(1, 1, "2025-02-28"), body_of(2, 1, "2025-03-01")])
    await seed(api, headers, [body_of(3, 1, "2026-01-05")])
    items, _, link = await initial_sync(api, headers, delta_url("date ge '2025-03-01'"))
    assert [item["id"] for item in items] == [2, 3]
    await put(api, headers, body_of(4, 1, "2027-06-30"))
    changes = by_change((await read_delta(api, headers, link))[0])
    assert changes[4]["changeType"] == "InsertOrUpdate"


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("date ge '2025-03-01' and date le '2026-02-28'", True),
        ("date ge '2025-03-01' and date le '2026-03-01'", False),
    ],
)
async def test_a_delta_end_date_is_at_most_one_year_after_the_start(
    api: Api, text: str, accepted: bool
) -> None:
    """When a delta gives an end date, the range is at most one year (400 beyond)."""
    headers = await api.headers()
    response = await api.http.get(delta_url(text), headers=headers)
    if accepted:
        assert response.status_code == 200, response.text
    else:
        error = assert_error(response, 400, reasons=True)
        assert "longer than one year" in reasons_text(error)


@pytest.mark.parametrize("start", ["2026-01-06", "2027-01-01"])
async def test_a_delta_start_date_in_the_future_is_400(api: Api, start: str) -> None:
    """On 2026-01-05 a delta starting on a later date answers 400: it must start in the past."""
    headers = await api.headers()
    response = await api.http.get(delta_url(f"date ge '{start}'"), headers=headers)
    error = assert_error(response, 400, reasons=True)
    assert "in the past" in reasons_text(error)
    today = await api.http.get(delta_url("date ge '2026-01-05'"), headers=headers)
    assert today.status_code == 200, today.text


async def test_delta_needs_the_read_scope(api: Api) -> None:
    """Both the ``?delta`` walk and the deltaLink answer 401 without the read scope."""
    headers = await api.headers()
    _, _, link = await initial_sync(api, headers, delta_url())
    weak = await api.headers(scopes=[s for s in Scope if s is not Scope.WORK_INTERRUPTIONS_READ])
    assert_error(await api.http.get(delta_url(), headers=weak), 401)
    assert_error(await api.http.get(link, headers=weak), 401)
    assert_error(await api.http.get(link, headers={"User-Agent": USER_AGENT}), 401)


# -- delta answers -----------------------------------------------------------------------


async def test_a_delta_without_changes_is_empty_with_a_fresh_delta_link(paged_api: Api) -> None:
    """Calling a deltaLink when nothing changed answers ``value: []`` and a working deltaLink."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [body_of(1, 1, "2025-03-01")])
    _, _, link = await initial_sync(api, headers, delta_url())
    api.clock.advance(60)
    response = await api.http.get(link, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["value"] == []
    assert "nextLink" not in body
    fresh = body["deltaLink"]
    assert fresh.startswith(f"{DELTA}?deltaToken=")
    assert fresh != link
    again = await api.http.get(fresh, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["value"] == []


async def test_delta_items_after_upserts_and_deletes(paged_api: Api) -> None:
    """A delta has full ``InsertOrUpdate`` records and ``Delete`` items of changeVersion and id."""
    api = paged_api
    headers = await api.headers()
    await seed(
        api,
        headers,
        [
            body_of(1, 1, "2025-03-01"),
            body_of(2, 1, "2025-03-02"),
            body_of(3, 2, "2025-03-03"),
            body_of(4, 2, "2025-03-04"),
        ],
    )
    _, _, link = await initial_sync(api, headers, delta_url())
    updated = await put(api, headers, body_of(1, 1, "2025-03-01", minutes=45))
    inserted = await put(api, headers, body_of(5, 2, "2025-03-20"))
    await remove(api, headers, 2)
    await put(api, headers, body_of(3, 2, "2025-04-02"))  # moved out of the range
    items, fresh = await read_delta(api, headers, link)
    changes = by_change(items)
    assert set(changes) == {1, 2, 3, 5}
    assert changes[1] == {"changeType": "InsertOrUpdate", "data": updated}
    assert changes[5] == {"changeType": "InsertOrUpdate", "data": inserted}
    for gone in (2, 3):
        assert changes[gone]["changeType"] == "Delete"
        assert set(changes[gone]["data"]) == DELETE_KEYS
    versions = [item["data"]["changeVersion"] for item in items]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    # Each full record is what GET answers now.
    for record_id in (1, 5):
        current = await api.http.get(f"{WI}/{record_id}", headers=headers)
        assert current.json() == changes[record_id]["data"]
    # The fresh link starts after these changes.
    assert (await read_delta(api, headers, fresh))[0] == []


async def test_a_record_created_outside_the_range_is_never_inserted(paged_api: Api) -> None:
    """A record written only outside the delta's date range never comes as ``InsertOrUpdate``."""
    api = paged_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    _, _, link = await initial_sync(api, headers, delta_url())
    await put(api, headers, body_of(8, 1, "2025-05-01"))
    items, _ = await read_delta(api, headers, link)
    assert all(item["changeType"] == "Delete" for item in items), items


async def test_a_large_delta_pages_with_next_links_then_a_delta_link(paged_api: Api) -> None:
    """A delta with more changes than a page answers nextLinks (no deltaLink) and ends with one."""
    api = paged_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    _, _, link = await initial_sync(api, headers, delta_url())
    for i in range(1, 6):
        await put(api, headers, body_of(i, 1, f"2025-03-1{i}"))
    first = (await api.http.get(link, headers=headers)).json()
    assert len(first["value"]) == 2
    assert "deltaLink" not in first
    assert urlsplit(first["nextLink"]).path == DELTA
    items, _ = await read_delta(api, headers, link)
    assert [item["data"]["id"] for item in items] == [1, 2, 3, 4, 5]


async def test_delta_items_carry_the_external_references_of_the_initial_request(
    paged_api: Api,
) -> None:
    """References asked for when the sync started are rendered in the later delta's records."""
    api = paged_api
    headers = await api.headers()
    await api.put_person(headers, 1)
    refs = "(people,@employee-number)"
    url = delta_url(externalReferences=refs)
    _, _, link = await initial_sync(api, headers, url)
    person = await api.http.put(f"{API}/people/1", json={"employeeNumber": "E-1"}, headers=headers)
    assert person.status_code == 200, person.text
    await put(api, headers, body_of(1, 1, "2025-03-01"))
    items, _ = await read_delta(api, headers, link)
    assert items[0]["data"]["person"] == {
        "id": 1,
        "externalReferences": {"@employee-number": "E-1"},
    }


async def test_changes_made_during_the_initial_walk_appear_in_the_first_delta(
    paged_api: Api,
) -> None:
    """Records changed between pages of the ``?delta`` walk all come in the first delta."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [body_of(i, 1, f"2025-03-1{i}") for i in range(1, 6)])
    first = await api.http.get(delta_url(), headers=headers)
    assert [r["id"] for r in first.json()["value"]] == [1, 2]
    # Behind the cursor (would be missed by the walk), ahead of it, and deleted ahead of it.
    early = await put(api, headers, body_of(6, 1, "2025-03-01"))
    seen = await put(api, headers, body_of(1, 1, "2025-03-11", minutes=50))
    await remove(api, headers, 4)
    items, _, link = await initial_sync(api, headers, first.json()["nextLink"])
    assert [r["id"] for r in items] == [3, 5]
    changes = by_change((await read_delta(api, headers, link))[0])
    assert changes[6] == {"changeType": "InsertOrUpdate", "data": early}
    assert changes[1] == {"changeType": "InsertOrUpdate", "data": seen}
    assert changes[4]["changeType"] == "Delete"
    assert set(changes[4]["data"]) == DELETE_KEYS


# -- delta tokens ------------------------------------------------------------------------


async def test_a_delta_token_unused_for_more_than_72_hours_answers_410(api: Api) -> None:
    """A deltaLink first used 72 hours and one second after it was issued answers 410."""
    headers = await api.headers()
    _, _, link = await initial_sync(api, headers, delta_url())
    api.clock.advance(dt.timedelta(hours=72, seconds=1))
    headers = await api.headers()  # access tokens only last 1800 s
    error = assert_error(await api.http.get(link, headers=headers), 410, reasons=True)
    assert error["code"] == "DeltaTokenExpired"
    assert "start a new delta" in error["message"]
    # A new full sync starts a new, working chain.
    _, _, fresh = await initial_sync(api, headers, delta_url())
    assert (await api.http.get(fresh, headers=headers)).status_code == 200


async def test_a_delta_chain_used_within_72_hours_keeps_working(api: Api) -> None:
    """Each use restarts the 72 hours: links used every 71 hours stay valid for days."""
    headers = await api.headers()
    await api.put_person(headers, 1)
    _, _, link = await initial_sync(api, headers, delta_url())
    for day in range(4):
        api.clock.advance(dt.timedelta(hours=71))
        headers = await api.headers()
        await put(api, headers, body_of(1, 1, f"2025-03-0{day + 1}"))
        items, link = await read_delta(api, headers, link)
        assert [item["data"]["date"] for item in items] == [f"2025-03-0{day + 1}"]
    api.clock.advance(dt.timedelta(hours=72))
    headers = await api.headers()
    assert (await api.http.get(link, headers=headers)).status_code == 200


def assert_bad_delta_token(response: httpx.Response) -> None:
    """A 400 ``InvalidDeltaToken`` whose message tells the client to start a new delta."""
    error = assert_error(response, 400, code="InvalidDeltaToken", reasons=True)
    assert "start a new delta" in error["message"]
    assert "deltaToken" in reasons_text(error)


async def test_tampered_and_foreign_delta_tokens_answer_400(api: Api) -> None:
    """Altered, foreign-tenant or wrong-purpose delta tokens answer 400 ``InvalidDeltaToken``
    (not the 409 of continuation tokens), telling the client to start a new delta."""
    acme = await api.headers("acme")
    globex = await api.headers("globex")
    await seed(api, acme, [body_of(1, 1, "2025-03-01"), body_of(2, 1, "2025-03-02")])
    _, _, link = await initial_sync(api, acme, delta_url())
    token = token_of(link)
    body, _, mac = token.partition(".")
    changed_body = ("x" if body[0] != "x" else "y") + body[1:]
    for bad in (f"{changed_body}.{mac}", f"{body}.{mac[::-1]}", token[:-3], "", "a.b"):
        response = await api.http.get(DELTA, params={"deltaToken": bad}, headers=acme)
        assert_bad_delta_token(response)
    # No token at all is a missing parameter: a client error either way, never a delta.
    assert (await api.http.get(DELTA, headers=acme)).status_code == 400
    assert_bad_delta_token(await api.http.get(link, headers=globex))
    # A delta token is no continuation token, and the other way round.
    as_continuation = await api.http.get(
        WI, params={"filter": MARCH, "continuationToken": token}, headers=acme
    )
    assert_error(as_continuation, 409)
    assert (await api.http.get(link, headers=acme)).status_code == 200


async def test_a_continuation_token_is_not_a_delta_token(paged_api: Api) -> None:
    """The continuation token of a ``?delta`` walk presented as a deltaToken answers 400."""
    api = paged_api
    headers = await api.headers()
    await seed(api, headers, [body_of(i, 1, f"2025-03-0{i}") for i in range(1, 4)])
    first = (await api.http.get(delta_url(), headers=headers)).json()
    continuation = token_of(first["nextLink"], "continuationToken")
    response = await api.http.get(DELTA, params={"deltaToken": continuation}, headers=headers)
    assert_bad_delta_token(response)


# -- delta equivalence (property) ---------------------------------------------------------


@dataclass(frozen=True)
class Upsert:
    """Write work interruption ``record_id`` with this person, date and duration."""

    record_id: int
    person_id: int
    date: str
    minutes: int


@dataclass(frozen=True)
class Delete:
    """Delete work interruption ``record_id`` (a no-op when it is not live)."""

    record_id: int


Operation = Upsert | Delete

# Inside March and on its edges, plus dates on both sides of the range.
DATES = ["2025-02-28", "2025-03-01", "2025-03-05", "2025-03-05", "2025-03-31", "2025-04-01"]
operations = st.lists(
    st.one_of(
        st.builds(
            Upsert,
            record_id=st.integers(1, 6),
            person_id=st.integers(1, 2),
            date=st.sampled_from(DATES),
            minutes=st.integers(1, 90),
        ),
        st.builds(Delete, record_id=st.integers(1, 6)),
    ),
    max_size=8,
)


async def apply(api: Api, headers: dict[str, str], ops: list[Operation]) -> None:
    """Apply operations through the API; deleting a record that is not live answers 404."""
    for op in ops:
        if isinstance(op, Upsert):
            await put(api, headers, body_of(op.record_id, op.person_id, op.date, op.minutes))
        else:
            response = await api.http.delete(f"{WI}/{op.record_id}", headers=headers)
            assert response.status_code in (204, 404), response.text


def keep_newest(state: dict[int, Document], document: Document) -> None:
    """Hold ``document`` unless a newer version of the same id is held (consumer rule)."""
    held = state.get(document["id"])
    if held is None or held["changeVersion"] < document["changeVersion"]:
        state[document["id"]] = document


def apply_delta(state: dict[int, Document], items: list[Document]) -> None:
    """``InsertOrUpdate`` replaces the record; ``Delete`` removes it."""
    for item in items:
        if item["changeType"] == "InsertOrUpdate":
            state[item["data"]["id"]] = item["data"]
        else:
            assert item["changeType"] == "Delete", item
            assert set(item["data"]) == DELETE_KEYS, item
            state.pop(item["data"]["id"], None)


async def synced_snapshot(
    api: Api, headers: dict[str, str], during: list[list[Operation]]
) -> tuple[dict[int, Document], str]:
    """Walk ``?delta``, applying one batch of ``during`` after each page that has a nextLink."""
    state: dict[int, Document] = {}
    pending = list(during)
    link = delta_url()
    for _ in range(100):
        response = await api.http.get(link, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        for document in page["value"]:
            keep_newest(state, document)
        if "deltaLink" in page:
            for batch in pending:
                await apply(api, headers, batch)
            return state, page["deltaLink"]
        if pending:
            await apply(api, headers, pending.pop(0))
        link = page["nextLink"]
    raise AssertionError("the delta walk never ended")


async def current_state(api: Api, headers: dict[str, str]) -> dict[int, Document]:
    """The records a fresh (non-delta) list with the same filter returns, by id."""
    state: dict[int, Document] = {}
    response = await api.http.get(WI, params={"filter": MARCH}, headers=headers)
    for _ in range(100):
        assert response.status_code == 200, response.text
        page = response.json()
        for document in page["value"]:
            assert document["id"] not in state, document
            state[document["id"]] = document
        if "nextLink" not in page:
            return state
        response = await api.http.get(page["nextLink"], headers=headers)
    raise AssertionError("the list never ended")


def model_ids(ops: list[Operation]) -> set[int]:
    """The ids a list of March returns after ``ops``, by a plain dictionary model."""
    live: dict[int, str] = {}
    for op in ops:
        if isinstance(op, Upsert):
            live[op.record_id] = op.date
        else:
            live.pop(op.record_id, None)
    return {i for i, date in live.items() if "2025-03-01" <= date <= "2025-03-31"}


async def delta_equivalence(
    before: list[Operation],
    during: list[list[Operation]],
    after: list[Operation],
    later: list[Operation],
) -> None:
    """Sync, change, apply delta items; the result must equal a fresh list, twice over."""
    async with open_api(Settings.of(database_url="memory://", page_size=2)) as api:
        headers = await api.headers()
        for person_id in (1, 2):
            await api.put_person(headers, person_id)
        await apply(api, headers, before)
        state, link = await synced_snapshot(api, headers, during)
        await apply(api, headers, after)
        items, link = await read_delta(api, headers, link)
        apply_delta(state, items)
        assert state == await current_state(api, headers)
        every = before + [op for batch in during for op in batch] + after
        assert set(state) == model_ids(every)
        await apply(api, headers, later)
        items, _ = await read_delta(api, headers, link)
        apply_delta(state, items)
        assert state == await current_state(api, headers)
        assert set(state) == model_ids(every + later)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=operations,
    during=st.lists(operations, max_size=4),
    after=operations,
    later=operations,
)
def test_delta_items_applied_to_the_snapshot_give_the_current_state(
    before: list[Operation],
    during: list[list[Operation]],
    after: list[Operation],
    later: list[Operation],
) -> None:
    """Snapshot plus delta items (replace/remove) equals a fresh list, whatever changed when."""
    asyncio.run(delta_equivalence(before, during, after, later))


async def test_a_missing_delta_token_is_a_protime_error_naming_the_parameter(api: Api) -> None:
    """Without ``deltaToken`` the delta answers 400 with an error body whose reason names it."""
    headers = await api.headers()
    answer = await api.http.get(f"{API}/delta/work-interruptions", headers=headers)
    error = assert_error(answer, 400, code="InvalidRequest", reasons=True)
    assert "deltaToken" in reasons_text(error)
