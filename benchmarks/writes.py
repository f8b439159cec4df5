"""Single-record writes/s: 1, 4 and 16 writers on one tenant, 16 writers on 16 tenants.

Through the store (a process of its own, ``benchmarks.write_load``) and through the API (a
real ``workhooks serve`` with its worker, no webhooks; aiohttp clients here sending
``PUT /work-interruptions/{id}``). With ``reference`` (a source folder of another version,
e.g. a checkout of the commit before a change) every shape is measured with that version
right after today's, on a fresh database each, so both see the same machine load.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec

from benchmarks.common import ROOT, Backend, access_token, say
from benchmarks.delivery import percentiles
from benchmarks.processes import serve_process
from workhooks.api.paths import API_PREFIX
from workhooks.testing import TEST_MASTER_KEY

__all__ = ["SHAPES", "writes"]

# (tenants, writers)
SHAPES = ((1, 1), (1, 4), (1, 16), (16, 16))
USER_AGENT = "WorkhooksBench/1.0 (workhooks)"
_RECORDS = 10_000
_PEOPLE = 10


def _environment(source: Path | None) -> dict[str, str]:
    """Run ``source``'s workhooks (and this checkout's benchmarks) when given."""
    env = {"WORKHOOKS_MASTER_KEY": TEST_MASTER_KEY}
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source), str(ROOT)])
    return env


async def _write_load(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.write_load",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
        cwd=ROOT,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"write_load {args[0]} failed:\n{err.decode(errors='replace')}")
    found: dict[str, Any] = json.loads(out)
    return found


def _summary(writes: int, seconds: float, latencies_s: list[float]) -> dict[str, Any]:
    timing = percentiles([s * 1000 for s in latencies_s]) if len(latencies_s) > 1 else {}
    timing.pop("curve_ms", None)
    return {"writes": writes, "seconds": seconds, "per_second": writes / seconds, **timing}


async def _through_store(
    url: str, env: Mapping[str, str], tenants: int, writers: int, seconds: float
) -> dict[str, Any]:
    await _write_load(env, "prepare", url, str(tenants))
    load = _write_load(env, "store", url, str(tenants), str(writers), str(seconds))
    if not url.startswith("postgresql"):
        found = await load
        return _summary(found["writes"], found["seconds"], found["latencies"])
    stop = asyncio.Event()
    waits = asyncio.create_task(_sample_waits(url, stop))
    try:
        found = await load
    finally:
        stop.set()
    return {**_summary(found["writes"], found["seconds"], found["latencies"]), **await waits}


async def _sample_waits(url: str, stop: asyncio.Event) -> dict[str, Any]:
    """What the database's backends wait on, sampled every 20 ms while the load runs.

    ``waits`` counts backend-samples per ``type:event``: ``Lock:object`` on COMMIT is the
    cluster-wide notification lock, ``Lock:tuple`` and ``Lock:transactionid`` a row lock,
    ``IO:WALSync`` the commit's flush.
    """
    conn = await asyncpg.connect(url)
    counts: dict[str, int] = {}
    samples = 0
    try:
        while not stop.is_set():
            rows = await conn.fetch(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND wait_event IS NOT NULL"
            )
            samples += 1
            for row in rows:
                key = f"{row['wait_event_type']}:{row['wait_event']}"
                counts[key] = counts.get(key, 0) + 1
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return {"wait_samples": samples, "waits": dict(sorted(counts.items(), key=lambda kv: -kv[1]))}


async def _through_api(
    url: str, folder: Path, env: Mapping[str, str], tenants: int, writers: int, seconds: float
) -> dict[str, Any]:
    clients = (await _write_load(env, "prepare", url, str(tenants)))["clients"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=writers)
    async with (
        serve_process(url, folder, env) as server,
        aiohttp.ClientSession(connector=connector) as http,
    ):
        assert server.base_url is not None
        tokens = [
            await access_token(http, server.base_url, c["tenant"], (c["id"], c["secret"]))
            for c in clients
        ]

        async def writer(n: int, until: float) -> None:
            rng = random.Random(n)
            headers = {
                "User-Agent": USER_AGENT,
                "Authorization": f"Bearer {tokens[n % tenants]}",
                "Content-Type": "application/json",
            }
            while (started := time.perf_counter()) < until:
                record = rng.randrange(1, _RECORDS + 1)
                minutes = rng.randrange(1, 600)
                body = msgspec.json.encode(
                    {
                        "person": {"id": rng.randrange(1, _PEOPLE + 1)},
                        "date": f"2026-03-{rng.randrange(1, 29):02d}",
                        "durationInMinutes": minutes,
                        "startTimeInMinutes": 0,
                        "endTimeInMinutes": minutes,
                    }
                )
                target = f"{server.base_url}{API_PREFIX}/work-interruptions/{record}"
                async with http.put(target, data=body, headers=headers) as answer:
                    await answer.read()
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(writer(n, time.perf_counter() + 0.5) for n in range(writers)))
        latencies.clear()
        statuses.clear()
        began = time.perf_counter()
        await asyncio.gather(*(writer(n, began + seconds) for n in range(writers)))
        elapsed = time.perf_counter() - began
    ok = sum(n for status, n in statuses.items() if status in (200, 201))
    return {
        **_summary(ok, elapsed, latencies),
        "errors": sum(statuses.values()) - ok,
    }


async def writes(
    backend: Backend,
    folder: Path,
    *,
    seconds: float,
    reference: Path | None = None,
    shapes: Sequence[tuple[int, int]] = SHAPES,
) -> dict[str, Any]:
    """Writes/s per shape (tenants, writers) and path, today's code and the reference's."""
    versions: dict[str, Path | None] = {"today": None}
    if reference is not None:
        versions["reference"] = reference
    found: dict[str, Any] = {"shapes": [], "reference": str(reference) if reference else None}
    for tenants, writers in shapes:
        row: dict[str, Any] = {"tenants": tenants, "writers": writers}
        for path in ("store", "api"):
            for version, source in versions.items():
                say(
                    f"[{backend.name}] writes via {path}, {writers} writer(s) on "
                    f"{tenants} tenant(s), {version} ..."
                )
                env = _environment(source)
                async with backend.database() as url:
                    if path == "store":
                        result = await _through_store(url, env, tenants, writers, seconds)
                    else:
                        result = await _through_api(url, folder, env, tenants, writers, seconds)
                row[f"{path}_{version}"] = result
        found["shapes"].append(row)
    return found
