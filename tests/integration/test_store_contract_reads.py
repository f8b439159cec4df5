"""The storage contract for reads: listing work interruptions and external references.

Each test takes the ``store`` fixture (``tests/integration/conftest.py``), so it runs on
``InMemoryStore`` and on ``SqliteStore`` over a real file, and the fake used by the unit
tests is held to exactly the behaviour of the real store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.store_helpers import draft, must_get_webhook, new_webhook, seed_people
from tests.postgres import reset_database
from workhooks.domain.external_references import (
    BADGE_NUMBER,
    EMPLOYEE_NUMBER,
    parse_external_references,
)
from workhooks.domain.reads import WorkInterruptionFilter, WorkInterruptionQuery
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.errors import ConflictError
from workhooks.storage.memory import InMemoryStore
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests

pytestmark = pytest.mark.timeout(120)

DAY0 = dt.date(2024, 3, 1)


def dated(
    record_id: int, person_id: int = 1, day: int = 0, *, minutes: int = 60
) -> WorkInterruptionDraft:
    """A valid draft on ``DAY0`` plus ``day`` days; ``minutes`` tells look-alikes apart."""
    return dataclasses.replace(
        draft(record_id, person_id, minutes=minutes), date=DAY0 + dt.timedelta(days=day)
    )


def query(
    first: int = 0,
    last: int = 30,
    *,
    people: Iterable[int] | None = None,
    after: tuple[dt.date, int] | None = None,
    limit: int = 10_000,
) -> WorkInterruptionQuery:
    """A query for days ``first``..``last`` after ``DAY0`` (inclusive), optionally on people."""
    return WorkInterruptionQuery(
        selection=WorkInterruptionFilter(
            date_from=DAY0 + dt.timedelta(days=first),
            date_to=DAY0 + dt.timedelta(days=last),
            person_ids=None if people is None else frozenset(people),
        ),
        after=after,
        limit=limit,
    )


async def ids(store: Store, q: WorkInterruptionQuery, tenant: str = "acme") -> list[int]:
    """The ids of one page of ``q``."""
    return [r.id for r in await store.list_work_interruptions(tenant, q)]


# -- list_work_interruptions -----------------------------------------------------------------


async def test_list_selects_the_date_range_with_both_ends_included(store: Store) -> None:
    """Records on the first and last day of the range are listed, those just outside are not."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions(
        "acme", [dated(1, day=4), dated(2, day=5), dated(3, day=7), dated(4, day=8)]
    )
    assert await ids(store, query(5, 7)) == [2, 3]
    assert await ids(store, query(4, 4)) == [1]
    assert await ids(store, query(9, 20)) == []


async def test_list_returns_the_records_as_stored(store: Store) -> None:
    """Listed records equal what ``get_work_interruption`` returns for them."""
    await seed_people(store, "acme", 1, 2)
    await store.put_work_interruptions("acme", [dated(1, 1, 2), dated(2, 2, 3)])
    listed = await store.list_work_interruptions("acme", query())
    assert listed == [await store.get_work_interruption("acme", i) for i in (1, 2)]
    assert all(not r.deleted for r in listed)


async def test_list_narrows_on_people(store: Store) -> None:
    """With people chosen only their records are listed; an empty choice lists nothing."""
    await seed_people(store, "acme", 1, 2, 3)
    await store.put_work_interruptions("acme", [dated(1, 1), dated(2, 2), dated(3, 3), dated(4, 1)])
    assert await ids(store, query(people={1, 3})) == [1, 3, 4]
    assert await ids(store, query(people={2})) == [2]
    assert await ids(store, query(people={99})) == []
    assert await ids(store, query(people=set())) == []
    assert await ids(store, query()) == [1, 2, 3, 4]


async def test_list_is_ordered_by_date_then_id(store: Store) -> None:
    """Records come by date, and by id within a date, whatever the write order."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions(
        "acme",
        [dated(9, day=1), dated(3, day=2), dated(7, day=1), dated(1, day=3), dated(2, day=2)],
    )
    assert await ids(store, query()) == [7, 9, 2, 3, 1]


async def test_list_follows_a_date_change(store: Store) -> None:
    """A record moved to another date is listed at its new place only."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [dated(1, day=1), dated(2, day=2)])
    await store.put_work_interruptions("acme", [dated(1, day=3)])
    assert await ids(store, query()) == [2, 1]
    assert await ids(store, query(0, 1)) == []


