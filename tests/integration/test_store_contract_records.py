"""The storage contract for records: change versions, writes, deletes and the change log.

Each test takes the ``store`` fixture (``tests/integration/conftest.py``), so it runs on
``InMemoryStore`` and on ``SqliteStore`` over a real file, and the fake used by the unit
tests is held to exactly the behaviour of the real store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.store_helpers import ALL, draft, seed_people
from tests.postgres import reset_database
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.errors import ConflictError, UnknownPersonError
from workhooks.storage.memory import InMemoryStore
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests

pytestmark = pytest.mark.timeout(60)


# -- change versions -------------------------------------------------------------------------


async def test_versions_strictly_increase_per_tenant(store: Store) -> None:
    """Every write of a tenant, whatever its kind, takes the next higher change version."""
    people = await store.put_people("acme", [PersonDraft(id=1), PersonDraft(id=2)])
    records = await store.put_work_interruptions("acme", [draft(10), draft(11, 2)])
    replaced = await store.put_work_interruptions("acme", [draft(10, minutes=90)])
    tomb = await store.delete_work_interruption("acme", 11)
    person_tomb = await store.delete_person("acme", 2)
    assert tomb is not None
    assert person_tomb is not None
    versions = [p.record.change_version for p in people]
    versions += [r.record.change_version for r in (*records, *replaced)]
    versions += [tomb.change_version, person_tomb.change_version]
    assert versions == sorted(set(versions))
    assert versions[0] >= 1
    assert await store.head_version("acme") == versions[-1]


async def test_versions_are_independent_across_tenants(store: Store) -> None:
    """Writes of one tenant neither move another tenant's head nor its next version."""
    await seed_people(store, "acme", 1, 2, 3)
    acme_head = await store.head_version("acme")
    assert await store.head_version("globex") == 0
    written = await store.put_people("globex", [PersonDraft(id=1)])
    assert written[0].record.change_version == 1
    assert await store.head_version("globex") == 1
    assert await store.head_version("acme") == acme_head


async def test_head_version_is_zero_without_writes_and_tracks_the_last_write(store: Store) -> None:
    """``head_version`` is 0 for an unknown tenant and then the latest version written."""
    assert await store.head_version("acme") == 0
    await seed_people(store, "acme", 1)
    written = await store.put_work_interruptions("acme", [draft(1), draft(2)])
    assert await store.head_version("acme") == written[-1].record.change_version


async def test_empty_batches_write_nothing(store: Store) -> None:
    """An empty batch returns nothing and consumes no change version."""
    assert await store.put_people("acme", []) == []
    assert await store.put_work_interruptions("acme", []) == []
    assert await store.head_version("acme") == 0


# -- created vs replaced ---------------------------------------------------------------------


async def test_put_people_reports_created_then_replaced_then_created_after_delete(
    store: Store,
) -> None:
    """A person is created, then replaced, and created again once its tombstone exists."""
    first = await store.put_people("acme", [PersonDraft(id=7, badge_number="B1")])
    second = await store.put_people("acme", [PersonDraft(id=7, badge_number="B2")])
    assert await store.delete_person("acme", 7) is not None
    third = await store.put_people("acme", [PersonDraft(id=7, employee_number="E3")])
    assert [w.created for w in (*first, *second, *third)] == [True, False, True]
    person = await store.get_person("acme", 7)
    assert person == third[0].record
    assert person is not None
    assert (person.badge_number, person.employee_number, person.deleted) == (None, "E3", False)


async def test_put_work_interruptions_reports_created_replaced_and_recreated(
    store: Store,
) -> None:
    """A work interruption is created, replaced, and created again after its delete."""
    await seed_people(store, "acme", 1)
    first = await store.put_work_interruptions("acme", [draft(5)])
    second = await store.put_work_interruptions("acme", [draft(5, minutes=30)])
    assert await store.delete_work_interruption("acme", 5) is not None
    third = await store.put_work_interruptions("acme", [draft(5, minutes=45)])
    assert [w.created for w in (*first, *second, *third)] == [True, False, True]
    assert await store.get_work_interruption("acme", 5) == third[0].record


