"""``SqliteStore``: the zero-setup store, one SQLite file in WAL mode.

All writes go through one connection on one thread (SQLite has a single writer anyway),
reads through a second connection on another thread, so a slow write never blocks the
delivery worker's reads. Each ``Store`` method is one transaction: one thread hop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Collection as Many
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import msgspec

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery, DeliveryStatus
from workhooks.domain.external_references import (
    BADGE_NUMBER,
    EMPLOYEE_NUMBER,
    ExternalReference,
)
from workhooks.domain.groups import (
    GroupKind,
    PersonGroup,
    group_has_subgroups,
    group_in_a_cycle,
    unknown_parent,
)
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import Person, PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.scopes import parse_scopes
from workhooks.domain.webhooks import Collection, NewWebhook, Webhook, WebhookStatus
from workhooks.errors import (
    ConflictError,
    DeliveryHeldError,
    StoreUnavailableError,
    TooManyWebhooksError,
    UnknownPersonError,
)
from workhooks.storage.protocol import BacklogReport, WebhookBacklog, WindowOutcome, Written
from workhooks.storage.sealing import (
    MAGIC,
    PREFIX_SIZE,
    Sealer,
    signing_key_context,
    webhook_context,
)
from workhooks.storage.sql import load_migrations, load_queries, pending_migrations
from workhooks.storage.sqlite.console import SqliteConsole

__all__ = ["SqliteStore"]

_encode_json = msgspec.json.Encoder().encode

T = TypeVar("T")
Q = load_queries("workhooks.storage.sqlite")
_MIGRATIONS = "workhooks.storage.sqlite.migrations"
G = load_queries("workhooks.storage.sqlite", "groups.sql")


def _ts(value: dt.datetime) -> str:
    """Store instants as fixed-width UTC ISO text, so text order is time order."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _ts_or_none(value: dt.datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _dt(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _must_dt(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _record(row: sqlite3.Row) -> WorkInterruption:
    return WorkInterruption(
        id=row["id"],
        person_id=row["person_id"],
        date=dt.date.fromisoformat(row["date"]),
        duration_in_minutes=row["duration_in_minutes"],
        start_time_in_minutes=row["start_time_in_minutes"],
        end_time_in_minutes=row["end_time_in_minutes"],
        change_version=row["change_version"],
        deleted=bool(row["deleted"]),
    )


def _person(row: sqlite3.Row) -> Person:
    return Person(
        id=row["id"],
        badge_number=row["badge_number"],
        employee_number=row["employee_number"],
        change_version=row["change_version"],
        deleted=bool(row["deleted"]),
    )


def _webhook(row: sqlite3.Row, sealer: Sealer) -> Webhook:
    return Webhook(
        id=row["id"],
        tenant=row["tenant"],
        destination_url=row["destination_url"],
        collection=Collection(row["collection"]),
        secret=sealer.open(bytes(row["secret"]), context=webhook_context(row["id"])),
        status=WebhookStatus(row["status"]),
        created_at=_must_dt(row["created_at"]),
        valid_until=_must_dt(row["valid_until"]),
        cursor=row["cursor"],
        deleted_at=_dt(row["deleted_at"]),
        disabled_reason=row["disabled_reason"],
        failures=row["failures"],
        next_attempt_at=_dt(row["next_attempt_at"]),
        external_references=_references_from_json(row["external_references"]),
    )


def _references_from_json(text: str) -> tuple[ExternalReference, ...]:
    pairs: list[list[str]] = msgspec.json.decode(text)
    return tuple(ExternalReference(collection=c, key=k) for c, k in pairs)


def _references_to_json(references: tuple[ExternalReference, ...]) -> bytes:
    return _encode_json([[r.collection, r.key] for r in references])


