"""Scripts, the use cases of several statements written once for both SQL stores: each
dialect's driver runs them alike, in one transaction, on the real database."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from tests.integration.store_helpers import T0
from tests.postgres import reset_database
from workhooks.domain.clients import Client
from workhooks.domain.records import PersonDraft
from workhooks.errors import ConflictError
from workhooks.storage import rows
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.scripts import Script, UniqueViolation, count, each, every, one
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests

SqlStore = SqliteStore | PostgresStore


def client_params(store: SqlStore, client_id: str) -> dict[str, Any]:
    """The parameters of ``insert_client`` for a client of tenant ``acme``."""
    client = Client(
        id=client_id,
        secret_hash="hash",
        tenant="acme",
        scopes=frozenset(),
        created_at=T0,
    )
    return rows.client_params(client, store._codec)


async def client_ids(store: SqlStore) -> list[str]:
    """The ids of every stored client, in order."""
    return sorted(c.id for c in await store.list_clients())


async def test_a_script_is_sent_each_statements_result_and_returns_its_answer(
    sql_store: SqlStore,
) -> None:
    """``count`` sends back the rows touched, ``one`` a row or None, ``every`` the rows."""

    def script() -> Script[tuple[int, Any, Any, int]]:
        inserted = yield count("insert_client", client_params(sql_store, "a"))
        found = yield one("get_client", id="a")
        missing = yield one("get_client", id="nobody")
        listed = yield every("list_clients", tenant="acme")
        return inserted, found["tenant"], missing, len(listed)

    assert await sql_store._writing(script()) == (1, "acme", None, 1)


async def test_each_runs_a_statement_once_per_parameter_set(sql_store: SqlStore) -> None:
    """A batch of parameter sets is one step."""

    def script() -> Script[None]:
        yield each("insert_client", [client_params(sql_store, n) for n in ("a", "b", "c")])

    await sql_store._writing(script())
    assert await client_ids(sql_store) == ["a", "b", "c"]


async def test_an_error_in_a_script_rolls_back_all_its_statements(sql_store: SqlStore) -> None:
    """What a script wrote before it raised is not kept."""

    def script() -> Script[None]:
        yield count("insert_client", client_params(sql_store, "a"))
        raise LookupError("the rule refused it")

    with pytest.raises(LookupError):
        await sql_store._writing(script())
    assert await client_ids(sql_store) == []


async def test_a_unique_violation_is_thrown_into_the_script_at_its_statement(
    sql_store: SqlStore,
) -> None:
    """The script sees which statement broke the constraint and may raise its own error;
    nothing of the transaction is kept."""

    def script() -> Script[None]:
        yield count("insert_client", client_params(sql_store, "a"))
        try:
            yield count("insert_client", client_params(sql_store, "a"))
        except UniqueViolation as violation:
            raise LookupError(f"taken by {violation.name}") from violation

    with pytest.raises(LookupError, match="taken by insert_client"):
        await sql_store._writing(script())
    assert await client_ids(sql_store) == []


@pytest.mark.parametrize("goes_on", [False, True], ids=["returns", "yields-again"])
async def test_a_script_cannot_ignore_a_unique_violation(
    sql_store: SqlStore, goes_on: bool
) -> None:
    """Returning or going on after a violation raises it anyway, so both dialects roll the
    whole transaction back (PostgreSQL could not go on; SQLite would keep the rest)."""

    def script() -> Script[str]:
        yield count("insert_client", client_params(sql_store, "a"))
        try:
            yield count("insert_client", client_params(sql_store, "a"))
        except UniqueViolation:
            if goes_on:
                yield count("insert_client", client_params(sql_store, "b"))
        return "ignored"

    with pytest.raises(UniqueViolation):
        await sql_store._writing(script())
    assert await client_ids(sql_store) == []


async def test_a_reference_value_taken_by_a_concurrent_writer_is_a_conflict(
    postgres_database: str,
) -> None:
    """Two people given one custom reference value at once: the second write finds no
    owner, then waits on the unique index until the first commits and gets a 409 error,
    not a 500 (``UniqueViolation`` thrown into the script)."""
    await reset_database(postgres_database)
    store = PostgresStore(postgres_database, sealer=sealer_for_tests())
    await store.open()
    other = await asyncpg.connect(postgres_database)
    try:
        await store.put_people(
            "acme", [PersonDraft(id=n, badge_number=None, employee_number=None) for n in (1, 2)]
        )
        first = other.transaction()
        await first.start()
        await other.execute(
            "INSERT INTO person_references (tenant, person_id, key, value) "
            "VALUES ('acme', 1, 'payroll', 'P-7')"
        )
        second = asyncio.create_task(store.set_custom_reference("acme", 2, "payroll", "P-7"))
        await wait_until_blocked(other)
        await first.commit()
        with pytest.raises(ConflictError) as refused:
            await second
        assert "already belongs to another person" in refused.value.reasons[0]
        assert await store.get_custom_references("acme", 2) == {}
        assert await store.get_custom_references("acme", 1) == {"payroll": "P-7"}
    finally:
        await other.close()
        await store.close()


async def wait_until_blocked(conn: asyncpg.Connection) -> None:
    """Wait until another session waits for a lock held by ``conn``'s transaction."""
    pid = conn.get_server_pid()
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no session waited for the open transaction")