async def test_list_honours_the_limit(store: Store) -> None:
    """``limit`` caps the page at the first records in order."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [dated(i, day=i % 3) for i in range(1, 8)])
    assert await ids(store, query(limit=3)) == [3, 6, 1]
    assert await ids(store, query(limit=1)) == [3]
    assert len(await ids(store, query(limit=100))) == 7


async def test_keyset_pages_are_gapless_and_do_not_overlap(store: Store) -> None:
    """Walking pages with ``after`` set to the last key gives every record once, in order."""
    await seed_people(store, "acme", 1, 2)
    await store.put_work_interruptions(
        "acme", [dated(i, 1 + i % 2, day=(i * 7) % 5) for i in range(1, 24)]
    )
    everything = await store.list_work_interruptions("acme", query())
    for size in (1, 2, 3, 5, 23, 24):
        walked: list[WorkInterruption] = []
        after: tuple[dt.date, int] | None = None
        while True:
            page = await store.list_work_interruptions("acme", query(after=after, limit=size))
            walked += page
            if len(page) < size:
                break
            after = (page[-1].date, page[-1].id)
        assert walked == everything


async def test_keyset_after_is_exclusive_and_compares_date_before_id(store: Store) -> None:
    """``after`` skips its own key and everything before it, comparing date first."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions(
        "acme", [dated(5, day=1), dated(2, day=2), dated(8, day=2), dated(1, day=3)]
    )
    day2 = DAY0 + dt.timedelta(days=2)
    assert await ids(store, query(after=(day2, 2))) == [8, 1]
    assert await ids(store, query(after=(day2, 3))) == [8, 1]
    assert await ids(store, query(after=(day2, 8))) == [1]
    assert await ids(store, query(after=(DAY0, 999))) == [5, 2, 8, 1]
    assert await ids(store, query(after=(day2 + dt.timedelta(days=5), 0))) == []


async def test_list_excludes_tombstones_and_shows_recreated_records(store: Store) -> None:
    """Deleted records are not listed; a record written again after its delete is."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [dated(1), dated(2), dated(3)])
    await store.delete_work_interruption("acme", 2)
    await store.delete_work_interruption("acme", 3)
    await store.put_work_interruptions("acme", [dated(3, day=1)])
    assert await ids(store, query()) == [1, 3]


async def test_list_is_tenant_scoped(store: Store) -> None:
    """Another tenant's records, even with the same ids and dates, are never listed."""
    await seed_people(store, "acme", 1)
    await seed_people(store, "globex", 1)
    await store.put_work_interruptions("acme", [dated(1)])
    await store.put_work_interruptions("globex", [dated(1), dated(2)])
    listed = await store.list_work_interruptions("acme", query())
    assert listed == [await store.get_work_interruption("acme", 1)]
    assert await ids(store, query(), tenant="globex") == [1, 2]
    assert await ids(store, query(), tenant="initech") == []


# -- references_for --------------------------------------------------------------------------


async def test_references_for_gives_predefined_and_custom_values(store: Store) -> None:
    """``@badge-number``/``@employee-number`` come from the person, custom keys as set."""
    await store.put_people(
        "acme",
        [
            PersonDraft(id=1, badge_number="B-1", employee_number="E-0001"),
            PersonDraft(id=2, employee_number="E-0002"),
        ],
    )
    assert await store.set_custom_reference("acme", 1, "HRMID", "hr-1")
    found = await store.references_for("acme", [1, 2], [BADGE_NUMBER, EMPLOYEE_NUMBER, "HRMID"])
    assert found == {
        1: {BADGE_NUMBER: "B-1", EMPLOYEE_NUMBER: "E-0001", "HRMID": "hr-1"},
        2: {EMPLOYEE_NUMBER: "E-0002"},
    }


async def test_references_for_gives_only_the_requested_keys(store: Store) -> None:
    """Keys not asked for stay out, predefined or custom."""
    await store.put_people("acme", [PersonDraft(id=1, badge_number="B-1", employee_number="E-1")])
    await store.set_custom_reference("acme", 1, "HRMID", "hr-1")
    await store.set_custom_reference("acme", 1, "SAP", "sap-1")
    assert await store.references_for("acme", [1], [EMPLOYEE_NUMBER]) == {
        1: {EMPLOYEE_NUMBER: "E-1"}
    }
    assert await store.references_for("acme", [1], ["SAP"]) == {1: {"SAP": "sap-1"}}
    assert await store.references_for("acme", [1], []) == {1: {}}


