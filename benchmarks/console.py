"""How long the console's pages take with 100,000 webhooks and a million deliveries.

    .venv/bin/python -m benchmarks.console [--postgres ADMIN_URL] [--webhooks N] [--deliveries N]

10,000 tenants share the webhooks; the deliveries (one attempt each, every tenth failed
with 503) are spread over the first 1,000 webhooks and the last hour, written straight
into the history tables. An operator signs in, then each page is fetched through the app
(built by ``bootstrap.runtime``, no worker) ``FETCHES`` times; the figures are the median
and slowest time per page.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from benchmarks.common import Backend
from benchmarks.fleet import insert_webhooks
from workhooks.bootstrap import runtime
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.web.clients import PAGE as CLIENT_PAGE

__all__ = ["console_pages"]

TENANTS = 10_000
HOOKS_WITH_HISTORY = 1_000
FETCHES = 10
PASSWORD = "benchmark password"  # noqa: S105 - an account of a throw-away database

_SQLITE_HISTORY = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1),
hooks AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM webhooks LIMIT :hooks),
rows AS (
    SELECT hooks.id AS webhook_id, n.i,
        strftime('%Y-%m-%dT%H:%M:%f', :start, '+' || (n.i * 3600.0 / :count) || ' seconds')
            || '000+00:00' AS at
    FROM n JOIN hooks ON hooks.k = n.i % :hooks
)
INSERT INTO {table}
SELECT {columns} FROM rows
"""
_DELIVERY_COLUMNS = (
    "webhook_id, printf('msg_%020d', i), i % 5000 + 1, i + 1,"
    " CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Succeeded' END, 1, at, at,"
    " CASE WHEN i % 10 = 0 THEN 503 ELSE 204 END,"
    " CASE WHEN i % 10 = 0 THEN 'unavailable' END, NULL"
)
_ATTEMPT_COLUMNS = (
    "NULL, webhook_id, printf('msg_%020d', i), i % 5000 + 1, i + 1, at, i % 10 != 0,"
    " CASE WHEN i % 10 = 0 THEN 503 ELSE 204 END, 12.5,"
    " CASE WHEN i % 10 = 0 THEN 'unavailable' END, '', NULL"
)
_POSTGRES_HISTORY = """
WITH hooks AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM webhooks LIMIT $2),
rows AS (
    SELECT hooks.id AS webhook_id, n.i, $3::timestamptz + n.i * (interval '1 hour' / $1) AS at
    FROM generate_series(0, $1 - 1) AS n(i) JOIN hooks ON hooks.k = n.i % $2
)
"""


def _sqlite_history(path: str, count: int, start: dt.datetime) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        params = {"count": count, "hooks": HOOKS_WITH_HISTORY, "start": start.isoformat()[:19]}
        conn.execute("BEGIN IMMEDIATE")
        for table, columns in (
            ("deliveries", _DELIVERY_COLUMNS),
            ("delivery_attempts", _ATTEMPT_COLUMNS),
        ):
            conn.execute(_SQLITE_HISTORY.format(table=table, columns=columns), params)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def _postgres_history(url: str, count: int, start: dt.datetime) -> None:
    deliveries = (
        "INSERT INTO deliveries SELECT webhook_id, 'msg_' || lpad(i::text, 20, '0'),"
        " i % 5000 + 1, i + 1, CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Succeeded' END, 1,"
        " at, at, CASE WHEN i % 10 = 0 THEN 503 ELSE 204 END,"
        " CASE WHEN i % 10 = 0 THEN 'unavailable' END, NULL FROM rows"
    )
    attempts = (
        "INSERT INTO delivery_attempts (webhook_id, message_id, record_id, change_version,"
        " attempted_at, succeeded, status_code, latency_ms, error_class, response_excerpt,"
        " next_attempt_at) SELECT webhook_id, 'msg_' || lpad(i::text, 20, '0'), i % 5000 + 1,"
        " i + 1, at, i % 10 != 0, CASE WHEN i % 10 = 0 THEN 503 ELSE 204 END, 12.5,"
        " CASE WHEN i % 10 = 0 THEN 'unavailable' END, '', NULL FROM rows"
    )
    conn = await asyncpg.connect(url)
    try:
        for statement in (deliveries, attempts):
            await conn.execute(_POSTGRES_HISTORY + statement, count, HOOKS_WITH_HISTORY, start)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _time(http: httpx.AsyncClient, path: str) -> tuple[float, float]:
    times = []
    for _ in range(FETCHES):
        started = time.perf_counter()
        answer = await http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return round(statistics.median(times), 1), round(max(times), 1)


