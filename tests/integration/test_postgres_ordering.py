"""On a real PostgreSQL server: commit-ordered change versions and webhook leases."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.store_helpers import T0, draft, new_webhook, outcome, seed_people
from tests.postgres import reset_database
from workhooks.domain.operators import AuditAction, AuditEntry
from workhooks.domain.records import PersonDraft
from workhooks.errors import UnknownPersonError
from workhooks.storage.postgres.base import Q
from workhooks.storage.postgres.store import PostgresStore
from workhooks.testing import sealer_for_tests

WRITERS = 8
WRITES_PER_WRITER = 60


@pytest.fixture
async def database(postgres_database: str) -> str:
    """The session database, emptied for this test."""
    await reset_database(postgres_database)
    return postgres_database


async def _writer(store: PostgresStore, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(WRITES_PER_WRITER):
        batch = sorted({rng.randrange(1, 200) for _ in range(rng.randrange(1, 4))})
        await store.put_work_interruptions(
            "acme", [draft(i, minutes=rng.randrange(60)) for i in batch]
        )
        if rng.random() < 0.2:
            await store.delete_work_interruption("acme", rng.randrange(1, 200))


async def _cursor_reader(store: PostgresStore, done: asyncio.Event) -> dict[int, int]:
    """Follow the change log like a worker; fail on any version at or below the cursor."""
    cursor, seen = 0, {}
    while True:
        finished = done.is_set()
        changes = await store.read_changes("acme", after=cursor, limit=50)
        versions = [c.change_version for c in changes]
        assert versions == sorted(set(versions)), "a window is not in strictly increasing order"
        assert all(v > cursor for v in versions)
        for change in changes:
            seen[change.id] = change.change_version
        if changes:
            cursor = versions[-1]
        elif finished:
            return seen
        else:
            await asyncio.sleep(0)


async def test_concurrent_writers_never_commit_below_a_version_a_reader_has_seen(
    database: str,
) -> None:
    """With 8 writers racing, a cursor reader sees every record's final version: nothing skipped."""
    stores = [PostgresStore(database, sealer=sealer_for_tests()) for _ in range(WRITERS)]
    reader_store = PostgresStore(database, sealer=sealer_for_tests())
    for store in (*stores, reader_store):
        await store.open()
    try:
        await seed_people(reader_store, "acme", 1)
        done = asyncio.Event()
        reader = asyncio.create_task(_cursor_reader(reader_store, done))
        await asyncio.gather(*(_writer(store, seed) for seed, store in enumerate(stores)))
        done.set()
        seen = await reader
        final = await reader_store.read_changes("acme", after=0, limit=100_000)
        assert len(final) > 50
        # Each record's latest version must have been seen by the reader as it went by:
        # had a writer committed a version below the reader's cursor, it would be missing here.
        assert {c.id: c.change_version for c in final} == seen
    finally:
        for store in (*stores, reader_store):
            await store.close()


async def test_a_lease_keeps_a_webhook_with_one_worker_until_it_expires(database: str) -> None:
    """A second worker cannot claim or advance a leased webhook until the lease runs out;
    applying a window releases the lease."""
    first = PostgresStore(database, worker_id="first", lease_seconds=0.5, sealer=sealer_for_tests())
    second = PostgresStore(
        database, worker_id="second", lease_seconds=0.5, sealer=sealer_for_tests()
    )
    await first.open()
    await second.open()
    try:
        await first.create_webhook(new_webhook("wh", created_at=T0))
        await seed_people(first, "acme", 1)
        await first.put_work_interruptions("acme", [draft(1)])
        now = T0 + dt.timedelta(hours=1)
        claimed = await first.due_webhooks(now=now, limit=10)
        assert [w.id for w in claimed] == ["wh"]
        assert await second.due_webhooks(now=now, limit=10) == []
        assert await first.renew_leases({"wh"}) == {"wh"}
        assert await second.renew_leases({"wh"}) == set()
        webhook = claimed[0]
        assert not await second.apply_window(outcome(webhook, cursor=webhook.cursor + 2))
        await asyncio.sleep(0.7)  # the lease runs out on the server's clock
        taken = await second.due_webhooks(now=now, limit=10)
        assert [w.id for w in taken] == ["wh"]
        assert not await first.apply_window(outcome(webhook, cursor=webhook.cursor + 2))
        assert await second.apply_window(outcome(taken[0], cursor=taken[0].cursor + 2))
        # Applying a window gives the lease back: the next window needs a fresh claim.
        assert await second.renew_leases({"wh"}) == set()
    finally:
        await first.close()
        await second.close()