async def test_references_for_leaves_out_empty_and_missing_values(store: Store) -> None:
    """A person without a value (None or empty) for a key simply lacks that key."""
    await store.put_people(
        "acme",
        [PersonDraft(id=1, badge_number="", employee_number=None), PersonDraft(id=2)],
    )
    await store.set_custom_reference("acme", 1, "EMPTY", "")
    found = await store.references_for("acme", [1, 2], [BADGE_NUMBER, EMPLOYEE_NUMBER, "EMPTY"])
    assert found == {1: {}, 2: {}}


async def test_references_for_omits_unknown_deleted_and_foreign_people(store: Store) -> None:
    """Only live people of the tenant appear; others are left out, not given empty maps."""
    await store.put_people("acme", [PersonDraft(id=1, badge_number="B-1"), PersonDraft(id=2)])
    await store.put_people("globex", [PersonDraft(id=3, badge_number="G-3")])
    await store.delete_person("acme", 2)
    found = await store.references_for("acme", [1, 2, 3, 404], [BADGE_NUMBER])
    assert found == {1: {BADGE_NUMBER: "B-1"}}
    assert await store.references_for("acme", [], [BADGE_NUMBER]) == {}


async def test_references_for_follows_a_person_update(store: Store) -> None:
    """Predefined values are read from the person's current fields."""
    await store.put_people("acme", [PersonDraft(id=1, badge_number="B-old")])
    await store.put_people("acme", [PersonDraft(id=1, badge_number="B-new")])
    assert await store.references_for("acme", [1], [BADGE_NUMBER]) == {1: {BADGE_NUMBER: "B-new"}}


# -- custom references -----------------------------------------------------------------------


async def test_custom_references_set_get_overwrite_and_delete(store: Store) -> None:
    """A custom reference can be set, read, overwritten and removed once."""
    await seed_people(store, "acme", 1)
    assert await store.get_custom_references("acme", 1) == {}
    assert await store.set_custom_reference("acme", 1, "HRMID", "a")
    assert await store.set_custom_reference("acme", 1, "SAP", "s")
    assert await store.get_custom_references("acme", 1) == {"HRMID": "a", "SAP": "s"}
    assert await store.set_custom_reference("acme", 1, "HRMID", "b")
    assert await store.get_custom_references("acme", 1) == {"HRMID": "b", "SAP": "s"}
    assert await store.delete_custom_reference("acme", 1, "HRMID")
    assert not await store.delete_custom_reference("acme", 1, "HRMID")
    assert not await store.delete_custom_reference("acme", 1, "NEVER")
    assert await store.get_custom_references("acme", 1) == {"SAP": "s"}


async def test_custom_references_of_unknown_people(store: Store) -> None:
    """Unknown people have no references: get gives None, set and delete give False."""
    await seed_people(store, "globex", 1)
    assert await store.get_custom_references("acme", 1) is None
    assert not await store.set_custom_reference("acme", 1, "HRMID", "a")
    assert not await store.delete_custom_reference("acme", 1, "HRMID")
    assert await store.get_custom_references("globex", 1) == {}


async def test_custom_value_held_by_another_person_is_a_conflict(store: Store) -> None:
    """A value another person of the tenant holds for the key raises ``ConflictError``."""
    await seed_people(store, "acme", 1, 2)
    await store.set_custom_reference("acme", 1, "HRMID", "hr-1")
    with pytest.raises(ConflictError) as caught:
        await store.set_custom_reference("acme", 2, "HRMID", "hr-1")
    assert caught.value.reasons == ("HRMID: 'hr-1' already belongs to person 1",)
    assert await store.get_custom_references("acme", 2) == {}
    assert await store.get_custom_references("acme", 1) == {"HRMID": "hr-1"}


