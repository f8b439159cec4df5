"""Many tenants and webhooks for the scaling measures (setup only, never measured).

Records are always written through the store, so every tenant's row (its version counter
and whatever the engine keeps beside it) is maintained as in production. Webhooks are
created through the webhook service, except large numbers of them, which are inserted
straight into the ``webhooks`` table in one transaction, naming their columns (the other
columns keep their defaults), each with its cursor at its tenant's head, as
``create_webhook`` sets it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from benchmarks.common import PEOPLE, draft
from workhooks.bootstrap import Runtime
from workhooks.domain.records import PersonDraft
from workhooks.storage.protocol import Store

__all__ = ["insert_webhooks", "seed_tenants", "subscribe"]

_COLUMNS = (
    "id",
    "tenant",
    "destination_url",
    "collection",
    "secret",
    "status",
    "created_at",
    "valid_until",
    "cursor",
)
_VALIDITY = dt.timedelta(days=30)  # the default WORKHOOKS_WEBHOOK_VALIDITY_DAYS


async def seed_tenants(
    store: Store,
    tenants: Sequence[str],
    *,
    people: int = PEOPLE,
    records: int = 0,
    parallel: int = 8,
) -> None:
    """Give each tenant ``people`` people and ``records`` work interruptions (ids 1, 2, ...)
    of those people.

    Two store calls per tenant, ``parallel`` tenants at a time (PostgreSQL commits them in
    groups; SQLite's single writer takes them in turn).
    """
    slots = asyncio.Semaphore(parallel)
    staff = [PersonDraft(id=i) for i in range(1, people + 1)]

    async def one(tenant: str) -> None:
        async with slots:
            await store.put_people(tenant, staff)
            if records:
                changes = [
                    dataclasses.replace(draft(r, r), person_id=1 + r % people)
                    for r in range(1, records + 1)
                ]
                await store.put_work_interruptions(tenant, changes)

    await asyncio.gather(*(one(t) for t in tenants))


async def subscribe(rt: Runtime, tenant: str, urls: Sequence[str]) -> list[str]:
    """Create one webhook per URL through the webhook service; return their ids."""
    ids = []
    for url in urls:
        created = await rt.services.webhooks.create(
            tenant, destination_url=url, collection_name="work-interruptions"
        )
        ids.append(created.webhook.id)
    return ids


def _rows(hooks: Sequence[tuple[str, str]], heads: dict[str, int]) -> list[tuple[Any, ...]]:
    now = dt.datetime.now(dt.UTC)
    return [
        (
            str(uuid.uuid4()),
            tenant,
            url,
            "work-interruptions",
            secrets.token_bytes(32),
            "Enabled",
            now,
            now + _VALIDITY,
            heads.get(tenant, 0),
        )
        for tenant, url in hooks
    ]


def _sqlite_insert(path: str, hooks: Sequence[tuple[str, str]]) -> list[str]:
    def stamp(value: dt.datetime) -> str:  # the SQLite store's fixed-width UTC text
        return value.isoformat(timespec="microseconds")

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("BEGIN IMMEDIATE")
        heads = dict(conn.execute("SELECT tenant, head_version FROM tenants").fetchall())
        rows = [(*r[:6], stamp(r[6]), stamp(r[7]), r[8]) for r in _rows(hooks, heads)]
        marks = ", ".join("?" for _ in _COLUMNS)
        sql = f"INSERT INTO webhooks ({', '.join(_COLUMNS)}) VALUES ({marks})"  # noqa: S608
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return [r[0] for r in rows]


async def _postgres_insert(url: str, hooks: Sequence[tuple[str, str]]) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            heads = {
                r["tenant"]: r["head_version"]
                for r in await conn.fetch("SELECT tenant, head_version FROM tenants")
            }
            rows = _rows(hooks, heads)
            await conn.copy_records_to_table("webhooks", records=rows, columns=list(_COLUMNS))
        await conn.execute("ANALYZE webhooks")
    finally:
        await conn.close()
    return [r[0] for r in rows]


async def insert_webhooks(database_url: str, hooks: Sequence[tuple[str, str]]) -> list[str]:
    """Insert enabled webhooks, one per (tenant, destination URL), in one transaction.

    Each starts at its tenant's current head, so it has nothing to deliver until the tenant
    writes again; returns their ids in order.
    """
    if not hooks:
        return []
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        return await asyncio.to_thread(_sqlite_insert, path, hooks)
    return await _postgres_insert(database_url, hooks)