async def test_same_id_twice_in_one_batch_is_created_once_and_keeps_the_last(
    store: Store,
) -> None:
    """Within one batch a repeated id is created by its first write and replaced by the next."""
    await seed_people(store, "acme", 1)
    written = await store.put_work_interruptions("acme", [draft(3), draft(3, minutes=20)])
    assert [w.created for w in written] == [True, False]
    assert await store.get_work_interruption("acme", 3) == written[1].record
    changes = await store.read_changes("acme", after=0, limit=ALL)
    assert changes == [written[1].record]


async def test_written_record_carries_the_draft_and_its_version(store: Store) -> None:
    """The returned record holds the draft's fields, its new version and is live."""
    await seed_people(store, "acme", 4)
    d = draft(9, 4, minutes=15)
    (written,) = await store.put_work_interruptions("acme", [d])
    assert written.record == WorkInterruption(
        id=9,
        person_id=4,
        date=d.date,
        duration_in_minutes=15,
        start_time_in_minutes=480,
        end_time_in_minutes=495,
        change_version=await store.head_version("acme"),
        deleted=False,
    )


# -- atomic batches --------------------------------------------------------------------------


async def test_batch_with_unknown_person_writes_nothing(store: Store) -> None:
    """One unknown person fails the whole batch: no record written or replaced, head unchanged."""
    await seed_people(store, "acme", 1)
    (kept,) = await store.put_work_interruptions("acme", [draft(1)])
    head = await store.head_version("acme")
    with pytest.raises(UnknownPersonError) as caught:
        await store.put_work_interruptions(
            "acme", [draft(1, minutes=5), draft(2), draft(3, person_id=99)]
        )
    assert any("99" in reason for reason in caught.value.reasons)
    assert await store.head_version("acme") == head
    assert await store.get_work_interruption("acme", 1) == kept.record
    assert await store.get_work_interruption("acme", 2) is None
    assert await store.read_changes("acme", after=0, limit=ALL) == [kept.record]


async def test_deleted_person_counts_as_unknown(store: Store) -> None:
    """A work interruption may not refer to a person whose tombstone is all that is left."""
    await seed_people(store, "acme", 1)
    assert await store.delete_person("acme", 1) is not None
    with pytest.raises(UnknownPersonError):
        await store.put_work_interruptions("acme", [draft(1)])
    assert await store.get_work_interruption("acme", 1) is None


async def test_person_of_another_tenant_counts_as_unknown(store: Store) -> None:
    """People are per tenant: another tenant's person does not satisfy the reference."""
    await seed_people(store, "globex", 1)
    with pytest.raises(UnknownPersonError):
        await store.put_work_interruptions("acme", [draft(1)])
    assert await store.head_version("acme") == 0


# -- get and delete --------------------------------------------------------------------------


async def test_get_returns_live_records_of_the_tenant_only(store: Store) -> None:
    """``get_*`` return the stored record, and None for unknown ids or other tenants."""
    people = await store.put_people("acme", [PersonDraft(id=1, badge_number="X")])
    (record,) = await store.put_work_interruptions("acme", [draft(1)])
    assert await store.get_person("acme", 1) == people[0].record
    assert await store.get_work_interruption("acme", 1) == record.record
    assert await store.get_person("acme", 2) is None
    assert await store.get_work_interruption("acme", 2) is None
    assert await store.get_person("globex", 1) is None
    assert await store.get_work_interruption("globex", 1) is None