async def test_same_value_is_fine_for_the_same_person_another_key_or_tenant(store: Store) -> None:
    """Uniqueness is per tenant and key: other keys, tenants and the holder itself may reuse it."""
    await seed_people(store, "acme", 1, 2)
    await seed_people(store, "globex", 2)
    await store.set_custom_reference("acme", 1, "HRMID", "x")
    assert await store.set_custom_reference("acme", 1, "HRMID", "x")
    assert await store.set_custom_reference("acme", 2, "SAP", "x")
    assert await store.set_custom_reference("acme", 1, "SAP2", "x")
    assert await store.set_custom_reference("globex", 2, "HRMID", "x")
    assert await store.get_custom_references("acme", 2) == {"SAP": "x"}
    assert await store.get_custom_references("globex", 2) == {"HRMID": "x"}


async def test_a_value_freed_by_overwrite_or_delete_can_be_taken(store: Store) -> None:
    """Once its holder changes or removes a value, another person may take it."""
    await seed_people(store, "acme", 1, 2, 3)
    await store.set_custom_reference("acme", 1, "HRMID", "a")
    await store.set_custom_reference("acme", 1, "HRMID", "b")
    assert await store.set_custom_reference("acme", 2, "HRMID", "a")
    await store.delete_custom_reference("acme", 1, "HRMID")
    assert await store.set_custom_reference("acme", 3, "HRMID", "b")


async def test_deleting_a_person_removes_its_references(store: Store) -> None:
    """A deleted person loses its references, frees their values, and comes back without them."""
    await seed_people(store, "acme", 1, 2)
    await store.set_custom_reference("acme", 1, "HRMID", "a")
    assert await store.delete_person("acme", 1) is not None
    assert await store.get_custom_references("acme", 1) is None
    assert await store.references_for("acme", [1], ["HRMID"]) == {}
    assert await store.set_custom_reference("acme", 2, "HRMID", "a")
    await seed_people(store, "acme", 1)
    assert await store.get_custom_references("acme", 1) == {}


async def test_custom_references_are_tenant_scoped(store: Store) -> None:
    """A person id in another tenant neither sees nor changes the references of this one."""
    await seed_people(store, "acme", 1)
    await seed_people(store, "globex", 1)
    await store.set_custom_reference("acme", 1, "HRMID", "a")
    assert await store.get_custom_references("globex", 1) == {}
    assert not await store.delete_custom_reference("globex", 1, "HRMID")
    assert await store.get_custom_references("acme", 1) == {"HRMID": "a"}
    assert await store.references_for("globex", [1], ["HRMID"]) == {1: {}}


# -- webhooks keep their references ----------------------------------------------------------


async def test_webhooks_keep_their_external_references(store: Store) -> None:
    """A webhook's external references survive create, get and list, in their order."""
    refs = parse_external_references("(people,HRMID)(people,@employee-number)")
    created = await store.create_webhook(
        dataclasses.replace(new_webhook("with"), external_references=refs)
    )
    plain = await store.create_webhook(new_webhook("without"))
    assert created.external_references == refs
    assert plain.external_references == ()
    assert (await must_get_webhook(store, "acme", "with")).external_references == refs
    listed = {w.id: w.external_references for w in await store.list_webhooks("acme")}
    assert listed == {"with": refs, "without": ()}


# -- paging under concurrent writes ----------------------------------------------------------

TENANT = "acme"
PEOPLE = (1, 2, 3)
WINDOW = 10  # records are dated DAY0 .. DAY0 + WINDOW days
RECORD = st.tuples(st.sampled_from(PEOPLE), st.integers(min_value=0, max_value=WINDOW))
WRITE_BUDGET = 30  # writes per walk, so every walk ends


def _key(record: WorkInterruption) -> tuple[dt.date, int]:
    return (record.date, record.id)


class _PagingModel:
    """The live records as the test believes them to be, and which ids it may still touch."""

    def __init__(self, selection: WorkInterruptionFilter) -> None:
        self.selection = selection
        self.live: dict[int, WorkInterruption] = {}
        self.protected: set[int] = set()  # matched at the start, or already returned
        self.known: set[int] = set()  # every id ever written, live or not
        self.next_id = 1000

    def expected_page(self, after: tuple[dt.date, int] | None, limit: int) -> list[int]:
        selected = sorted(
            (
                r
                for r in self.live.values()
                if self.selection.matches(date=r.date, person_id=r.person_id)
                and (after is None or _key(r) > after)
            ),
            key=_key,
        )
        return [r.id for r in selected[:limit]]

    def touchable(self) -> list[int]:
        return sorted(self.known - self.protected)


