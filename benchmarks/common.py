"""What every measure shares: sizes, the receiver process, test data, scratch databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec

from benchmarks.sizes import Sizes
from workhooks.bootstrap import Runtime
from workhooks.config import Settings
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.master_key import load_sealer
from workhooks.storage.postgres.connection import PoolSettings
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import TEST_MASTER_KEY

__all__ = [
    "PEOPLE",
    "ROOT",
    "TENANT",
    "Backend",
    "Receiver",
    "Sizes",
    "access_token",
    "bench_settings",
    "draft",
    "load_changes",
    "receiver_process",
    "remove_sqlite_files",
    "say",
    "scratch_database",
    "setup_tenant",
]

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
PEOPLE = 50
_decode = msgspec.json.Decoder().decode


def say(text: str) -> None:
    """Progress on stderr (the results go to stdout)."""
    print(text, file=sys.stderr, flush=True)


async def access_token(
    http: aiohttp.ClientSession, base_url: str, tenant: str, client: tuple[str, str]
) -> str:
    """A bearer token for ``client`` (id, secret) of ``tenant``: the client credentials grant."""
    form = {"grant_type": "client_credentials", "client_id": client[0], "client_secret": client[1]}
    async with http.post(f"{base_url}/tenants/{tenant}/connect/token", data=form) as answer:
        answer.raise_for_status()
        token: str = _decode(await answer.read())["access_token"]
        return token


def bench_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings of the process under test: defaults, development mode (loopback receivers).

    (Revisions before the settings were grouped take the flat names directly: so
    ``benchmarks.compare`` can run these measures against them.)
    """
    build: Any = getattr(Settings, "of", Settings)
    settings: Settings = build(
        database_url=database_url, dev=True, master_key=TEST_MASTER_KEY, **overrides
    )
    return settings


def draft(record_id: int, n: int) -> WorkInterruptionDraft:
    """The ``n``-th change, to record ``record_id``; each change alters the duration."""
    return WorkInterruptionDraft(
        id=record_id,
        person_id=1 + record_id % PEOPLE,
        date=dt.date(2026, 1, 1) + dt.timedelta(days=record_id % 100),
        duration_in_minutes=n % 60,
        start_time_in_minutes=600,
        end_time_in_minutes=660,
    )


async def setup_tenant(rt: Runtime, hook_urls: Sequence[str], *, tenant: str = TENANT) -> None:
    """The tenant's people, and one webhook per URL (each starts at the tenant's head)."""
    await rt.services.records.put_people(tenant, [PersonDraft(id=i) for i in range(1, PEOPLE + 1)])
    for url in hook_urls:
        await rt.services.webhooks.create(
            tenant, destination_url=url, collection_name="work-interruptions"
        )


async def load_changes(
    store: Store, changes: int, records: int, *, batch: int = 1_000, tenant: str = TENANT
) -> dict[int, int]:
    """Write ``changes`` changes cycling over ``records`` ids with the store's batch writes.

    Returns the final version of each record (what a receiver must end up holding).
    """
    final: dict[int, int] = {}
    done = 0
    while done < changes:
        # Consecutive ids modulo ``records``: never twice in one batch.
        size = min(batch, changes - done, records)
        drafts = [draft(1 + (done + k) % records, done + k) for k in range(size)]
        for written in await store.put_work_interruptions(tenant, drafts):
            final[written.record.id] = written.record.change_version
        done += size
    return final