async def test_workers_claim_disjoint_sets_of_webhooks(database: str) -> None:
    """Concurrent claims split the due webhooks between workers without overlap."""
    stores = [
        PostgresStore(database, worker_id=f"w{i}", sealer=sealer_for_tests()) for i in range(3)
    ]
    for store in stores:
        await store.open()
    try:
        await seed_people(stores[0], "acme", 1)
        for n in range(30):
            await stores[0].create_webhook(new_webhook(f"wh{n:02}", created_at=T0))
        await stores[0].put_work_interruptions("acme", [draft(1)])
        now = T0 + dt.timedelta(hours=1)
        claims = await asyncio.gather(*(s.due_webhooks(now=now, limit=12) for s in stores))
        ids = [w.id for claim in claims for w in claim]
        assert len(ids) == len(set(ids)) == 30
        assert all(claims)
    finally:
        for store in stores:
            await store.close()


async def test_a_commit_in_one_process_wakes_listeners_in_another(database: str) -> None:
    """LISTEN/NOTIFY: a write through one store calls the listener of another with the tenant."""
    writer, worker = (
        PostgresStore(database, sealer=sealer_for_tests()),
        PostgresStore(database, sealer=sealer_for_tests()),
    )
    await writer.open()
    await worker.open()
    woken: asyncio.Queue[str] = asyncio.Queue()
    try:
        await worker.listen(woken.put_nowait)
        await seed_people(writer, "acme", 1)
        assert await asyncio.wait_for(woken.get(), timeout=5) == "acme"
        await seed_people(writer, "globex", 1)
        assert await asyncio.wait_for(woken.get(), timeout=5) == "globex"
    finally:
        await writer.close()
        await worker.close()


@pytest.mark.parametrize("action", ["resend", "recover", "retry-now"])
async def test_an_operator_action_in_one_process_wakes_listeners_in_another(
    database: str, action: str
) -> None:
    """Moving a cursor back or cutting a back-off from an API node wakes the workers of
    other processes at once, as a write does, rather than at their next poll."""
    api, worker = (
        PostgresStore(database, sealer=sealer_for_tests()),
        PostgresStore(database, sealer=sealer_for_tests()),
    )
    await api.open()
    await worker.open()
    woken: asyncio.Queue[str] = asyncio.Queue()
    try:
        await seed_people(api, "acme", 1)
        await api.put_work_interruptions("acme", [draft(1)])
        await api.create_webhook(new_webhook("w1"))
        await worker.listen(woken.put_nowait)
        await asyncio.sleep(0.2)  # announcements of the writes above, if any, are gone
        while not woken.empty():
            woken.get_nowait()
        audit = AuditEntry(at=T0, actor="operator", action=AuditAction.RECOVER, tenant="acme")
        if action == "resend":
            moved = await api.rewind_webhook_before("acme", "w1", version=2, now=T0, audit=audit)
            assert moved == 1
        elif action == "recover":
            since = T0 - dt.timedelta(days=1)
            await api.rewind_webhook("acme", "w1", since=since, now=T0, audit=audit)
        else:
            assert await api.retry_webhook_now("acme", "w1", now=T0, audit=audit)
        assert await asyncio.wait_for(woken.get(), timeout=5) == "acme"
    finally:
        await api.close()
        await worker.close()


