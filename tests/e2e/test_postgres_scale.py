"""Scale-out on PostgreSQL: workers taking over each other's webhooks, and a server restart."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import AGENT, spawn, start_server, stop_server, workhooks_env
from tests.e2e.scale_helpers import (
    API,
    Receivers,
    source_state,
    write_until_acknowledged,
)
from tests.postgres import reachable, reset_database
from tests.reliability import report

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
WEBHOOKS = 50
RECORD_IDS = range(1, 151)


def _batch(rng: random.Random, n: int) -> dict[str, Any]:
    ids = sorted(rng.sample(list(RECORD_IDS), 100))
    return {
        "value": [
            {
                "id": i,
                "person": {"id": 1 + i % 5},
                "date": f"2026-03-{1 + (i + n) % 28:02}",
                "durationInMinutes": n % 60,
                "startTimeInMinutes": 60,
                "endTimeInMinutes": 120,
            }
            for i in ids
        ]
    }


async def _setup(http: httpx.AsyncClient, receivers: Receivers) -> None:
    for person_id in range(1, 6):
        answer = await write_until_acknowledged(http, "PUT", f"{API}/people/{person_id}", {})
        assert answer.status_code in (200, 201)
    for n in range(WEBHOOKS):
        answer = await http.post(
            f"{API}/webhooks",
            json={
                "destinationUrl": f"{receivers.base}/{n}",
                "collectionName": "work-interruptions",
            },
        )
        assert answer.status_code == 201, answer.text


async def _write(http: httpx.AsyncClient, rng: random.Random, batches: int) -> None:
    for n in range(batches):
        answer = await write_until_acknowledged(
            http, "POST", f"{API}/work-interruptions/batch", _batch(rng, n)
        )
        assert answer.status_code == 200, answer.text
        for record_id in rng.sample(list(RECORD_IDS), 5):
            await write_until_acknowledged(http, "DELETE", f"{API}/work-interruptions/{record_id}")


def _all_match(receivers: Receivers, source: dict[int, dict[str, Any]]) -> bool:
    return all(receivers.matches(str(n), source) for n in range(WEBHOOKS))


async def _converged(
    http: httpx.AsyncClient, receivers: Receivers, within: float, scenario: str
) -> None:
    source = await source_state(http)
    assert source, "the writes left no live record"
    try:
        async with asyncio.timeout(within):
            # The receivers fill from other processes' deliveries: poll them.
            while not _all_match(receivers, source):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    finally:
        _report(scenario, receivers, source)
    for n in range(WEBHOOKS):
        assert receivers.newest(str(n))[1] == []


def _report(scenario: str, receivers: Receivers, source: dict[int, dict[str, Any]]) -> None:
    hooks = [str(n) for n in range(WEBHOOKS)]
    events = [
        (n, e["data"]["id"], e["data"]["changeVersion"])
        for n in hooks
        for e in receivers.events.get(n, [])
    ]
    report(
        scenario,
        webhooks=WEBHOOKS,
        records=len(source),
        events_received=len(events),
        duplicated=len(events) - len(set(events)),
        receivers_not_matching=sum(1 for n in hooks if not receivers.matches(n, source)),
        out_of_order=sum(len(receivers.newest(n)[1]) for n in hooks),
    )


async def _watch_lease_holders(url: str, holders: set[str]) -> None:
    """Collect every worker seen holding a lease while the test runs."""
    conn = await asyncpg.connect(url)
    try:
        while True:
            rows = await conn.fetch(
                "SELECT DISTINCT leased_by FROM webhooks WHERE leased_by IS NOT NULL"
            )
            holders.update(r["leased_by"] for r in rows)
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def test_three_workers_survive_one_killed_and_deliver_everything_in_order(
    tmp_path: Path, postgres_database: str
) -> None:
    """With 3 workers on one database, SIGKILL of one loses nothing and reorders nothing."""
    await reset_database(postgres_database)
    api = await asyncio.to_thread(
        start_server, tmp_path, database_url=postgres_database, worker=False
    )
    env = workhooks_env(WORKHOOKS_DEV="1", WORKHOOKS_LEASE_SECONDS="2", WORKHOOKS_CLAIM_BATCH="8")
    workers = [
        spawn(tmp_path, ["worker", "--database-url", postgres_database], env=env) for _ in range(3)
    ]
    receivers = Receivers()
    await receivers.start()
    try:
        token = await asyncio.to_thread(api.token, "acme", "all")
        headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=30) as http:
            await _setup(http, receivers)
            holders: set[str] = set()
            watching = asyncio.create_task(_watch_lease_holders(postgres_database, holders))
            rng = random.Random(5)
            await _write(http, rng, 10)
            workers[0].send_signal(signal.SIGKILL)
            await _write(http, rng, 10)
            await _converged(
                http, receivers, within=120, scenario="3 workers on PostgreSQL, one kill -9"
            )
            watching.cancel()
        assert len(holders) >= 2, f"the workers should share the webhooks, saw {holders}"
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        await receivers.stop()
        await asyncio.to_thread(stop_server, api)


def _restart_postgres() -> None:
    """Restart the local PostgreSQL cluster, and return once it accepts connections again."""
    versions = sorted(os.listdir("/etc/postgresql"))
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    deadline = time.monotonic() + 60
    while reachable() is not None:  # later tests of this run need the server back
        if time.monotonic() > deadline:
            raise AssertionError("PostgreSQL did not come back within 60 s of its restart")
        time.sleep(0.2)


def _can_restart() -> bool:
    return shutil.which("pg_ctlcluster") is not None and os.path.isdir("/etc/postgresql")


async def test_a_postgres_restart_mid_run_loses_nothing(
    tmp_path: Path, postgres_database: str
) -> None:
    """API and worker ride out a real server restart by themselves; every change arrives."""
    if not _can_restart():
        message = "PostgreSQL restart test skipped: pg_ctlcluster is not available here"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    await reset_database(postgres_database)
    server = await asyncio.to_thread(start_server, tmp_path, database_url=postgres_database)
    receivers = Receivers()
    await receivers.start()
    try:
        token = await asyncio.to_thread(server.token, "acme", "all")
        headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
            await _setup(http, receivers)
            rng = random.Random(9)
            writer = asyncio.create_task(_write(http, rng, 12))
            await asyncio.sleep(1.0)
            assert not writer.done(), "the load ended before the restart"
            await asyncio.to_thread(_restart_postgres)
            await writer
            await _converged(
                http, receivers, within=120, scenario="PostgreSQL server restart mid-run"
            )
        assert server.process.poll() is None, "the server must survive the restart"
    finally:
        await receivers.stop()
        await asyncio.to_thread(stop_server, server)