async def test_delete_leaves_a_tombstone_in_the_change_log(store: Store) -> None:
    """A delete takes a new version, hides the record from get and shows a tombstone once."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2)])
    head = await store.head_version("acme")
    tomb = await store.delete_work_interruption("acme", 1)
    assert tomb is not None
    assert tomb.deleted
    assert tomb.id == 1
    assert tomb.change_version == head + 1 == await store.head_version("acme")
    assert await store.get_work_interruption("acme", 1) is None
    changes = await store.read_changes("acme", after=0, limit=ALL)
    assert [(c.id, c.deleted) for c in changes] == [(2, False), (1, True)]
    assert changes[-1] == tomb


async def test_delete_of_unknown_or_deleted_record_returns_none(store: Store) -> None:
    """Deleting what is not live returns None and consumes no version."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1)])
    assert await store.delete_work_interruption("acme", 1) is not None
    head = await store.head_version("acme")
    assert await store.delete_work_interruption("acme", 1) is None
    assert await store.delete_work_interruption("acme", 42) is None
    assert await store.delete_work_interruption("globex", 1) is None
    assert await store.delete_person("acme", 42) is None
    assert await store.head_version("acme") == head


async def test_delete_person_conflicts_while_a_live_work_interruption_refers_to_it(
    store: Store,
) -> None:
    """A person in use cannot be deleted; once its records are gone it can."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1)])
    head = await store.head_version("acme")
    with pytest.raises(ConflictError):
        await store.delete_person("acme", 1)
    assert await store.head_version("acme") == head
    assert await store.get_person("acme", 1) is not None
    assert await store.delete_work_interruption("acme", 1) is not None
    tomb = await store.delete_person("acme", 1)
    assert tomb is not None
    assert tomb.deleted
    assert tomb.change_version == await store.head_version("acme")
    assert await store.get_person("acme", 1) is None


async def test_delete_person_ignores_work_interruptions_of_other_tenants(store: Store) -> None:
    """Only the tenant's own live work interruptions block deleting its person."""
    await seed_people(store, "acme", 1)
    await seed_people(store, "globex", 1)
    await store.put_work_interruptions("globex", [draft(1)])
    assert await store.delete_person("acme", 1) is not None


# -- read_changes ----------------------------------------------------------------------------