async def test_settling_commits_without_waiting_for_its_flush_and_only_for_itself(
    database: str,
) -> None:
    """Settling never keeps a tenant's writers behind a WAL flush, and durability stays on.

    The settle statement turns ``synchronous_commit`` off for its own transaction only: in
    a transaction it is off after the statement, and on a pooled connection it is on again
    for whatever runs next (a write must still wait for its flush).
    """
    store = PostgresStore(database, sealer=sealer_for_tests())
    await store.open()
    try:
        await seed_people(store, "acme", 1)
        await store.put_work_interruptions("acme", [draft(1)])
    finally:
        await store.close()
    settle = Q["settle_tenants"]
    conn = await asyncpg.connect(database)
    try:
        async with conn.transaction():
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
            assert await conn.execute(settle.sql, *settle.args(now=T0)) == "UPDATE 1"
            assert await conn.fetchval("SHOW synchronous_commit") == "off"
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
        await conn.execute("UPDATE tenants SET settled_head = 0")
        assert await conn.execute(settle.sql, *settle.args(now=T0)) == "UPDATE 1"
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
        settled = await conn.fetchval("SELECT settled_head = work_interruptions_head FROM tenants")
        assert settled is True
    finally:
        await conn.close()


_OPS = st.one_of(
    st.tuples(
        st.just("put"),
        st.lists(st.integers(1, 30), min_size=1, max_size=4),
        st.sampled_from([1, 2, 9]),  # person 9 does not exist: the whole batch is refused
    ),
    st.tuples(st.just("delete"), st.integers(1, 30), st.just(0)),
    st.tuples(st.just("people"), st.lists(st.integers(1, 3), min_size=1, max_size=3), st.just(0)),
    st.tuples(st.just("delete_person"), st.just(3), st.just(0)),
)


async def _apply(store: PostgresStore, ops: list[tuple[str, Any, int]]) -> dict[int, list[int]]:
    """Run one writer's operations; the versions the store answered, per record id."""
    answered: dict[int, list[int]] = {}
    for kind, what, person in ops:
        if kind == "put":
            try:
                written = await store.put_work_interruptions(
                    "acme", [draft(i, person, minutes=n + 1) for n, i in enumerate(what)]
                )
            except UnknownPersonError:
                assert person == 9
                continue
            for w in written:
                answered.setdefault(w.record.id, []).append(w.record.change_version)
        elif kind == "delete":
            tomb = await store.delete_work_interruption("acme", what)
            if tomb is not None:
                answered.setdefault(tomb.id, []).append(tomb.change_version)
        elif kind == "people":
            await store.put_people("acme", [PersonDraft(id=i) for i in what])
        else:
            await store.delete_person("acme", what)
    return answered


async def _concurrent_scenario(database: str, writers: list[list[tuple[str, Any, int]]]) -> None:
    await reset_database(database)
    store = PostgresStore(database, sealer=sealer_for_tests())
    reader_store = PostgresStore(database, sealer=sealer_for_tests())
    await store.open()
    await reader_store.open()
    try:
        await seed_people(store, "acme", 1, 2)
        done = asyncio.Event()
        reader = asyncio.create_task(_cursor_reader(reader_store, done))
        answers = await asyncio.gather(*(_apply(store, ops) for ops in writers))
        done.set()
        seen = await reader
        final = {
            c.id: c.change_version for c in await store.read_changes("acme", after=0, limit=10**6)
        }
        assert seen == final  # nothing committed below a version the reader had passed
        for record_id, version in final.items():
            # The last commit of a record is the one with the highest version handed out.
            assert version == max(v for a in answers for v in a.get(record_id, ()))
        handed_out = [v for a in answers for vs in a.values() for v in vs]
        assert len(handed_out) == len(set(handed_out))
        assert await store.head_version("acme") >= max(handed_out, default=0)
    finally:
        await store.close()
        await reader_store.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(writers=st.lists(st.lists(_OPS, min_size=1, max_size=12), min_size=2, max_size=6))
def test_any_mix_of_concurrent_writes_keeps_versions_in_commit_order(
    postgres_database: str, writers: list[list[tuple[str, Any, int]]]
) -> None:
    """Property: whatever concurrent writers do (batches, deletes, people, refused batches),
    a cursor reader sees every record's final version, each final version is the highest the
    store handed out for that record, and no version is handed out twice."""
    asyncio.run(_concurrent_scenario(postgres_database, writers))