def remove_sqlite_files(path: Path) -> None:
    """Delete a SQLite database file with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Receiver:
    """The control side of a receiver process."""

    def __init__(
        self, base_url: str, http: aiohttp.ClientSession, pid: int, listening_at: float
    ) -> None:
        self.base_url = base_url
        self.pid = pid
        self.listening_at = listening_at
        self._http = http

    def hook_url(self, name: str = "1") -> str:
        """The URL of one destination on this receiver."""
        return f"{self.base_url}/hook/{name}"

    async def reset(self, *, arrivals: bool = False) -> None:
        """Forget everything received; with ``arrivals``, note each version's arrival time."""
        params = {"arrivals": "1" if arrivals else "0"}
        async with self._http.post(f"{self.base_url}/control/reset", params=params) as answer:
            answer.raise_for_status()

    async def expect(self, final: dict[int, int]) -> None:
        """Tell the receiver the final version of each record it must end up holding."""
        body = {"ids": list(final), "versions": list(final.values())}
        url = f"{self.base_url}/control/expect"
        async with self._http.post(url, data=msgspec.json.encode(body)) as answer:
            answer.raise_for_status()

    async def wait(
        self,
        *,
        count: int = 0,
        final: bool = False,
        timeout: float = 600.0,  # noqa: ASYNC109 - passed on to the receiver
    ) -> dict[str, Any]:
        """Wait until ``count`` deliveries arrived (or the final state is held); the stats."""
        params = {"count": str(count), "final": "1" if final else "0", "timeout": str(timeout)}
        client_timeout = aiohttp.ClientTimeout(total=timeout + 30)
        url = f"{self.base_url}/control/wait"
        async with self._http.get(url, params=params, timeout=client_timeout) as answer:
            answer.raise_for_status()
            stats: dict[str, Any] = _decode(await answer.read())
        if final and stats["final_at"] is None:
            raise TimeoutError(f"receiver did not reach the final state in {timeout} s: {stats}")
        if stats["count"] < count:
            raise TimeoutError(f"receiver got {stats['count']} of {count} in {timeout} s")
        return stats

    async def stats(self) -> dict[str, Any]:
        """Counters now."""
        async with self._http.get(f"{self.base_url}/control/stats") as answer:
            answer.raise_for_status()
            stats: dict[str, Any] = _decode(await answer.read())
            return stats

    async def arrivals(self) -> dict[int, float]:
        """Arrival time of each change version (when tracking was asked for at reset)."""
        async with self._http.get(f"{self.base_url}/control/arrivals") as answer:
            answer.raise_for_status()
            pairs: list[list[float]] = _decode(await answer.read())
        return {int(v): t for v, t in pairs}

    async def hook_arrivals(self, since: float = 0.0) -> dict[tuple[str, int], float]:
        """First arrival time of each (hook name, change version), for arrivals after ``since``.

        Versions are per tenant, so measures with several tenants key them by hook name.
        """
        url = f"{self.base_url}/control/hook-arrivals"
        async with self._http.get(url, params={"since": repr(since)}) as answer:
            answer.raise_for_status()
            rows: list[tuple[str, int, float]] = _decode(await answer.read())
        return {(name, int(v)): t for name, v, t in rows}


@asynccontextmanager
async def receiver_process(port: int = 0) -> AsyncIterator[Receiver]:
    """Start ``python -m benchmarks.receiver`` on 127.0.0.1; stop it (SIGTERM) on exit."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.receiver",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"receiver did not start: {line!r}")
        _, bound, listening_at = line.split()
        connector = aiohttp.TCPConnector(limit=4)
        async with aiohttp.ClientSession(connector=connector) as http:
            yield Receiver(f"http://127.0.0.1:{int(bound)}", http, process.pid, float(listening_at))
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database on ``admin_url``'s server, dropped afterwards."""
    name = f"workhooks_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """Where the measures keep their data: SQLite files in ``folder``, or PostgreSQL."""

    name: str
    folder: Path
    admin_url: str | None = None

    @classmethod
    def sqlite(cls, folder: Path) -> Backend:
        """A fresh SQLite file per measure."""
        return cls(name="sqlite", folder=folder)

    @classmethod
    def postgres(cls, folder: Path, admin_url: str) -> Backend:
        """A fresh database per measure on the server of ``admin_url``."""
        return cls(name="postgres", folder=folder, admin_url=admin_url)

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """The URL of an empty database, removed afterwards."""
        if self.admin_url is None:
            path = self.folder / f"bench-{uuid.uuid4().hex[:8]}.db"
            try:
                yield f"sqlite:///{path}"
            finally:
                remove_sqlite_files(path)
        else:
            async with scratch_database(self.admin_url) as url:
                yield url

    def store(self, url: str, settings: Settings, trace: Callable[[str], None]) -> Store:
        """The store ``make_store`` would build for ``url``, reporting each SQL statement."""
        if url.startswith("sqlite:///"):
            return SqliteStore(
                url.removeprefix("sqlite:///"), trace=trace, sealer=load_sealer(settings)
            )
        storage: Any = getattr(settings, "storage", settings)  # flat before the groups
        return PostgresStore(
            url,
            pool=PoolSettings(min_size=storage.db_pool_min, max_size=storage.db_pool_max),
            lease_seconds=storage.lease_seconds,
            trace=trace,
            sealer=load_sealer(settings),
        )