async def _one_write(store: Store, model: _PagingModel, data: st.DataObject) -> None:
    """Insert a new record, or update or delete one that is neither protected nor seen."""
    kinds = ["insert"] + (["update", "delete"] if model.touchable() else [])
    kind = data.draw(st.sampled_from(kinds), label="write")
    if kind == "delete":
        target = data.draw(st.sampled_from(model.touchable()), label="delete")
        await store.delete_work_interruption(TENANT, target)
        model.live.pop(target, None)
        return
    if kind == "insert":
        target = model.next_id
        model.next_id += 1
    else:
        target = data.draw(st.sampled_from(model.touchable()), label="update")
    person, day = data.draw(RECORD, label=kind)
    (written,) = await store.put_work_interruptions(TENANT, [dated(target, person, day)])
    model.live[target] = written.record
    model.known.add(target)


async def _walk_pages_under_writes(store: Store, data: st.DataObject) -> None:
    """Seed, then walk keyset pages while writing other records in between; check each page."""
    await seed_people(store, TENANT, *PEOPLE)
    await seed_people(store, "globex", *PEOPLE)
    initial = data.draw(
        st.dictionaries(st.integers(min_value=1, max_value=60), RECORD, max_size=25),
        label="initial",
    )
    drafts = [dated(i, person, day) for i, (person, day) in initial.items()]
    first = data.draw(st.integers(min_value=0, max_value=WINDOW), label="first")
    last = data.draw(st.integers(min_value=first, max_value=WINDOW), label="last")
    people = data.draw(st.none() | st.frozensets(st.sampled_from(PEOPLE), min_size=1))
    selection = query(first, last, people=people).selection
    model = _PagingModel(selection)
    if drafts:
        # Look-alikes in another tenant: same ids and dates, other durations.
        await store.put_work_interruptions(
            "globex", [dated(i, person, day, minutes=7) for i, (person, day) in initial.items()]
        )
        for written in await store.put_work_interruptions(TENANT, drafts):
            model.live[written.record.id] = written.record
    model.known = set(model.live)
    start = model.expected_page(None, len(model.live) + 1)
    model.protected = set(start)

    returned: list[WorkInterruption] = []
    after: tuple[dt.date, int] | None = None
    budget = WRITE_BUDGET
    for _ in range(200):
        limit = data.draw(st.integers(min_value=1, max_value=5), label="page size")
        q = WorkInterruptionQuery(selection=selection, after=after, limit=limit)
        page = await store.list_work_interruptions(TENANT, q)
        assert [r.id for r in page] == model.expected_page(after, limit)
        assert all(r == model.live[r.id] for r in page)
        returned += page
        model.protected.update(r.id for r in page)
        if len(page) < limit:
            break
        after = _key(page[-1])
        writes = data.draw(st.integers(min_value=0, max_value=min(3, budget)), label="writes")
        budget -= writes
        for _ in range(writes):
            await _one_write(store, model, data)
    else:
        pytest.fail("the walk did not end")

    returned_ids = [r.id for r in returned]
    assert len(returned_ids) == len(set(returned_ids)), "a record was returned twice"
    assert [_key(r) for r in returned] == sorted(_key(r) for r in returned)
    start_set = set(start)
    assert [i for i in returned_ids if i in start_set] == start


def _run_paging(make_store: Callable[[], Store], data: st.DataObject) -> None:
    """Open a fresh store, walk pages under writes on it, and close it."""

    async def scenario() -> None:
        store = make_store()
        await store.open()
        try:
            await _walk_pages_under_writes(store, data)
        finally:
            await store.close()

    asyncio.run(scenario())


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_paging_under_concurrent_writes_in_memory(data: st.DataObject) -> None:
    """In memory, records matching at the start appear once, in order, despite other writes."""
    _run_paging(InMemoryStore, data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_paging_under_concurrent_writes_in_sqlite(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """On SQLite, records matching at the start appear once, in order, despite other writes."""
    path = tmp_path_factory.mktemp("paging") / "store.db"
    _run_paging(lambda: SqliteStore(str(path), sealer=sealer_for_tests()), data)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_paging_under_concurrent_writes_on_postgres(
    postgres_database: str, data: st.DataObject
) -> None:
    """On PostgreSQL, records matching at the start appear once, in order, despite other writes."""
    asyncio.run(reset_database(postgres_database))
    _run_paging(lambda: PostgresStore(postgres_database, sealer=sealer_for_tests()), data)
