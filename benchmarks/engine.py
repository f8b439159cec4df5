"""The engine under test as real processes, and changes written through its HTTP API.

On SQLite the engine is one ``workhooks serve`` process (API and worker: a write wakes the
worker in-process, the only wake-up SQLite has). On PostgreSQL it is an API node
(``workhooks serve --no-worker``) and a ``workhooks worker`` woken by NOTIFY, as
docs/deployment.md runs them. Either way the benchmark writes through the API, as a
client would, so a change's clock starts in a process the engine cannot slow down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import msgspec

from benchmarks.api_load import USER_AGENT
from benchmarks.processes import serve_process, worker_process
from workhooks.api.paths import API_PREFIX
from workhooks.bootstrap import Runtime
from workhooks.config import Settings
from workhooks.domain.change_version import parse_version
from workhooks.domain.records import WorkInterruptionDraft
from workhooks.domain.scopes import Scope
from workhooks.testing import TEST_MASTER_KEY

__all__ = [
    "ENGINE_ENV",
    "ApiWriter",
    "Engine",
    "Write",
    "create_clients",
    "engine_env",
    "engine_processes",
    "engine_settings",
]

# The delivery settings every measure here runs with, pinned at their defaults so a run
# records what it measured. Variables an engine does not know are ignored by it.
ENGINE_ENV: dict[str, str] = {
    "WORKHOOKS_DELIVERY_CONCURRENCY": "32",
    "WORKHOOKS_WEBHOOK_CONCURRENCY": "32",
    "WORKHOOKS_WINDOWS_IN_FLIGHT": "256",
    "WORKHOOKS_MAX_WEBHOOKS_PER_TENANT": "10000",
}
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)  # a hung API fails the measure, bounded


def engine_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``ENGINE_ENV`` with ``extra`` settings on top."""
    return {**ENGINE_ENV, **(extra or {})}


def engine_settings(database_url: str, env: Mapping[str, str]) -> Settings:
    """Settings of an in-process engine from the same ``WORKHOOKS_*`` variables (dev mode)."""
    return Settings.from_env(
        {**env, "WORKHOOKS_DEV": "true", "WORKHOOKS_MASTER_KEY": TEST_MASTER_KEY},
        database_url=database_url,
    )


@dataclass(frozen=True, slots=True)
class Engine:
    """A running engine: its API's base URL, the pid of the process that delivers, its logs."""

    api: str
    worker_pid: int
    shape: str
    logs: tuple[Path, ...] = ()

    def log_tail(self, size: int = 3_000) -> str:
        """The end of each process's log, for error messages."""
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-size:]}" for p in self.logs
        )


@asynccontextmanager
async def engine_processes(
    database_url: str, folder: Path, env: Mapping[str, str], *, stop_seconds: float = 10.0
) -> AsyncIterator[Engine]:
    """Start the engine on ``database_url`` (see the module's docstring); stop it on exit.

    Stopping waits ``stop_seconds`` for the graceful shutdown, then kills: a window to a
    hung destination would otherwise hold the run for the whole delivery timeout.
    """
    if database_url.startswith("sqlite:"):
        async with serve_process(database_url, folder, env, stop_seconds=stop_seconds) as one:
            assert one.base_url is not None
            yield Engine(one.base_url, one.pid, "workhooks serve (API and worker)", (one.log,))
        return
    async with (
        serve_process(database_url, folder, env, worker=False, stop_seconds=stop_seconds) as api,
        worker_process(database_url, folder, env, stop_seconds=stop_seconds) as worker,
    ):
        assert api.base_url is not None
        shape = "workhooks serve --no-worker + workhooks worker"
        yield Engine(api.base_url, worker.pid, shape, (api.log, worker.log))


async def create_clients(rt: Runtime, tenants: Iterable[str]) -> dict[str, tuple[str, str]]:
    """An API client (id, secret) with every scope for each tenant, made through the store."""
    found: dict[str, tuple[str, str]] = {}
    for tenant in tenants:
        new = await rt.services.clients.create(tenant, frozenset(Scope))
        found[tenant] = (new.client.id, new.secret)
    return found


@dataclass(frozen=True, slots=True)
class Write:
    """One acknowledged write: its tenant and change version, when it started and returned."""

    tenant: str
    version: int
    started: float
    acknowledged: float


class ApiWriter:
    """Writes work interruptions through the engine's API with each tenant's token."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self._http = http
        self._base = base_url
        self._headers: dict[str, dict[str, str]] = {}

    async def sign_in(self, clients: Mapping[str, tuple[str, str]], *, parallel: int = 8) -> None:
        """Get a bearer token for each tenant's client (client credentials grant)."""
        slots = asyncio.Semaphore(parallel)

        async def one(tenant: str, client: tuple[str, str]) -> None:
            form = {"grant_type": "client_credentials", "client_id": client[0]}
            form["client_secret"] = client[1]
            url = f"{self._base}/tenants/{tenant}/connect/token"
            async with slots, self._http.post(url, data=form, timeout=_REQUEST_TIMEOUT) as answer:
                answer.raise_for_status()
                token = _decode(await answer.read())["access_token"]
            self._headers[tenant] = {
                "User-Agent": USER_AGENT,
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            }

        await asyncio.gather(*(one(t, c) for t, c in clients.items()))

    async def put(self, tenant: str, change: WorkInterruptionDraft) -> Write:
        """``PUT /work-interruptions/{id}``: one change in one transaction, as a client sends it."""
        body = _encode(
            {
                "person": {"id": change.person_id},
                "date": change.date.isoformat(),
                "durationInMinutes": change.duration_in_minutes,
                "startTimeInMinutes": change.start_time_in_minutes,
                "endTimeInMinutes": change.end_time_in_minutes,
            }
        )
        url = f"{self._base}{API_PREFIX}/work-interruptions/{change.id}"
        headers = self._headers[tenant]
        started = time.monotonic()
        async with self._http.put(
            url, data=body, headers=headers, timeout=_REQUEST_TIMEOUT
        ) as answer:
            raw = await answer.read()
            acknowledged = time.monotonic()
            if answer.status not in (200, 201):
                raise RuntimeError(f"PUT {url} answered {answer.status}: {raw[:300]!r}")
        version = parse_version(_decode(raw)["changeVersion"])
        return Write(tenant, version, started, acknowledged)
