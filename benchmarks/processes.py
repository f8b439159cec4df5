"""Real ``workhooks`` processes for the measures: ``workhooks worker`` and ``workhooks serve``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from workhooks.testing import TEST_MASTER_KEY

__all__ = ["WorkhooksProcess", "free_port", "serve_process", "worker_process"]

_START_SECONDS = 60.0


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class WorkhooksProcess:
    """A running ``workhooks`` command: its pid, log file and (for ``serve``) base URL."""

    pid: int
    log: Path
    base_url: str | None = None


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without inherited ``WORKHOOKS_*`` settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKHOOKS_")}
    env["WORKHOOKS_DEV"] = "true"  # loopback receivers
    env["WORKHOOKS_RATE_LIMIT_PER_SECOND"] = "0"  # the API measures drive one client flat out
    env["WORKHOOKS_MASTER_KEY"] = TEST_MASTER_KEY  # the key of bench_settings
    env["WORKHOOKS_WORKER_PORT"] = "0"  # several workers: each probe listener on a free port
    env.update(extra)
    return env


def _log_text(log: Path) -> str:
    return log.read_text(errors="replace")


@asynccontextmanager
async def _spawn(
    args: list[str], log: Path, env: Mapping[str, str], stop_seconds: float = 30.0
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``python -m workhooks <args>`` (output to ``log``); stop it on exit.

    Stopping is SIGTERM, then SIGKILL if it has not exited within ``stop_seconds``.
    """
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "workhooks",
            *args,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            env=_environment(env),
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # e.g. killed by the measure
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=stop_seconds)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_for(
    check: Callable[[], Awaitable[bool]], process: asyncio.subprocess.Process, log: Path
) -> None:
    """Poll ``check()`` until it is true; fail with the log if the process exits first."""
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"workhooks exited early:\n{_log_text(log)}")
        if await check():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"workhooks did not start in {_START_SECONDS} s:\n{_log_text(log)}")


@asynccontextmanager
async def worker_process(
    database_url: str,
    folder: Path,
    env: Mapping[str, str] | None = None,
    *,
    stop_seconds: float = 30.0,
) -> AsyncIterator[WorkhooksProcess]:
    """``workhooks worker`` on ``database_url``, ready once it logged that it started."""
    log = folder / f"worker-{time.monotonic_ns()}.log"
    args = ["worker", "--database-url", database_url]
    async with _spawn(args, log, env or {}, stop_seconds) as process:

        async def started() -> bool:
            return " worker started: " in _log_text(log)  # the start-up line

        await _wait_for(started, process, log)
        yield WorkhooksProcess(process.pid, log)


@asynccontextmanager
async def serve_process(
    database_url: str,
    folder: Path,
    env: Mapping[str, str] | None = None,
    *,
    worker: bool = True,
    stop_seconds: float = 30.0,
) -> AsyncIterator[WorkhooksProcess]:
    """``workhooks serve --dev`` on a free loopback port, ready once ``/health`` answers.

    Without ``worker`` it is an API node only (``--no-worker``).
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / f"serve-{time.monotonic_ns()}.log"
    args = ["serve", "--dev", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--database-url", database_url, *([] if worker else ["--no-worker"])]
    spawned = _spawn(args, log, env or {}, stop_seconds)
    async with spawned as process, aiohttp.ClientSession() as http:

        async def healthy() -> bool:
            try:
                async with http.get(f"{base_url}/health") as answer:
                    return answer.status == 200
            except aiohttp.ClientError:
                return False

        await _wait_for(healthy, process, log)
        yield WorkhooksProcess(process.pid, log, base_url)