def _attempt(row: sqlite3.Row) -> DeliveryAttempt:
    return DeliveryAttempt(
        webhook_id=row["webhook_id"],
        message_id=row["message_id"],
        record_id=row["record_id"],
        change_version=row["change_version"],
        attempted_at=_must_dt(row["attempted_at"]),
        succeeded=bool(row["succeeded"]),
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error_class=row["error_class"],
        response_excerpt=row["response_excerpt"],
        next_attempt_at=_dt(row["next_attempt_at"]),
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        webhook_id=row["webhook_id"],
        id=row["message_id"],
        record_id=row["record_id"],
        change_version=row["change_version"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        first_attempt_at=_must_dt(row["first_attempt_at"]),
        last_attempt_at=_must_dt(row["last_attempt_at"]),
        last_status_code=row["last_status_code"],
        last_error_class=row["last_error_class"],
        next_attempt_at=_dt(row["next_attempt_at"]),
    )


def _client(row: sqlite3.Row) -> Client:
    return Client(
        id=row["id"],
        tenant=row["tenant"],
        secret_hash=row["secret_hash"],
        scopes=parse_scopes(row["scopes"])[0],
        created_at=_must_dt(row["created_at"]),
        revoked_at=_dt(row["revoked_at"]),
    )


def _owner_only(path: str) -> None:
    """Create the database file readable by its owner only, and tighten an existing one.

    SQLite gives the ``-wal`` and ``-shm`` files the mode of the database file, so they
    follow. The file holds sealed secrets, but also every record of every tenant.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)


def _lock_delivery(path: str) -> int:
    """Take the file's delivery lock (held until closed, or until the process dies)."""
    fd = os.open(f"{path}.delivery-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise DeliveryHeldError(
            f"another process (pid {holder}) already delivers from {path}; SQLite allows one "
            "delivering process per database file: run this one with --no-worker (API only), "
            "stop the other, or use PostgreSQL for several workers"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode("ascii"))
    return fd


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL with synchronous=NORMAL: a killed process loses no committed transaction;
    # only an OS crash or power loss may lose the last few.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def _full_disk_is_unavailable() -> Iterator[None]:
    """A full disk (or database size limit) is a passing outage: 503, retry later.

    The transaction was rolled back, so nothing acknowledged is lost and nothing half-written
    stays; the write succeeds once space is freed.
    """
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
            raise
        raise StoreUnavailableError(
            "The database is full; try again later",
            reasons=("database: no space left for the SQLite file",),
        ) from exc


class SqliteStore(SqliteConsole):
    """The ``Store`` on one SQLite file (``path`` may be ``:memory:``-free paths only).

    ``sealer`` seals the secrets it stores (webhook keys, token signing keys).
    """

    _row_delivery = staticmethod(_delivery)

    def _row_webhook(self, row: sqlite3.Row) -> Webhook:
        return _webhook(row, self._sealer)

    def __init__(
        self, path: str, *, sealer: Sealer, trace: Callable[[str], None] | None = None
    ) -> None:
        self._path = path
        self._sealer = sealer
        self._trace = trace
        self.migrations_applied: tuple[str, ...] = ()
        self.schema_version = 0
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._delivery_lock: int | None = None

    # -- plumbing ---------------------------------------------------------------------
    async def open(self) -> None:
        """Open both connections, switch to WAL and apply pending migrations.

        Secrets stored in clear by an older version are sealed; a secret sealed with a
        master key that is not configured stops the start with ``MasterKeyError``.
        """
        await self._on(self._writer_pool, _owner_only, self._path)
        self._writer = await self._on(self._writer_pool, _connect, self._path)
        try:
            self.migrations_applied = await self._write(self._migrate)
            await self._write(self._seal_secrets)
        except BaseException:
            await self.close()
            raise
        self.schema_version = len(load_migrations(_MIGRATIONS))
        self._reader = await self._on(self._reader_pool, _connect, self._path)
        if self._trace is not None:
            # Statement counting for benchmarks; never set in production.
            self._writer.set_trace_callback(self._trace)
            self._reader.set_trace_callback(self._trace)

    async def close(self) -> None:
        """Close connections and stop the threads."""
        for pool, conn in ((self._writer_pool, self._writer), (self._reader_pool, self._reader)):
            if conn is not None:
                await self._on(pool, conn.close)
            pool.shutdown(wait=True)
        self._writer = self._reader = None
        if self._delivery_lock is not None:
            os.close(self._delivery_lock)
            self._delivery_lock = None

    async def ping(self) -> None:
        """Answer a trivial query on the reader connection."""
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    @staticmethod
    async def _on(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction on the writer thread."""
        conn = self._writer
        assert conn is not None, "SqliteStore.open() was not awaited"

        def run() -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk does that).
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        with _full_disk_is_unavailable():
            return await self._on(self._writer_pool, run)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one read transaction on the reader thread (a consistent snapshot)."""
        conn = self._reader
        assert conn is not None, "SqliteStore.open() was not awaited"

        def run() -> T:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.execute("COMMIT")

        with _full_disk_is_unavailable():  # sorting may need temporary space
            return await self._on(self._reader_pool, run)

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> tuple[str, ...]:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        done = {n for (n,) in conn.execute("SELECT number FROM schema_migrations")}
        applied = []
        for number, name, sql in pending_migrations(_MIGRATIONS, done):
            for statement in sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name)
            )
            applied.append(f"{number:04d}_{name}")
        return tuple(applied)

    def _seal_secrets(self, conn: sqlite3.Connection, *, prefix: bytes = MAGIC) -> int:
        """Seal anew every secret not starting with ``prefix``: by default only clear ones."""
        sealer = self._sealer
        count = 0
        for row in conn.execute(Q["list_signing_keys"]).fetchall():
            value = bytes(row["private_key"])
            if not value.startswith(prefix):
                sealed = sealer.reseal(value, context=signing_key_context(row["kid"]))
                conn.execute(Q["set_signing_key_seal"], {"kid": row["kid"], "private_key": sealed})
                count += 1
        params = {"prefix": prefix}
        for row in conn.execute(Q["webhook_secrets_not_starting"], params).fetchall():
            sealed = sealer.reseal(bytes(row["secret"]), context=webhook_context(row["id"]))
            conn.execute(Q["set_webhook_secret"], {"id": row["id"], "secret": sealed})
            count += 1
        prefixes = [
            bytes(r["prefix"])
            for r in conn.execute(Q["webhook_secret_prefixes"], {"size": PREFIX_SIZE})
        ]
        sealer.check_prefixes(prefixes, what="webhook keys")
        return count

    async def reseal_secrets(self) -> int:
        """Seal every secret under the newest master key; return how many were sealed anew."""
        return await self._write(
            lambda c: self._seal_secrets(c, prefix=self._sealer.current_prefix)
        )

    @staticmethod
    def _next_versions(
        conn: sqlite3.Connection, tenant: str, count: int, *, work: bool = False
    ) -> int:
        """Reserve ``count`` versions; return the first. Single writer: commit order holds.

        ``work`` marks a write of work interruptions: it unsettles the tenant.
        """
        params = {"tenant": tenant, "count": count, "work": work}
        (head,) = conn.execute(Q["next_version"], params).fetchone()
        return int(head) - count + 1

    # -- auth -------------------------------------------------------------------------
    async def add_client(self, client: Client) -> None:
        """Register a client."""
        params = {
            "id": client.id,
            "tenant": client.tenant,
            "secret_hash": client.secret_hash,
            "scopes": " ".join(sorted(client.scopes)),
            "created_at": _ts(client.created_at),
        }
        await self._write(lambda c: c.execute(Q["insert_client"], params))

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        row = await self._read(lambda c: c.execute(Q["get_client"], {"id": client_id}).fetchone())
        return None if row is None else _client(row)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        rows = await self._read(
            lambda c: c.execute(Q["list_clients"], {"tenant": tenant}).fetchall()
        )
        return [_client(r) for r in rows]

    async def revoke_client(self, client_id: str, *, at: dt.datetime) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time)."""

        def run(c: sqlite3.Connection) -> sqlite3.Row | None:
            c.execute(Q["revoke_client"], {"id": client_id, "at": _ts(at)})
            row: sqlite3.Row | None = c.execute(Q["get_client"], {"id": client_id}).fetchone()
            return row

        row = await self._write(run)
        return None if row is None else _client(row)

    async def set_client_secret(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace a live client's secret hash; None when unknown or revoked."""

        def run(c: sqlite3.Connection) -> sqlite3.Row | None:
            params = {"id": client_id, "secret_hash": secret_hash}
            if c.execute(Q["set_client_secret"], params).rowcount == 0:
                return None
            row: sqlite3.Row = c.execute(Q["get_client"], {"id": client_id}).fetchone()
            return row

        row = await self._write(run)
        return None if row is None else _client(row)

    def _signing_key(self, row: sqlite3.Row) -> SigningKey:
        return SigningKey(
            kid=row["kid"],
            private_key=self._sealer.open(
                bytes(row["private_key"]), context=signing_key_context(row["kid"])
            ),
            created_at=_must_dt(row["created_at"]),
        )

    def _signing_key_params(self, key: SigningKey) -> dict[str, Any]:
        return {
            "kid": key.kid,
            "private_key": self._sealer.seal(key.private_key, context=signing_key_context(key.kid)),
            "created_at": _ts(key.created_at),
        }

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Insert ``candidate`` unless a key exists; return the oldest key."""
        params = self._signing_key_params(candidate)

        def run(c: sqlite3.Connection) -> sqlite3.Row:
            c.execute(Q["insert_signing_key_if_none"], params)
            row: sqlite3.Row = c.execute(Q["get_signing_key"]).fetchone()
            return row

        return self._signing_key(await self._write(run))

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key (it signs from now on, as the newest)."""
        params = self._signing_key_params(key)
        await self._write(lambda c: c.execute(Q["insert_signing_key"], params))

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""
        rows = await self._read(lambda c: c.execute(Q["list_signing_keys"]).fetchall())
        return [self._signing_key(r) for r in rows]

    # -- records ----------------------------------------------------------------------
    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people in one transaction."""

        def run(c: sqlite3.Connection) -> list[Written[Person]]:
            first = self._next_versions(c, tenant, len(drafts)) if drafts else 0
            written = []
            for offset, d in enumerate(drafts):
                old = c.execute(Q["get_person_any"], {"tenant": tenant, "id": d.id}).fetchone()
                person = Person(
                    id=d.id,
                    badge_number=d.badge_number,
                    employee_number=d.employee_number,
                    change_version=first + offset,
                )
                c.execute(
                    Q["upsert_person"],
                    {
                        "tenant": tenant,
                        "id": d.id,
                        "badge_number": d.badge_number,
                        "employee_number": d.employee_number,
                        "change_version": person.change_version,
                    },
                )
                written.append(Written(record=person, created=old is None or bool(old["deleted"])))
            return written

        return await self._write(run)

    async def get_person(self, tenant: str, person_id: int) -> Person | None:
        """Return a live person."""
        row = await self._read(
            lambda c: c.execute(Q["get_person_any"], {"tenant": tenant, "id": person_id}).fetchone()
        )
        return None if row is None or row["deleted"] else _person(row)

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a person that no live work interruption refers to."""
        key = {"tenant": tenant, "id": person_id}

        def run(c: sqlite3.Connection) -> Person | None:
            row = c.execute(Q["get_person_any"], key).fetchone()
            if row is None or row["deleted"]:
                return None
            if c.execute(Q["person_in_use"], key).fetchone() is not None:
                raise ConflictError(
                    f"Person {person_id} still has work interruptions",
                    reasons=(f"id: delete the work interruptions of person {person_id} first",),
                )
            version = self._next_versions(c, tenant, 1)
            c.execute(Q["tombstone_person"], {**key, "change_version": version})
            c.execute(Q["delete_person_references"], key)
            return Person(
                id=person_id,
                badge_number=None,
                employee_number=None,
                change_version=version,
                deleted=True,
            )

        return await self._write(run)

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Check the people, then upsert every record in one transaction."""

        def run(c: sqlite3.Connection) -> list[Written[WorkInterruption]]:
            missing = []
            for pid in sorted({d.person_id for d in drafts}):
                row = c.execute(Q["get_person_any"], {"tenant": tenant, "id": pid}).fetchone()
                if row is None or row["deleted"]:
                    missing.append(pid)
            if missing:
                raise UnknownPersonError.for_ids(missing)
            first = self._next_versions(c, tenant, len(drafts), work=True) if drafts else 0
            written = []
            for offset, d in enumerate(drafts):
                key = {"tenant": tenant, "id": d.id}
                old = c.execute(Q["get_work_interruption_any"], key).fetchone()
                params = {
                    **key,
                    "person_id": d.person_id,
                    "date": d.date.isoformat(),
                    "duration_in_minutes": d.duration_in_minutes,
                    "start_time_in_minutes": d.start_time_in_minutes,
                    "end_time_in_minutes": d.end_time_in_minutes,
                    "change_version": first + offset,
                }
                c.execute(Q["upsert_work_interruption"], params)
                record = WorkInterruption(
                    id=d.id,
                    person_id=d.person_id,
                    date=d.date,
                    duration_in_minutes=d.duration_in_minutes,
                    start_time_in_minutes=d.start_time_in_minutes,
                    end_time_in_minutes=d.end_time_in_minutes,
                    change_version=first + offset,
                )
                written.append(Written(record=record, created=old is None or bool(old["deleted"])))
            return written

        return await self._write(run)

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption | None:
        """Return a live work interruption."""
        key = {"tenant": tenant, "id": record_id}
        row = await self._read(lambda c: c.execute(Q["get_work_interruption_any"], key).fetchone())
        return None if row is None or row["deleted"] else _record(row)

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Replace a live record by its tombstone."""
        key = {"tenant": tenant, "id": record_id}

        def run(c: sqlite3.Connection) -> WorkInterruption | None:
            row = c.execute(Q["get_work_interruption_any"], key).fetchone()
            if row is None or row["deleted"]:
                return None
            version = self._next_versions(c, tenant, 1, work=True)
            c.execute(Q["tombstone_work_interruption"], {**key, "change_version": version})
            return _record(c.execute(Q["get_work_interruption_any"], key).fetchone())

        return await self._write(run)

    async def read_changes(self, tenant: str, *, after: int, limit: int) -> list[WorkInterruption]:
        """One indexed range scan over ``(tenant, change_version)``."""
        params = {"tenant": tenant, "after": after, "limit": limit}
        rows = await self._read(lambda c: c.execute(Q["read_changes"], params).fetchall())
        return [_record(r) for r in rows]

    async def read_changes_many(
        self, requests: Sequence[tuple[str, int, int]]
    ) -> list[list[WorkInterruption]]:
        """Every request's range read, in one read transaction and one thread hop.

        (SQLite takes no correlated ``LIMIT``, so each request is its own statement.)
        """

        def run(c: sqlite3.Connection) -> list[list[WorkInterruption]]:
            return [
                [
                    _record(r)
                    for r in c.execute(
                        Q["read_changes"], {"tenant": tenant, "after": after, "limit": limit}
                    )
                ]
                for tenant, after, limit in requests
            ]

        return await self._read(run)

    async def head_version(self, tenant: str) -> int:
        """Return the tenant's latest committed version."""
        row = await self._read(
            lambda c: c.execute(Q["head_version"], {"tenant": tenant}).fetchone()
        )
        return 0 if row is None else int(row[0])

    # -- webhooks ---------------------------------------------------------------------
    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Insert a webhook whose cursor is the tenant's head, atomically."""
        params = {
            "id": new.id,
            "tenant": new.tenant,
            "destination_url": new.destination_url,
            "collection": new.collection.value,
            "secret": self._sealer.seal(new.secret, context=webhook_context(new.id)),
            "created_at": _ts(new.created_at),
            "valid_until": _ts(new.valid_until),
            "external_references": _references_to_json(new.external_references).decode(),
        }

        def run(c: sqlite3.Connection) -> Webhook:
            if max_enabled is not None:
                (enabled,) = c.execute(Q["count_enabled_webhooks"], params).fetchone()
                if enabled >= max_enabled:
                    raise TooManyWebhooksError.limit(max_enabled)
            c.execute(Q["insert_webhook"], params)
            return _webhook(c.execute(Q["get_webhook"], params).fetchone(), self._sealer)

        return await self._write(run)

    async def get_webhook(self, tenant: str, webhook_id: str) -> Webhook | None:
        """Return the tenant's webhook, deleted or not."""
        key = {"tenant": tenant, "id": webhook_id}
        row = await self._read(lambda c: c.execute(Q["get_webhook"], key).fetchone())
        return None if row is None else _webhook(row, self._sealer)

    async def list_webhooks(self, tenant: str) -> list[Webhook]:
        """Return the tenant's live webhooks, oldest first."""
        rows = await self._read(
            lambda c: c.execute(Q["list_webhooks"], {"tenant": tenant}).fetchall()
        )
        return [_webhook(r, self._sealer) for r in rows]

    async def delete_webhook(self, tenant: str, webhook_id: str, *, at: dt.datetime) -> bool:
        """Soft-delete a live webhook."""
        params = {"tenant": tenant, "id": webhook_id, "at": _ts(at)}
        return await self._write(lambda c: c.execute(Q["delete_webhook"], params).rowcount == 1)

    # -- delivery ---------------------------------------------------------------------
    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Many[str] = (),
        after: str = "",
        full: Many[str] = (),
    ) -> list[Webhook]:
        """Webhooks with work that may send now, tenants taking turns (a read: no leases)."""
        params = {
            "now": _ts(now),
            "limit": limit,
            "holding": _encode_json(sorted(holding)),
            "after": after,
            "full": _encode_json(sorted(full)),
        }
        rows = await self._read(lambda c: c.execute(Q["due_webhooks"], params).fetchall())
        return [_webhook(r, self._sealer) for r in rows]

    async def hold_delivery(self) -> None:
        """Take the database's delivery lock; ``DeliveryHeldError`` if another process has it.

        Two processes delivering from one file would send every window twice and could
        send an older version of a record after a newer one; API-only processes share the
        file freely. The lock is an OS file lock, so a killed deliverer frees it at once.
        """
        if self._delivery_lock is None:
            self._delivery_lock = await self._on(self._writer_pool, _lock_delivery, self._path)

    async def settle_tenants(self, *, now: dt.datetime) -> int:
        """Mark settled the tenants whose sendable webhooks have all caught up."""
        params = {"now": _ts(now)}
        return await self._write(lambda c: c.execute(Q["settle_tenants"], params).rowcount)

    async def renew_leases(self, webhook_ids: Many[str]) -> set[str]:
        """One worker per database here: it holds every webhook."""
        return set(webhook_ids)

    async def release_leases(self, webhook_ids: Many[str]) -> None:
        """No leases on SQLite: one worker per database."""

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Changes come from this process only; its services wake the worker directly."""

    async def disable_expired(self, *, now: dt.datetime) -> int:
        """Disable webhooks past ``valid_until``."""
        params = {"now": _ts(now)}
        return await self._write(lambda c: c.execute(Q["disable_expired"], params).rowcount)

    async def apply_window(self, outcome: WindowOutcome) -> bool:
        """Apply one window's outcome (see ``apply_windows``)."""
        return outcome.webhook_id in await self.apply_windows([outcome])

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Move the cursors (compare-and-set) and insert the attempts, in one transaction.

        A constant number of statements per batch, fed JSON arrays: the writer thread then
        needs the GIL a few times per batch rather than a few times per window.
        """
        # A batch's attempts share few instants: format each once, not per attempt.
        stamps: dict[dt.datetime | None, str | None] = {None: None}

        def stamp(value: dt.datetime | None) -> str | None:
            if value not in stamps:
                stamps[value] = _ts_or_none(value)
            return stamps[value]

        rows = _encode_json(
            [
                (
                    o.webhook_id,
                    o.tenant,
                    o.expected_cursor,
                    o.cursor,
                    o.failures,
                    stamp(o.next_attempt_at),
                    o.disabled_reason,
                    stamp(o.caught_up_at),
                )
                for o in outcomes
            ]
        )
        # Positional, in the column order insert_attempts names.
        attempts = {
            o.webhook_id: [
                (
                    a.webhook_id,
                    a.message_id,
                    a.record_id,
                    a.change_version,
                    stamp(a.attempted_at),
                    int(a.succeeded),
                    a.status_code,
                    a.latency_ms,
                    a.error_class,
                    a.response_excerpt,
                    stamp(a.next_attempt_at),
                )
                for a in o.attempts
            ]
            for o in outcomes
        }

        def run(c: sqlite3.Connection) -> dict[str, bool]:
            moved = c.execute(Q["apply_windows"], {"outcomes": rows}).fetchall()
            applied = {r["id"]: bool(r["active"]) for r in moved}
            c.execute(Q["unsettle_tenants"], {"outcomes": rows})
            kept = [a for webhook_id in applied for a in attempts[webhook_id]]
            if kept:
                batch = {"attempts": _encode_json(kept)}
                c.execute(Q["insert_attempts"], batch)
                c.execute(Q["upsert_deliveries"], batch)
            return applied

        return await self._write(run)

    async def list_attempts(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """Newest attempts first."""
        params = {"webhook_id": webhook_id, "limit": limit}
        rows = await self._read(lambda c: c.execute(Q["list_attempts"], params).fetchall())
        return [_attempt(r) for r in rows]

    async def list_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        """Newest last attempt first, keyset-paged on ``(last_attempt_at, id)``."""
        statuses = None if query.statuses is None else _encode_json(sorted(query.statuses))
        params = {
            "webhook_id": query.webhook_id,
            "statuses": statuses,
            "since": _ts_or_none(query.since),
            "until": _ts_or_none(query.until),
            "after_at": None if query.after is None else _ts(query.after[0]),
            "after_id": None if query.after is None else query.after[1],
            "limit": query.limit,
        }
        rows = await self._read(lambda c: c.execute(Q["list_deliveries"], params).fetchall())
        return [_delivery(r) for r in rows]

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """One delivery and all its attempts, oldest first, from one snapshot."""
        key = {"webhook_id": webhook_id, "message_id": delivery_id}

        def run(c: sqlite3.Connection) -> tuple[Delivery, list[DeliveryAttempt]] | None:
            row = c.execute(Q["get_delivery"], key).fetchone()
            if row is None:
                return None
            attempts = c.execute(Q["delivery_attempts"], key).fetchall()
            return _delivery(row), [_attempt(a) for a in attempts]

        return await self._read(run)

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Delete attempts and deliveries last tried before ``before``; return attempts deleted."""
        params = {"before": _ts(before)}

        def run(c: sqlite3.Connection) -> int:
            deleted: int = c.execute(Q["purge_attempts"], params).rowcount
            c.execute(Q["purge_deliveries"], params)
            return deleted

        return await self._write(run)

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Counts by status, and the webhooks behind or failing, from one snapshot."""
        params = {"limit": limit}

        def run(c: sqlite3.Connection) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
            return (
                c.execute(Q["webhooks_by_status"]).fetchall(),
                c.execute(Q["webhooks_behind"], params).fetchall(),
            )

        statuses, rows = await self._read(run)
        return BacklogReport(
            by_status={WebhookStatus(r["status"]): r["count"] for r in statuses},
            behind=rows[0]["behind"] if rows else 0,
            failing=rows[0]["failing"] if rows else 0,
            worst=[
                WebhookBacklog(
                    webhook_id=r["id"],
                    tenant=r["tenant"],
                    created_at=_must_dt(r["created_at"]),
                    caught_up_at=_dt(r["caught_up_at"]),
                    changes_behind=r["changes_behind"],
                    failures=r["failures"],
                )
                for r in rows[:limit]
            ],
        )

    # -- reads and external references ------------------------------------------------
    async def list_work_interruptions(
        self, tenant: str, query: WorkInterruptionQuery
    ) -> list[WorkInterruption]:
        """One keyset page over the ``(tenant, date, id)`` index of live records."""
        selection = query.selection
        persons = selection.person_ids
        params = {
            "tenant": tenant,
            "date_from": selection.date_from.isoformat(),
            "date_to": selection.date_to.isoformat(),
            "persons": None if persons is None else _encode_json(sorted(persons)),
            "after_date": None if query.after is None else query.after[0].isoformat(),
            "after_id": None if query.after is None else query.after[1],
            "limit": query.limit,
        }
        rows = await self._read(
            lambda c: c.execute(Q["list_work_interruptions"], params).fetchall()
        )
        return [_record(r) for r in rows]

    async def references_for(
        self, tenant: str, person_ids: Many[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each person's non-empty values of ``keys`` (predefined and custom), in one snapshot."""
        ids = _encode_json(sorted(person_ids))
        custom_keys = _encode_json([k for k in keys if not k.startswith("@")])

        def run(c: sqlite3.Connection) -> dict[int, dict[str, str]]:
            found: dict[int, dict[str, str]] = {}
            for row in c.execute(Q["predefined_references"], {"tenant": tenant, "ids": ids}):
                values = {
                    BADGE_NUMBER: row["badge_number"],
                    EMPLOYEE_NUMBER: row["employee_number"],
                }
                found[row["id"]] = {k: v for k in keys if (v := values.get(k))}
            params = {"tenant": tenant, "ids": ids, "keys": custom_keys}
            for row in c.execute(Q["custom_references"], params):
                if row["value"] and row["person_id"] in found:
                    found[row["person_id"]][row["key"]] = row["value"]
            return {pid: {k: refs[k] for k in keys if k in refs} for pid, refs in found.items()}

        return await self._read(run)

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references, or None when the person does not exist."""
        key = {"tenant": tenant, "id": person_id}

        def run(c: sqlite3.Connection) -> dict[str, str] | None:
            person = c.execute(Q["get_person_any"], key).fetchone()
            if person is None or person["deleted"]:
                return None
            return {r["key"]: r["value"] for r in c.execute(Q["person_custom_references"], key)}

        return await self._read(run)

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set one custom reference; False if the person does not exist; 409 on a taken value."""
        params = {"tenant": tenant, "id": person_id, "key": key, "value": value}

        def run(c: sqlite3.Connection) -> bool:
            person = c.execute(Q["get_person_any"], params).fetchone()
            if person is None or person["deleted"]:
                return False
            owner = c.execute(Q["reference_owner"], params).fetchone()
            if owner is not None and owner["person_id"] != person_id:
                raise ConflictError.duplicate_reference(key, value, owner["person_id"])
            c.execute(Q["upsert_person_reference"], params)
            return True

        return await self._write(run)

    async def delete_custom_reference(self, tenant: str, person_id: int, key: str) -> bool:
        """Remove one custom reference; False if there was none."""
        params = {"tenant": tenant, "id": person_id, "key": key}
        return await self._write(
            lambda c: c.execute(Q["delete_person_reference"], params).rowcount == 1
        )

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group and its people; the org tree stays a tree."""
        params = {
            "tenant": tenant,
            "kind": group.kind.value,
            "id": group.id,
            "name": group.name,
            "parent_id": group.parent_id,
            "people": _encode_json(sorted(group.people)),
        }

        def run(c: sqlite3.Connection) -> bool:
            if group.parent_id is not None:
                above = {"tenant": tenant, "kind": group.kind.value, "id": group.parent_id}
                ancestors = {row["id"] for row in c.execute(G["group_ancestors"], above)}
                if not ancestors:
                    raise unknown_parent(group.parent_id)
                if group.id in ancestors:
                    raise group_in_a_cycle(group.id, group.parent_id)
            created = c.execute(G["get_group"], params).fetchone() is None
            c.execute(G["upsert_group"], params)
            c.execute(G["delete_group_members"], params)
            c.execute(G["insert_group_members"], params)
            return created

        return await self._write(run)

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}

        def run(c: sqlite3.Connection) -> PersonGroup | None:
            row = c.execute(G["get_group"], params).fetchone()
            if row is None:
                return None
            people = frozenset(r["person_id"] for r in c.execute(G["group_members"], params))
            return PersonGroup(
                kind=kind, id=row["id"], name=row["name"], parent_id=row["parent_id"], people=people
            )

        return await self._read(run)

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group; ``ConflictError`` while org-groups are below it."""
        params = {"tenant": tenant, "kind": kind.value, "id": group_id}

        def run(c: sqlite3.Connection) -> bool:
            if c.execute(G["group_has_children"], params).fetchone() is not None:
                raise group_has_subgroups(group_id)
            c.execute(G["delete_group_members"], params)
            return bool(c.execute(G["delete_group"], params).rowcount == 1)

        return await self._write(run)

    async def people_in_groups(
        self, tenant: str, kind: GroupKind, group_ids: Many[int]
    ) -> frozenset[int]:
        """The people of the groups and of every group below them, in one query."""
        params = {"tenant": tenant, "kind": kind.value, "ids": _encode_json(sorted(group_ids))}
        rows = await self._read(lambda c: c.execute(G["people_in_groups"], params).fetchall())
        return frozenset(row["person_id"] for row in rows)
