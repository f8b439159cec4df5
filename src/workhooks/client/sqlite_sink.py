"""``SqliteSink``: the records and the engine's state in one SQLite file (stdlib ``sqlite3``)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from types import TracebackType

import msgspec

from workhooks.client.models import WorkInterruption
from workhooks.client.sink import SyncScope, SyncState, Tombstone

__all__ = ["SqliteSink"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS work_interruptions (
    id INTEGER PRIMARY KEY,
    change_version TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    date TEXT,
    person_id INTEGER,
    document BLOB
);
CREATE INDEX IF NOT EXISTS work_interruptions_by_date
    ON work_interruptions (date, id) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS sync_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    document BLOB NOT NULL
);
"""

_UPSERT = """
INSERT INTO work_interruptions (id, change_version, deleted, date, person_id, document)
VALUES (?, ?, 0, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    change_version = excluded.change_version, deleted = 0, date = excluded.date,
    person_id = excluded.person_id, document = excluded.document
"""

_TOMBSTONE = """
INSERT INTO work_interruptions (id, change_version, deleted) VALUES (?, ?, 1)
ON CONFLICT (id) DO UPDATE SET
    change_version = excluded.change_version, deleted = 1, date = NULL,
    person_id = NULL, document = NULL
"""

_SAVE_STATE = """
INSERT INTO sync_state (singleton, document) VALUES (1, ?)
ON CONFLICT (singleton) DO UPDATE SET document = excluded.document
"""

_HELD = """
SELECT w.id, w.change_version FROM work_interruptions AS w
JOIN json_each(?) AS wanted ON w.id = wanted.value
"""


class _StoredState(msgspec.Struct, frozen=True):
    scope: SyncScope
    delta_link: str | None
    webhook_id: str | None
    webhook_key: str | None
    valid_until: dt.datetime | None
    retired_webhook_ids: tuple[str, ...]


class SqliteSink:
    """A ``Sink`` in a SQLite file (WAL mode); also answers the queries a mirror needs.

    The state holds the webhook's private key: protect the file like any other secret.
    """

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the Sink protocol ---------------------------------------------------------------------

    def load_state(self) -> SyncState | None:
        """The state saved last, or None before the first run."""
        with self._lock:
            row = self._db.execute("SELECT document FROM sync_state").fetchone()
        if row is None:
            return None
        stored = msgspec.json.decode(row[0], type=_StoredState)
        return SyncState(**msgspec.structs.asdict(stored))

    def save_state(self, state: SyncState) -> None:
        """Replace the saved state."""
        stored = _StoredState(
            scope=state.scope,
            delta_link=state.delta_link,
            webhook_id=state.webhook_id,
            webhook_key=state.webhook_key,
            valid_until=state.valid_until,
            retired_webhook_ids=state.retired_webhook_ids,
        )
        with self._lock:
            self._db.execute(_SAVE_STATE, (msgspec.json.encode(stored),))

    def held_versions(self, ids: Collection[int]) -> dict[int, str]:
        """The version held for each known id, tombstones included."""
        with self._lock:
            rows = self._db.execute(_HELD, (msgspec.json.encode(sorted(set(ids))),))
            return {int(i): str(v) for i, v in rows}

    def write(self, upserts: Sequence[WorkInterruption], deletes: Sequence[Tombstone]) -> None:
        """Store new states and tombstones in one transaction."""
        rows = [
            (r.id, r.change_version, r.date.isoformat(), r.person.id, msgspec.json.encode(r))
            for r in upserts
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_UPSERT, rows)
                self._db.executemany(_TOMBSTONE, [(t.id, t.change_version) for t in deletes])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def live_ids(self) -> set[int]:
        """The ids of every live record."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM work_interruptions WHERE deleted = 0")
            return {int(r[0]) for r in rows}

    # -- reading the mirror --------------------------------------------------------------------

    def get(self, record_id: int) -> WorkInterruption | None:
        """One live record, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT document FROM work_interruptions WHERE id = ? AND deleted = 0",
                (record_id,),
            ).fetchone()
        return None if row is None else msgspec.json.decode(row[0], type=WorkInterruption)

    def records(self) -> Iterator[WorkInterruption]:
        """Every live record, by date then id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT document FROM work_interruptions WHERE deleted = 0 ORDER BY date, id"
            ).fetchall()
        for (document,) in rows:
            yield msgspec.json.decode(document, type=WorkInterruption)

    def versions_between(self, date_from: dt.date, date_to: dt.date) -> dict[int, str]:
        """``{id: changeVersion}`` of the live records dated ``date_from`` to ``date_to``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, change_version FROM work_interruptions"
                " WHERE deleted = 0 AND date >= ? AND date <= ?",
                (date_from.isoformat(), date_to.isoformat()),
            )
            return {int(i): str(v) for i, v in rows}
