"""Hostile clients against a real ``workhooks serve``: what they cost everyone else.

Two measures, each against a fresh server on SQLite:

- ``latency``: the latency of ``GET /health`` (a normal request) alone, then while four
  clients post 3.4 MB token forms of 350,000 fields in a loop and one sends a 60 MB header;
- ``idle``: open ``--idle`` TCP connections that never send a byte, wait past the header
  timeout, and count how many the server still holds open, and whether a new request works.

Run: ``python -m benchmarks.hostile [--idle 5000]``. To measure another checkout, put its
``src`` first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from benchmarks.processes import serve_process

__all__ = ["main"]

_FORM = ("grant_type=client_credentials&" + "&".join("f=x" for _ in range(350_000))).encode()
_HUGE_HEADER = 60 * 1024 * 1024
_SAMPLES = 100
_SAMPLING_SECONDS = 30.0
_WAIT_PAST_TIMEOUT_SECONDS = 13.0  # the default header timeout is 10 s


async def _health_latencies(base_url: str) -> list[float]:
    """Milliseconds of up to ``_SAMPLES`` sequential ``GET /health`` on fresh connections,
    for at most ``_SAMPLING_SECONDS``."""
    found: list[float] = []
    timeout = aiohttp.ClientTimeout(total=120)
    deadline = time.monotonic() + _SAMPLING_SECONDS
    while len(found) < _SAMPLES and time.monotonic() < deadline:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            started = time.perf_counter()
            async with http.get(f"{base_url}/health") as response:
                await response.read()
            found.append((time.perf_counter() - started) * 1000)
    return found


async def _post_forms(host: str, port: int, stop: asyncio.Event) -> None:
    """Post the huge token form again and again on raw connections (answers ignored)."""
    head = (
        "POST /tenants/x/connect/token HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(_FORM)}\r\nConnection: close\r\n\r\n"
    ).encode()
    while not stop.is_set():
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(head + _FORM)
            await writer.drain()
            await reader.read()
            writer.close()


async def _send_huge_header(host: str, port: int, stop: asyncio.Event) -> None:
    """Send a 60 MB header value in 1 MB pieces, again and again."""
    piece = b"a" * (1024 * 1024)
    while not stop.is_set():
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            for _ in range(_HUGE_HEADER // len(piece)):
                writer.write(piece)
                await writer.drain()
            writer.write(b"\r\n\r\n")
            await writer.drain()
            await reader.read()
            writer.close()


def _summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{len(ordered)} requests, p50 {statistics.median(ordered):.1f} ms, "
        f"p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"
    )


async def measure_latency(base_url: str) -> None:
    """Print ``GET /health`` latency alone and under the hostile posts."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    print(f"latency alone:            {_summary(await _health_latencies(base_url))}")
    stop = asyncio.Event()
    hostile = [asyncio.create_task(_post_forms(host, port, stop)) for _ in range(4)]
    hostile.append(asyncio.create_task(_send_huge_header(host, port, stop)))
    await asyncio.sleep(1)  # let the hostile clients get going
    under_attack = await _health_latencies(base_url)
    stop.set()
    for task in hostile:
        task.cancel()
    await asyncio.gather(*hostile, return_exceptions=True)
    print(f"latency under attack:     {_summary(under_attack)}")


def _open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def measure_idle(base_url: str, pid: int, count: int) -> None:
    """Print how many never-sending connections the server still holds after the timeout."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    before = _open_descriptors(pid)
    held = []
    for _ in range(count):
        with contextlib.suppress(OSError):
            held.append(await asyncio.open_connection(host, port))
    await asyncio.sleep(1)
    print(f"idle connections opened:  {len(held)} (server descriptors {before} -> ", end="")
    print(f"{_open_descriptors(pid)} after 1 s, ", end="")
    await asyncio.sleep(_WAIT_PAST_TIMEOUT_SECONDS)
    print(f"{_open_descriptors(pid)} after {1 + _WAIT_PAST_TIMEOUT_SECONDS:g} s)")
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(f"{base_url}/health") as response,
        ):
            print(f"a new request meanwhile:  {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"a new request meanwhile:  failed ({type(exc).__name__})")
    for _, writer in held:
        writer.close()


async def _run(idle: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        async with serve_process(f"sqlite:///{work / 'latency.db'}", work) as server:
            assert server.base_url is not None
            await measure_latency(server.base_url)
        async with serve_process(f"sqlite:///{work / 'idle.db'}", work) as server:
            assert server.base_url is not None
            await measure_idle(server.base_url, server.pid, idle)


def main() -> None:
    """Run both measures and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile")
    parser.add_argument("--idle", type=int, default=5000, help="idle connections to open")
    asyncio.run(_run(parser.parse_args().idle))


if __name__ == "__main__":
    main()
