"""The engine's apply rule: only newer versions win, deletes keep tombstones, order is moot."""

from __future__ import annotations

import datetime as dt
import random

import httpx
from hypothesis import given
from hypothesis import strategies as st

from workhooks.client import (
    AsyncClient,
    ChangeType,
    DeltaItem,
    PersonRef,
    SqliteSink,
    SyncEngine,
    SyncOptions,
    SyncScope,
    WorkInterruption,
)

SCOPE = SyncScope(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))


def no_network(request: httpx.Request) -> httpx.Response:
    """A transport that fails the test if the engine touches the network."""
    raise AssertionError(f"unexpected request {request.url}")


def engine_on(sink: SqliteSink) -> SyncEngine:
    """An engine on ``sink`` whose client may not be used."""
    client = AsyncClient(
        "http://unused",
        tenant="t",
        client_id="c",
        client_secret="s",
        transport=httpx.MockTransport(no_network),
    )
    return SyncEngine(client, sink, SyncOptions(destination_url="https://x/h", scope=SCOPE))


def version(n: int) -> str:
    """The ``n``-th change version, 20 upper-case hex digits."""
    return f"{n:020X}"


def upsert(record_id: int, n: int, *, day: dt.date = dt.date(2026, 5, 1)) -> DeltaItem:
    """An ``InsertOrUpdate`` of ``record_id`` at version ``n``."""
    record = WorkInterruption(
        change_version=version(n),
        id=record_id,
        person=PersonRef(id=1),
        date=day,
        duration_in_minutes=n % 1440,
        start_time_in_minutes=0,
        end_time_in_minutes=n % 1440,
    )
    kind = ChangeType.INSERT_OR_UPDATE
    return DeltaItem(change_type=kind, id=record_id, change_version=version(n), record=record)


def delete(record_id: int, n: int) -> DeltaItem:
    """A ``Delete`` of ``record_id`` at version ``n``."""
    return DeltaItem(change_type=ChangeType.DELETE, id=record_id, change_version=version(n))


def test_an_older_insert_after_a_delete_is_ignored() -> None:
    """A delete's tombstone keeps its version, so a late older upsert cannot resurrect it."""
    with SqliteSink(":memory:") as sink:
        engine = engine_on(sink)
        assert engine.apply([upsert(1, 2)]) == 1
        assert engine.apply([delete(1, 3)]) == 1
        assert engine.apply([upsert(1, 2)]) == 0
        assert sink.get(1) is None
        assert sink.held_versions([1]) == {1: version(3)}
        assert engine.apply([upsert(1, 4)]) == 1
        stored = sink.get(1)
        assert stored is not None
        assert stored.change_version == version(4)


HISTORIES = st.lists(
    st.tuples(st.integers(1, 6), st.booleans()), min_size=1, max_size=40
)  # (record id, is a delete), in commit order


@given(HISTORIES, st.randoms(use_true_random=False), st.integers(1, 5))
def test_any_order_and_duplication_of_events_ends_in_the_latest_state(
    history: list[tuple[int, bool]], rng: random.Random, batch: int
) -> None:
    """Whatever order and however often events arrive, the copy holds each id's latest change."""
    items = [
        delete(record_id, n) if is_delete else upsert(record_id, n)
        for n, (record_id, is_delete) in enumerate(history, start=1)
    ]
    arrivals = items + items[: len(items) // 2]
    rng.shuffle(arrivals)
    latest = {item.id: item for item in items}
    with SqliteSink(":memory:") as sink:
        engine = engine_on(sink)
        for start in range(0, len(arrivals), batch):
            engine.apply(arrivals[start : start + batch])
        assert sink.live_ids() == {i for i, item in latest.items() if item.record is not None}
        versions = {i: item.change_version for i, item in latest.items()}
        assert sink.held_versions(list(latest)) == versions
        for record_id, item in latest.items():
            assert sink.get(record_id) == item.record


def test_an_upsert_outside_the_scope_is_stored_as_a_tombstone() -> None:
    """A record that moved outside the mirrored dates leaves the copy but keeps its version."""
    with SqliteSink(":memory:") as sink:
        engine = engine_on(sink)
        engine.apply([upsert(1, 1)])
        engine.apply([upsert(1, 2, day=dt.date(2027, 1, 1))])
        assert sink.live_ids() == set()
        assert sink.held_versions([1]) == {1: version(2)}