async def console_pages(backend: Backend, *, webhooks: int, deliveries: int) -> dict[str, Any]:
    """Seed, sign in, time every page; return the figures."""
    tenants = [f"console-{n:05}" for n in range(min(TENANTS, webhooks))]
    per_tenant = max(1, webhooks // len(tenants))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    async with backend.database() as url, runtime(Settings.of(database_url=url, dev=True)) as rt:
        hooks = [
            (t, f"https://hooks.example.com/{t}/{i}") for t in tenants for i in range(per_tenant)
        ]
        ids = await insert_webhooks(url, hooks)
        await rt.store.reseal_secrets()  # the bulk insert wrote clear keys: seal them as served
        if url.startswith("sqlite:///"):
            await asyncio.to_thread(
                _sqlite_history, url.removeprefix("sqlite:///"), deliveries, start
            )
        else:
            await _postgres_history(url, deliveries, start)
        await rt.services.sessions.create_operator("bench", PASSWORD)
        for name in tenants[: 2 * CLIENT_PAGE]:  # two pages of tenants with a client each
            await rt.services.clients.create(name, frozenset({Scope.WEBHOOKS_READ}))
        app: Any = rt.app
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            form = await http.get("/console/sign-in")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert token is not None
            await http.post(
                "/console/sign-in", data={"csrf": token[1], "name": "bench", "password": PASSWORD}
            )
            busy = sorted(ids)[0]
            tenant = next(t for (t, _), i in zip(hooks, ids, strict=True) if i == busy)
            pages = {
                "overview": "/console",
                "overview's rates plot": "/console/rates.svg",
                "overview's lag plot": "/console/lag.svg",
                "tenants and clients": "/console/tenants",
                "webhooks": "/console/webhooks",
                "webhooks, one tenant": f"/console/webhooks?tenant={tenant}",
                "webhooks, search a URL": "/console/webhooks?q=console-09999/3",
                "deliveries": "/console/deliveries",
                "deliveries, failed 503": "/console/deliveries?status=Failed&code=503",
                "deliveries, one record": "/console/deliveries?record=4321",
                "deliveries, one tenant": f"/console/deliveries?tenant={tenant}",
                "a webhook": f"/console/tenants/{tenant}/webhooks/{busy}",
                "a delivery": f"/console/tenants/{tenant}/webhooks/{busy}/deliveries/"
                + "msg_00000000000000000000",
            }
            figures = {name: await _time(http, path) for name, path in pages.items()}
    return {
        "store": backend.name,
        "webhooks": len(hooks),
        "deliveries": deliveries,
        "pages_ms": {name: {"median": m, "max": x} for name, (m, x) in figures.items()},
    }


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backends = [Backend.sqlite(Path(folder))]
        if args.postgres:
            backends.append(Backend.postgres(Path(folder), args.postgres))
        for backend in backends:
            result = await console_pages(
                backend, webhooks=args.webhooks, deliveries=args.deliveries
            )
            print(
                result["store"], result["webhooks"], "webhooks,", result["deliveries"], "deliveries"
            )
            for name, figure in result["pages_ms"].items():
                print(
                    f"  {name:28} median {figure['median']:8.1f} ms   max {figure['max']:8.1f} ms"
                )


def main() -> None:
    """Parse the arguments and print the figures of each store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="ADMIN_URL")
    parser.add_argument("--webhooks", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
