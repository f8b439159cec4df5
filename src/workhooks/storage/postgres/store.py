"""``PostgresStore``: the server store (asyncpg), for many API nodes and delivery workers.

- Change versions are commit-ordered: every write is one statement (a function of migration
  0003) that first locks its tenant's counter row and holds it until its commit, in the same
  round trip, so one tenant's versions are handed out and made visible in the same order; a
  reader that has seen V never later finds a newly committed change below V.
- Each enabled webhook is delivered by one worker at a time: ``due_webhooks`` claims with a
  lease (``FOR UPDATE SKIP LOCKED``), ``renew_leases`` is the heartbeat, an expired lease can
  be taken over, and ``apply_window`` only lands for the lease holder.
- Once a write has committed, its tenant is announced (``pg_notify``, coalesced, outside the
  write: see ``announcer``); ``listen`` wakes workers of every process.
- Connection failures surface as ``StoreUnavailableError`` (503 at the API).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import msgspec

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery, DeliveryStatus
from workhooks.domain.external_references import BADGE_NUMBER, EMPLOYEE_NUMBER, ExternalReference
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
from workhooks.domain.webhooks import Collection as WebhookCollection
from workhooks.domain.webhooks import NewWebhook, Webhook, WebhookStatus
from workhooks.errors import (
    ConflictError,
    StoreUnavailableError,
    TooManyWebhooksError,
    UnknownPersonError,
)
from workhooks.storage.postgres.announcer import Announcer
from workhooks.storage.postgres.connection import PoolSettings, translate_errors
from workhooks.storage.postgres.console import PostgresConsole
from workhooks.storage.protocol import BacklogReport, WebhookBacklog, WindowOutcome, Written
from workhooks.storage.sealing import (
    MAGIC,
    PREFIX_SIZE,
    Sealer,
    signing_key_context,
    webhook_context,
)
from workhooks.storage.sql import load_migrations, load_queries, pending_migrations

__all__ = ["PostgresStore"]

_T = TypeVar("_T", Person, WorkInterruption)
_D = TypeVar("_D", PersonDraft, WorkInterruptionDraft)

Q = load_queries("workhooks.storage.postgres")
_MIGRATIONS = "workhooks.storage.postgres.migrations"
G = load_queries("workhooks.storage.postgres", "groups.sql")
CHANNEL = "workhooks_changes"
_json = msgspec.json.Encoder().encode


def _record(row: asyncpg.Record) -> WorkInterruption:
    return WorkInterruption(
        id=row["id"],
        person_id=row["person_id"],
        date=row["date"],
        duration_in_minutes=row["duration_in_minutes"],
        start_time_in_minutes=row["start_time_in_minutes"],
        end_time_in_minutes=row["end_time_in_minutes"],
        change_version=row["change_version"],
        deleted=row["deleted"],
    )


def _webhook(row: asyncpg.Record, sealer: Sealer) -> Webhook:
    pairs: list[list[str]] = msgspec.json.decode(row["external_references"])
    return Webhook(
        id=row["id"],
        tenant=row["tenant"],
        destination_url=row["destination_url"],
        collection=WebhookCollection(row["collection"]),
        secret=sealer.open(bytes(row["secret"]), context=webhook_context(row["id"])),
        status=WebhookStatus(row["status"]),
        created_at=row["created_at"],
        valid_until=row["valid_until"],
        cursor=row["cursor"],
        deleted_at=row["deleted_at"],
        disabled_reason=row["disabled_reason"],
        failures=row["failures"],
        next_attempt_at=row["next_attempt_at"],
        external_references=tuple(ExternalReference(collection=c, key=k) for c, k in pairs),
    )


def _client(row: asyncpg.Record) -> Client:
    return Client(
        id=row["id"],
        tenant=row["tenant"],
        secret_hash=row["secret_hash"],
        scopes=parse_scopes(row["scopes"])[0],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def _attempt(row: asyncpg.Record) -> DeliveryAttempt:
    return DeliveryAttempt(
        webhook_id=row["webhook_id"],
        message_id=row["message_id"],
        record_id=row["record_id"],
        change_version=row["change_version"],
        attempted_at=row["attempted_at"],
        succeeded=row["succeeded"],
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error_class=row["error_class"],
        response_excerpt=row["response_excerpt"],
        next_attempt_at=row["next_attempt_at"],
    )


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        webhook_id=row["webhook_id"],
        id=row["message_id"],
        record_id=row["record_id"],
        change_version=row["change_version"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        first_attempt_at=row["first_attempt_at"],
        last_attempt_at=row["last_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error_class=row["last_error_class"],
        next_attempt_at=row["next_attempt_at"],
    )


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release a pooled connection without asyncpg's reset query (one round trip saved).

    The store leaves no session state behind: its advisory lock is transaction-scoped,
    it opens no cursors, sets nothing and listens on a connection of its own; an open
    transaction is still rolled back by the pool before this is called.
    """