async def test_read_changes_returns_each_record_once_at_its_latest_version(store: Store) -> None:
    """Updated and deleted records appear once, at their latest version, in version order."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2), draft(3)])
    (updated,) = await store.put_work_interruptions("acme", [draft(1, minutes=99)])
    tomb = await store.delete_work_interruption("acme", 2)
    changes = await store.read_changes("acme", after=0, limit=ALL)
    assert [c.id for c in changes] == [3, 1, 2]
    assert changes[1] == updated.record
    assert changes[2] == tomb
    versions = [c.change_version for c in changes]
    assert versions == sorted(set(versions))


async def test_read_changes_respects_after_limit_and_tenant(store: Store) -> None:
    """Only versions above ``after`` of the tenant, at most ``limit``, and pages join up."""
    await seed_people(store, "acme", 1)
    await seed_people(store, "globex", 1)
    written = await store.put_work_interruptions("acme", [draft(i) for i in range(1, 6)])
    await store.put_work_interruptions("globex", [draft(100)])
    everything = [w.record for w in written]
    assert await store.read_changes("acme", after=0, limit=ALL) == everything
    first_page = await store.read_changes("acme", after=0, limit=2)
    assert first_page == everything[:2]
    rest = await store.read_changes("acme", after=first_page[-1].change_version, limit=ALL)
    assert rest == everything[2:]
    head = await store.head_version("acme")
    assert await store.read_changes("acme", after=head, limit=ALL) == []
    assert [c.id for c in await store.read_changes("globex", after=0, limit=ALL)] == [100]
    assert await store.read_changes("initech", after=0, limit=ALL) == []


# -- property: the change log replays to the live state -------------------------------------

TENANTS = ("acme", "globex")
RECORD_IDS = st.integers(min_value=1, max_value=6)
PERSON_IDS = st.integers(min_value=1, max_value=2)
DRAFTS = st.builds(
    draft,
    RECORD_IDS,
    PERSON_IDS,
    minutes=st.integers(min_value=0, max_value=600),
)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from(TENANTS), st.lists(DRAFTS, max_size=3)),
        st.tuples(st.just("delete"), st.sampled_from(TENANTS), RECORD_IDS),
    ),
    max_size=25,
)
Operation = tuple[str, str, list[WorkInterruptionDraft] | int]


async def _check_change_log(store: Store, operations: list[Operation]) -> None:
    """Apply ``operations`` and check the change log against a model and the live state."""
    model: dict[str, dict[int, WorkInterruption]] = {t: {} for t in TENANTS}
    for tenant in TENANTS:
        await seed_people(store, tenant, 1, 2)
    for kind, tenant, arg in operations:
        if kind == "put":
            assert isinstance(arg, list)
            for written in await store.put_work_interruptions(tenant, arg):
                model[tenant][written.record.id] = written.record
        else:
            assert isinstance(arg, int)
            tomb = await store.delete_work_interruption(tenant, arg)
            live_before = arg in model[tenant] and not model[tenant][arg].deleted
            assert (tomb is not None) == live_before
            if tomb is not None:
                model[tenant][arg] = tomb
    for tenant in TENANTS:
        changes = await store.read_changes(tenant, after=0, limit=ALL)
        assert changes == sorted(model[tenant].values(), key=lambda r: r.change_version)
        replayed = {c.id: c for c in changes if not c.deleted}
        live = {}
        for record_id in range(1, 7):
            found = await store.get_work_interruption(tenant, record_id)
            if found is not None:
                live[record_id] = found
        assert replayed == live


def _run_on(make_store: Callable[[], Store], operations: list[Operation]) -> None:
    """Open a fresh store, run the change-log check on it, and close it."""

    async def scenario() -> None:
        store = make_store()
        await store.open()
        try:
            await _check_change_log(store, operations)
        finally:
            await store.close()

    asyncio.run(scenario())


@settings(max_examples=100, deadline=None)
@given(operations=OPERATIONS)
def test_change_log_replays_to_live_state_in_memory(operations: list[Operation]) -> None:
    """In memory, the change log holds each record once at its latest version and replays to get."""
    _run_on(InMemoryStore, operations)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_change_log_replays_to_live_state_in_sqlite(
    tmp_path_factory: pytest.TempPathFactory, operations: list[Operation]
) -> None:
    """On SQLite, the change log holds each record once at its latest version and replays to get."""
    path = tmp_path_factory.mktemp("changelog") / "store.db"
    _run_on(lambda: SqliteStore(str(path), sealer=sealer_for_tests()), operations)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations=OPERATIONS)
def test_change_log_replays_to_live_state_on_postgres(
    postgres_database: str, operations: list[Operation]
) -> None:
    """On PostgreSQL, the change log holds each record once at its latest version and replays."""
    asyncio.run(reset_database(postgres_database))
    _run_on(lambda: PostgresStore(postgres_database, sealer=sealer_for_tests()), operations)


async def test_read_changes_many_answers_each_request_like_read_changes(store: Store) -> None:
    """Batched range reads give, request by request, what ``read_changes`` gives."""

    for tenant in ("acme", "globex"):
        await seed_people(store, tenant, 1)
        await store.put_work_interruptions(tenant, [draft(n) for n in range(1, 6)])
    await store.put_work_interruptions("acme", [draft(2, minutes=30)])
    requests = [("acme", 0, 3), ("globex", 3, 10), ("acme", 4, 2), ("nobody", 0, 5)]
    answers = await store.read_changes_many(requests)
    expected = [await store.read_changes(t, after=a, limit=n) for t, a, n in requests]
    assert answers == expected
    assert [len(a) for a in answers] == [3, 3, 2, 0]