def _last_per_id(drafts: list[tuple[int, _D]]) -> list[tuple[int, _D]]:
    """The last draft of each id with its position (a batch may name an id twice)."""
    last: dict[int, tuple[int, _D]] = {}
    for n, draft in drafts:
        last[draft.id] = (n, draft)
    return list(last.values())


@dataclass(frozen=True, slots=True)
class _Answer:
    """What a write function answered in its ``(kind, value)`` rows."""

    kind: str = ""  # the outcome of a delete (deleted, in_use, missing); missing people
    first: int = 0  # the first version the write took
    live: frozenset[int] = frozenset()  # ids that were live before the write
    missing: tuple[int, ...] = ()  # people a write of work interruptions named in vain

    @classmethod
    def read(cls, rows: Sequence[asyncpg.Record]) -> _Answer:
        values: dict[str, list[int]] = {}
        for row in rows:
            values.setdefault(row["kind"], []).append(row["value"])
        first = values.pop("first", None) or values.get("deleted") or [0]
        kinds = sorted(values)
        return cls(
            kind=kinds[0] if len(kinds) == 1 else "",
            first=first[0],
            live=frozenset(values.get("live", ())),
            missing=tuple(sorted(v for v in values.get("missing", ()) if v is not None)),
        )


def _written(records: Sequence[_T], live: frozenset[int]) -> list[Written[_T]]:
    """Pair each record with whether this write created it (it was not live before)."""
    seen = set(live)
    written = []
    for record in records:
        written.append(Written(record=record, created=record.id not in seen))
        seen.add(record.id)
    return written


class PostgresStore(PostgresConsole):
    """The ``Store`` on PostgreSQL; ``worker_id`` names this process in webhook leases.

    ``sealer`` seals the secrets it stores (webhook keys, token signing keys), so read
    access to the database is not enough to sign events or tokens.

    ``trace``, when given, is called with every statement sent on a pooled connection
    (the benchmarks count SQL per delivery with it); never set in production.
    """

    _row_delivery = staticmethod(_delivery)

    def _row_webhook(self, row: asyncpg.Record) -> Webhook:
        return _webhook(row, self._sealer)

    def __init__(
        self,
        dsn: str,
        *,
        sealer: Sealer,
        pool: PoolSettings | None = None,
        worker_id: str | None = None,
        lease_seconds: float = 30.0,
        trace: Callable[[str], None] | None = None,
    ) -> None:
        self._dsn = dsn
        self._sealer = sealer
        self._trace = trace
        self._pool_settings = pool or PoolSettings()
        self._pool: asyncpg.Pool | None = None
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self._lease_seconds = lease_seconds
        self._listener: asyncpg.Connection | None = None
        self.migrations_applied: tuple[str, ...] = ()
        self.schema_version = 0
        self._on_change: Callable[[str], None] | None = None
        self._announcer = Announcer(self._announce)

    # -- plumbing ---------------------------------------------------------------------
    async def open(self) -> None:
        """Create the pool and apply pending migrations (serialised by an advisory lock).

        Secrets stored in clear by an older version are sealed; a secret sealed with a
        master key that is not configured stops the start with ``MasterKeyError``.
        """
        with translate_errors():
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._pool_settings.min_size,
                max_size=self._pool_settings.max_size,
                command_timeout=self._pool_settings.command_timeout,
                init=self._traced if self._trace is not None else None,
                reset=_keep_session,
            )
        try:
            async with self._tx() as conn:
                await conn.execute("SELECT pg_advisory_xact_lock(7461737)")  # one migrator
                self.migrations_applied = await self._migrate(conn)
                await self._seal_secrets(conn)
        except BaseException:
            await self._pool.close()
            self._pool = None
            raise
        self.schema_version = len(load_migrations(_MIGRATIONS))

    async def _traced(self, conn: asyncpg.Connection) -> None:
        """Report every statement of a pooled connection (benchmarks; never in production)."""
        trace = self._trace
        if trace is not None:
            conn.add_query_logger(lambda record: trace(record.query))

    async def close(self) -> None:
        """Give up leases, stop listening, close the pool."""
        if self._pool is None:
            return
        await self._announcer.close()
        try:
            with translate_errors():
                await self._pool.execute(Q["release_leases"], self.worker_id)
        except StoreUnavailableError:
            pass  # the leases run out by themselves
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self._pool.close()
        self._pool = None

    async def ping(self) -> None:
        """Answer a trivial query on a pooled connection (``StoreUnavailableError`` if not)."""
        await self._fetch("SELECT 1")

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not awaited"
        with translate_errors():
            async with pool.acquire() as conn, conn.transaction():
                yield conn

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not awaited"
        with translate_errors():
            rows: list[asyncpg.Record] = await pool.fetch(query, *args)
            return rows

    async def _fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        rows = await self._fetch(query, *args)
        return rows[0] if rows else None

    @staticmethod
    async def _migrate(conn: asyncpg.Connection) -> tuple[str, ...]:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        done = {r["number"] for r in await conn.fetch("SELECT number FROM schema_migrations")}
        applied = []
        for number, name, sql in pending_migrations(_MIGRATIONS, done):
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (number, name) VALUES ($1, $2)", number, name
            )
            applied.append(f"{number:04d}_{name}")
        return tuple(applied)

    async def _seal_secrets(self, conn: asyncpg.Connection, *, prefix: bytes = MAGIC) -> int:
        """Seal anew every secret not starting with ``prefix``: by default only clear ones."""
        sealer = self._sealer
        keys = [
            (
                r["kid"],
                sealer.reseal(bytes(r["private_key"]), context=signing_key_context(r["kid"])),
            )
            for r in await conn.fetch(Q["list_signing_keys"])
            if not bytes(r["private_key"]).startswith(prefix)
        ]
        if keys:
            await conn.executemany(Q["set_signing_key_seal"], keys)
        rows = await conn.fetch(Q["webhook_secrets_not_starting"], prefix)
        secrets = [
            sealer.reseal(bytes(r["secret"]), context=webhook_context(r["id"])) for r in rows
        ]
        if rows:
            await conn.execute(Q["set_webhook_secrets"], [r["id"] for r in rows], secrets)
        prefixes = [
            bytes(r["prefix"]) for r in await conn.fetch(Q["webhook_secret_prefixes"], PREFIX_SIZE)
        ]
        sealer.check_prefixes(prefixes, what="webhook keys")
        return len(keys) + len(rows)

    async def reseal_secrets(self) -> int:
        """Seal every secret under the newest master key; return how many were sealed anew."""
        async with self._tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(7461737)")  # not during migration
            return await self._seal_secrets(conn, prefix=self._sealer.current_prefix)

    async def _write(self, query: str, tenant: str, *args: Any) -> _Answer:
        """Run one write function (its own transaction); announce the tenant once committed."""
        answer = _Answer.read(await self._fetch(query, tenant, *args))
        if answer.kind not in ("missing", "in_use"):
            self._announcer.changed(tenant)
        return answer

    async def _announce(self, tenants: Sequence[str]) -> None:
        pool = self._pool
        if pool is not None:
            await pool.execute(Q["announce"], list(tenants))

    async def listen(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(tenant)`` whenever a change commits, from any process."""
        self._on_change = callback
        await self._ensure_listener()

    async def _ensure_listener(self) -> None:
        """(Re)open the LISTEN connection; after a server restart the next round reopens it."""
        callback = self._on_change
        if callback is None or (self._listener is not None and not self._listener.is_closed()):
            return
        with translate_errors():
            listener = await asyncpg.connect(self._dsn)
            await listener.add_listener(
                CHANNEL, lambda _conn, _pid, _channel, payload: callback(payload)
            )
        self._listener = listener

    # -- auth -------------------------------------------------------------------------
    async def add_client(self, client: Client) -> None:
        """Register a client."""
        async with self._tx() as conn:
            await conn.execute(
                Q["insert_client"],
                client.id,
                client.tenant,
                client.secret_hash,
                " ".join(sorted(client.scopes)),
                client.created_at,
            )

    async def get_client(self, client_id: str) -> Client | None:
        """Return a client by id."""
        row = await self._fetchrow(Q["get_client"], client_id)
        return None if row is None else _client(row)

    async def list_clients(self, tenant: str | None = None) -> list[Client]:
        """Return the clients of ``tenant`` (of every tenant when None), revoked ones included."""
        return [_client(r) for r in await self._fetch(Q["list_clients"], tenant)]

    async def revoke_client(self, client_id: str, *, at: dt.datetime) -> Client | None:
        """Revoke a client (a revoked one keeps its first revocation time)."""
        row = await self._fetchrow(Q["revoke_client"], client_id, at)
        return None if row is None else _client(row)

    async def set_client_secret(self, client_id: str, secret_hash: str) -> Client | None:
        """Replace a live client's secret hash; None when unknown or revoked."""
        row = await self._fetchrow(Q["set_client_secret"], client_id, secret_hash)
        return None if row is None else _client(row)

    def _signing_key(self, row: asyncpg.Record) -> SigningKey:
        context = signing_key_context(row["kid"])
        return SigningKey(
            kid=row["kid"],
            private_key=self._sealer.open(bytes(row["private_key"]), context=context),
            created_at=row["created_at"],
        )

    def _sealed_key(self, key: SigningKey) -> tuple[str, bytes, dt.datetime]:
        sealed = self._sealer.seal(key.private_key, context=signing_key_context(key.kid))
        return key.kid, sealed, key.created_at

    async def ensure_signing_key(self, candidate: SigningKey) -> SigningKey:
        """Insert ``candidate`` unless a key exists; return the oldest key."""
        async with self._tx() as conn:
            await conn.execute(Q["insert_signing_key_if_none"], *self._sealed_key(candidate))
            row = await conn.fetchrow(Q["get_signing_key"])
        return self._signing_key(row)

    async def add_signing_key(self, key: SigningKey) -> None:
        """Store a new token signing key (it signs from now on, as the newest)."""
        async with self._tx() as conn:
            await conn.execute(Q["insert_signing_key"], *self._sealed_key(key))

    async def signing_keys(self) -> list[SigningKey]:
        """Every token signing key, oldest first."""
        return [self._signing_key(r) for r in await self._fetch(Q["list_signing_keys"])]

    # -- records ----------------------------------------------------------------------
    async def put_people(self, tenant: str, drafts: Sequence[PersonDraft]) -> list[Written[Person]]:
        """Upsert people: one statement, committed in the round trip that sends it."""
        if not drafts:
            return []
        rows = [
            {
                "n": n,
                "id": d.id,
                "badge_number": d.badge_number,
                "employee_number": d.employee_number,
            }
            for n, d in _last_per_id(list(enumerate(drafts)))
        ]
        answer = await self._write(Q["put_people"], tenant, len(drafts), _json(rows).decode())
        people = [
            Person(
                id=d.id,
                badge_number=d.badge_number,
                employee_number=d.employee_number,
                change_version=answer.first + n,
            )
            for n, d in enumerate(drafts)
        ]
        return _written(people, answer.live)

    async def get_person(self, tenant: str, person_id: int) -> Person | None:
        """Return a live person."""
        row = await self._fetchrow(Q["get_person_any"], tenant, person_id)
        if row is None or row["deleted"]:
            return None
        return Person(
            id=row["id"],
            badge_number=row["badge_number"],
            employee_number=row["employee_number"],
            change_version=row["change_version"],
        )

    async def delete_person(self, tenant: str, person_id: int) -> Person | None:
        """Tombstone a person no live work interruption refers to (one statement)."""
        answer = await self._write(Q["delete_person"], tenant, person_id)
        if answer.kind == "in_use":
            raise ConflictError(
                f"Person {person_id} still has work interruptions",
                reasons=(f"id: delete the work interruptions of person {person_id} first",),
            )
        if answer.kind != "deleted":
            return None
        return Person(
            id=person_id,
            badge_number=None,
            employee_number=None,
            change_version=answer.first,
            deleted=True,
        )

    async def put_work_interruptions(
        self, tenant: str, drafts: Sequence[WorkInterruptionDraft]
    ) -> list[Written[WorkInterruption]]:
        """Check the people and upsert every record: one statement, all or nothing."""
        if not drafts:
            return []
        rows = [
            {
                "n": n,
                "id": d.id,
                "person_id": d.person_id,
                "date": d.date.isoformat(),
                "duration_in_minutes": d.duration_in_minutes,
                "start_time_in_minutes": d.start_time_in_minutes,
                "end_time_in_minutes": d.end_time_in_minutes,
            }
            for n, d in _last_per_id(list(enumerate(drafts)))
        ]
        answer = await self._write(
            Q["put_work_interruptions"],
            tenant,
            len(drafts),
            _json(rows).decode(),
            sorted({d.person_id for d in drafts}),
        )
        if answer.missing:
            raise UnknownPersonError.for_ids(list(answer.missing))  # nothing was written
        records = [
            WorkInterruption(
                id=d.id,
                person_id=d.person_id,
                date=d.date,
                duration_in_minutes=d.duration_in_minutes,
                start_time_in_minutes=d.start_time_in_minutes,
                end_time_in_minutes=d.end_time_in_minutes,
                change_version=answer.first + n,
            )
            for n, d in enumerate(drafts)
        ]
        return _written(records, answer.live)

    async def get_work_interruption(self, tenant: str, record_id: int) -> WorkInterruption | None:
        """Return a live work interruption."""
        row = await self._fetchrow(Q["get_work_interruption_any"], tenant, record_id)
        return None if row is None or row["deleted"] else _record(row)

    async def delete_work_interruption(
        self, tenant: str, record_id: int
    ) -> WorkInterruption | None:
        """Replace a live record by its tombstone (one statement)."""
        row = await self._fetchrow(Q["delete_work_interruption"], tenant, record_id)
        if row is None:
            return None
        self._announcer.changed(tenant)
        return _record(row)

    async def read_changes(self, tenant: str, *, after: int, limit: int) -> list[WorkInterruption]:
        """One range scan of ``(tenant, change_version)``."""
        return [_record(r) for r in await self._fetch(Q["read_changes"], tenant, after, limit)]

    async def read_changes_many(
        self, requests: Sequence[tuple[str, int, int]]
    ) -> list[list[WorkInterruption]]:
        """One statement (a LATERAL range read per request) for all requests."""
        rows = await self._fetch(
            Q["read_changes_many"],
            [tenant for tenant, _, _ in requests],
            [after for _, after, _ in requests],
            [limit for _, _, limit in requests],
        )
        found: list[list[WorkInterruption]] = [[] for _ in requests]
        for row in rows:
            found[row["request"] - 1].append(_record(row))
        return found

    async def head_version(self, tenant: str) -> int:
        """The tenant's latest committed version."""
        row = await self._fetchrow(Q["head_version"], tenant)
        return 0 if row is None else int(row["head_version"])

    # -- webhooks ---------------------------------------------------------------------
    async def create_webhook(self, new: NewWebhook, *, max_enabled: int | None = None) -> Webhook:
        """Insert a webhook whose cursor is the tenant's head."""
        references = _json([[r.collection, r.key] for r in new.external_references]).decode()
        async with self._tx() as conn:
            if max_enabled is not None:
                counted = await conn.fetchrow(Q["count_enabled_webhooks"], new.tenant)
                if counted["enabled"] >= max_enabled:
                    raise TooManyWebhooksError.limit(max_enabled)
            row = await conn.fetchrow(
                Q["insert_webhook"],
                new.id,
                new.tenant,
                new.destination_url,
                new.collection.value,
                self._sealer.seal(new.secret, context=webhook_context(new.id)),
                new.created_at,
                new.valid_until,
                references,
            )
        return _webhook(row, self._sealer)

    async def get_webhook(self, tenant: str, webhook_id: str) -> Webhook | None:
        """The tenant's webhook, deleted or not."""
        row = await self._fetchrow(Q["get_webhook"], tenant, webhook_id)
        return None if row is None else _webhook(row, self._sealer)

    async def list_webhooks(self, tenant: str) -> list[Webhook]:
        """The tenant's live webhooks, oldest first."""
        return [_webhook(r, self._sealer) for r in await self._fetch(Q["list_webhooks"], tenant)]

    async def delete_webhook(self, tenant: str, webhook_id: str, *, at: dt.datetime) -> bool:
        """Soft-delete a live webhook."""
        async with self._tx() as conn:
            status: str = await conn.execute(Q["delete_webhook"], tenant, webhook_id, at)
        return status.endswith(" 1")

    # -- delivery ---------------------------------------------------------------------
    # The delivery path's statements are single statements, each atomic on its own, sent
    # without BEGIN/COMMIT: one round trip each (a worker round is four of them).

    async def due_webhooks(
        self,
        *,
        now: dt.datetime,
        limit: int,
        holding: Collection[str] = (),
        after: str = "",
        full: Collection[str] = (),
    ) -> list[Webhook]:
        """Claim (or renew) leases on due webhooks no other live worker holds."""
        await self._ensure_listener()
        rows = await self._fetch(
            Q["claim_due_webhooks"],
            now,
            self.worker_id,
            self._lease_seconds,
            limit,
            list(holding),
            after,
            list(full),
        )
        return [_webhook(r, self._sealer) for r in rows]

    async def hold_delivery(self) -> None:
        """Workers lease each webhook they deliver: any number of them may deliver."""

    async def settle_tenants(self, *, now: dt.datetime) -> int:
        """Mark settled the tenants whose sendable webhooks have all caught up."""
        return await self._count(Q["settle_tenants"], now)

    async def renew_leases(self, webhook_ids: Collection[str]) -> set[str]:
        """Extend this worker's leases; return the ids it still holds."""
        if not webhook_ids:
            return set()
        rows = await self._fetch(
            Q["renew_leases"], list(webhook_ids), self.worker_id, self._lease_seconds
        )
        return {r["id"] for r in rows}

    async def release_leases(self, webhook_ids: Collection[str]) -> None:
        """Give back this worker's leases on ``webhook_ids``."""
        if webhook_ids:
            await self._count(Q["release_some_leases"], list(webhook_ids), self.worker_id)

    async def _count(self, query: str, *args: Any) -> int:
        """Run one statement outside a transaction block; return the rows it touched."""
        pool = self._pool
        assert pool is not None, "PostgresStore.open() was not awaited"
        with translate_errors():
            status: str = await pool.execute(query, *args)
        return int(status.rsplit(" ", 1)[1])

    async def disable_expired(self, *, now: dt.datetime) -> int:
        """Disable webhooks past ``valid_until``."""
        return await self._count(Q["disable_expired"], now)

    async def apply_window(self, outcome: WindowOutcome) -> bool:
        """Apply one window's outcome (see ``apply_windows``)."""
        return outcome.webhook_id in await self.apply_windows([outcome])

    async def apply_windows(self, outcomes: Sequence[WindowOutcome]) -> dict[str, bool]:
        """Compare-and-set each cursor (lease holder only), store back-off, record attempts.

        One statement: the attempt rows are written only for the cursors that moved.
        """
        if not outcomes:
            return {}
        rows = await self._fetch(
            Q["apply_windows"],
            _outcomes_json(outcomes),
            self.worker_id,
            self._lease_seconds,
            _attempts_json([a for o in outcomes for a in o.attempts]),
            [o.webhook_id for o in outcomes],
        )
        return {r["id"]: r["active"] for r in rows}

    async def list_attempts(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """Newest attempts first."""
        return [_attempt(r) for r in await self._fetch(Q["list_attempts"], webhook_id, limit)]

    async def list_deliveries(self, query: DeliveryQuery) -> list[Delivery]:
        """Newest last attempt first, keyset-paged."""
        statuses = None if query.statuses is None else sorted(query.statuses)
        rows = await self._fetch(
            Q["list_deliveries"],
            query.webhook_id,
            statuses,
            query.since,
            query.until,
            None if query.after is None else query.after[0],
            None if query.after is None else query.after[1],
            query.limit,
        )
        return [_delivery(r) for r in rows]

    async def get_delivery(
        self, webhook_id: str, delivery_id: str
    ) -> tuple[Delivery, list[DeliveryAttempt]] | None:
        """One delivery and its attempts, from one snapshot."""
        async with self._tx() as conn:
            row = await conn.fetchrow(Q["get_delivery"], webhook_id, delivery_id)
            if row is None:
                return None
            attempts = await conn.fetch(Q["delivery_attempts"], webhook_id, delivery_id)
        return _delivery(row), [_attempt(a) for a in attempts]

    async def purge_history(self, *, before: dt.datetime) -> int:
        """Delete history last tried before ``before``."""
        async with self._tx() as conn:
            status: str = await conn.execute(Q["purge_attempts"], before)
            await conn.execute(Q["purge_deliveries"], before)
        return int(status.rsplit(" ", 1)[1])

    async def webhook_backlogs(self, *, limit: int) -> BacklogReport:
        """Counts by status, and the webhooks behind or failing, from one snapshot."""
        async with self._tx() as conn:
            statuses = await conn.fetch(Q["webhooks_by_status"])
            rows = await conn.fetch(Q["webhooks_behind"], limit)
        return BacklogReport(
            by_status={WebhookStatus(r["status"]): r["count"] for r in statuses},
            behind=rows[0]["behind"] if rows else 0,
            failing=rows[0]["failing"] if rows else 0,
            worst=[
                WebhookBacklog(
                    webhook_id=r["id"],
                    tenant=r["tenant"],
                    created_at=r["created_at"],
                    caught_up_at=r["caught_up_at"],
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
        """One keyset page over ``(tenant, date, id)``."""
        selection = query.selection
        persons = None if selection.person_ids is None else sorted(selection.person_ids)
        rows = await self._fetch(
            Q["list_work_interruptions"],
            tenant,
            selection.date_from,
            selection.date_to,
            persons,
            None if query.after is None else query.after[0],
            None if query.after is None else query.after[1],
            query.limit,
        )
        return [_record(r) for r in rows]

    async def references_for(
        self, tenant: str, person_ids: Collection[int], keys: Sequence[str]
    ) -> dict[int, dict[str, str]]:
        """Each live person's non-empty values of ``keys``."""
        ids = sorted(person_ids)
        custom = [k for k in keys if not k.startswith("@")]
        async with self._tx() as conn:
            people = await conn.fetch(Q["predefined_references"], tenant, ids)
            extra = await conn.fetch(Q["custom_references"], tenant, ids, custom)
        found: dict[int, dict[str, str]] = {}
        for row in people:
            values = {BADGE_NUMBER: row["badge_number"], EMPLOYEE_NUMBER: row["employee_number"]}
            found[row["id"]] = {k: v for k in keys if (v := values.get(k))}
        for row in extra:
            if row["value"] and row["person_id"] in found:
                found[row["person_id"]][row["key"]] = row["value"]
        return {pid: {k: refs[k] for k in keys if k in refs} for pid, refs in found.items()}

    async def get_custom_references(self, tenant: str, person_id: int) -> dict[str, str] | None:
        """A live person's custom references, or None."""
        async with self._tx() as conn:
            person = await conn.fetchrow(Q["get_person_any"], tenant, person_id)
            if person is None or person["deleted"]:
                return None
            rows = await conn.fetch(Q["person_custom_references"], tenant, person_id)
        return {r["key"]: r["value"] for r in rows}

    async def set_custom_reference(self, tenant: str, person_id: int, key: str, value: str) -> bool:
        """Set one reference; False for an unknown person; ``ConflictError`` on a taken value."""
        async with self._tx() as conn:
            person = await conn.fetchrow(Q["get_person_any"], tenant, person_id)
            if person is None or person["deleted"]:
                return False
            owner = await conn.fetchval(Q["reference_owner"], tenant, key, value)
            if owner is not None and owner != person_id:
                raise ConflictError.duplicate_reference(key, value, owner)
            try:
                await conn.execute(Q["upsert_person_reference"], tenant, person_id, key, value)
            except asyncpg.UniqueViolationError as exc:  # a concurrent writer took it first
                raise ConflictError.duplicate_reference(key, value, -1) from exc
        return True

    async def delete_custom_reference(self, tenant: str, person_id: int, key: str) -> bool:
        """Remove one reference."""
        async with self._tx() as conn:
            status: str = await conn.execute(Q["delete_person_reference"], tenant, person_id, key)
        return status.endswith(" 1")

    async def put_group(self, tenant: str, group: PersonGroup) -> bool:
        """Create or replace a group and its people; the org tree stays a tree (the tree
        of a tenant has one writer at a time)."""
        kind = group.kind.value
        async with self._tx() as conn:
            await conn.execute(G["lock_tree"], tenant, kind)
            if group.parent_id is not None:
                rows = await conn.fetch(G["group_ancestors"], tenant, kind, group.parent_id)
                ancestors = {row["id"] for row in rows}
                if not ancestors:
                    raise unknown_parent(group.parent_id)
                if group.id in ancestors:
                    raise group_in_a_cycle(group.id, group.parent_id)
            created: bool = await conn.fetchval(
                G["upsert_group"], tenant, kind, group.id, group.name, group.parent_id
            )
            await conn.execute(G["delete_group_members"], tenant, kind, group.id)
            await conn.execute(
                G["insert_group_members"], tenant, kind, group.id, sorted(group.people)
            )
        return created

    async def get_group(self, tenant: str, kind: GroupKind, group_id: int) -> PersonGroup | None:
        """Return a group with its people."""
        async with self._tx() as conn:
            row = await conn.fetchrow(G["get_group"], tenant, kind.value, group_id)
            if row is None:
                return None
            members = await conn.fetch(G["group_members"], tenant, kind.value, group_id)
        return PersonGroup(
            kind=kind,
            id=row["id"],
            name=row["name"],
            parent_id=row["parent_id"],
            people=frozenset(m["person_id"] for m in members),
        )

    async def delete_group(self, tenant: str, kind: GroupKind, group_id: int) -> bool:
        """Delete a group; ``ConflictError`` while org-groups are below it."""
        async with self._tx() as conn:
            await conn.execute(G["lock_tree"], tenant, kind.value)
            if await conn.fetchval(G["group_has_children"], tenant, kind.value, group_id):
                raise group_has_subgroups(group_id)
            await conn.execute(G["delete_group_members"], tenant, kind.value, group_id)
            status: str = await conn.execute(G["delete_group"], tenant, kind.value, group_id)
        return status.endswith(" 1")

    async def people_in_groups(
        self, tenant: str, kind: GroupKind, group_ids: Collection[int]
    ) -> frozenset[int]:
        """The people of the groups and of every group below them, in one query."""
        rows = await self._fetch(G["people_in_groups"], tenant, kind.value, sorted(group_ids))
        return frozenset(row["person_id"] for row in rows)


def _outcomes_json(outcomes: Sequence[WindowOutcome]) -> str:
    return _json(
        [
            {
                "webhook_id": o.webhook_id,
                "tenant": o.tenant,
                "expected_cursor": o.expected_cursor,
                "cursor": o.cursor,
                "failures": o.failures,
                "next_attempt_at": _iso(o.next_attempt_at),
                "disabled_reason": o.disabled_reason,
                "caught_up_at": _iso(o.caught_up_at),
                "keep_lease": o.keep_lease,
            }
            for o in outcomes
        ]
    ).decode()


def _attempts_json(attempts: Sequence[DeliveryAttempt]) -> str:
    return _json(
        [
            {
                "webhook_id": a.webhook_id,
                "message_id": a.message_id,
                "record_id": a.record_id,
                "change_version": a.change_version,
                "attempted_at": a.attempted_at.isoformat(),
                "succeeded": a.succeeded,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error_class": a.error_class,
                "response_excerpt": a.response_excerpt,
                "next_attempt_at": _iso(a.next_attempt_at),
            }
            for a in attempts
        ]
    ).decode()
