"""Bad destinations for the noisy-neighbour measure, all in one helper process.

Run by the benchmarks as ``python -m benchmarks.sinks --spread N --slow-seconds S``; it
listens on loopback addresses only and prints one JSON line with the origins it serves:

- **slow**: aiohttp; reads the request, waits ``S`` seconds, answers 200;
- **blackhole**: a raw asyncio server that accepts the connection, discards whatever it is
  sent and never answers (the sender waits for its delivery timeout);

each on ``N`` distinct addresses (``127.20.x.y`` and ``127.30.x.y``, one port each: the
"spread" layout, one origin per webhook) and on one address (``127.21.0.1`` and
``127.31.0.1``: the "one host" layout). **Refusing** destinations need no process: a
port nobody listens on, on ``127.40.x.y`` (spread) or ``127.41.0.1`` (one host).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import msgspec
from aiohttp import web

from benchmarks.processes import free_port

__all__ = ["Sinks", "main", "sinks_process"]

_FIRST_OCTETS = {"slow": 20, "blackhole": 30, "refusing": 40}
_ROOT = Path(__file__).resolve().parent.parent


def _address(mode: str, layout: str, n: int) -> str:
    """The ``n``-th loopback address of a mode's layout (250 per third octet)."""
    second = _FIRST_OCTETS[mode] + (0 if layout == "spread" else 1)
    return f"127.{second}.{n // 250}.{1 + n % 250}"


def _listen(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class _Blackhole(asyncio.Protocol):
    """Accepts, discards what it is sent, never answers; forgets the connection at close."""

    def data_received(self, data: bytes) -> None:
        """Discard."""


async def _serve(spread: int, slow_seconds: float) -> None:
    async def slow(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(slow_seconds)
        return web.Response(status=200, text="ok")

    app = web.Application()
    app.router.add_post("/hook/{name}", slow)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    loop = asyncio.get_running_loop()
    origins: dict[str, dict[str, list[str]]] = {}
    for mode in ("slow", "blackhole"):
        origins[mode] = {}
        for layout, count in (("spread", spread), ("one host", 1)):
            found = origins[mode][layout] = []
            for n in range(count):
                sock = _listen(_address(mode, layout, n))
                if mode == "slow":
                    await web.SockSite(runner, sock).start()
                else:
                    await loop.create_server(_Blackhole, sock=sock)
                host, port = sock.getsockname()
                found.append(f"http://{host}:{port}")
    sys.stdout.write(msgspec.json.encode(origins).decode() + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


@dataclass(frozen=True, slots=True)
class Sinks:
    """The origins a running sink process serves, and the refusing ones."""

    origins: dict[str, dict[str, list[str]]]
    refused_port: int

    def urls(self, mode: str, layout: str, count: int) -> list[str]:
        """``count`` destination URLs of tenant A's webhooks for ``mode`` and ``layout``."""
        if mode == "refusing":
            hosts = [
                f"http://{_address(mode, layout, n if layout == 'spread' else 0)}:"
                f"{self.refused_port}"
                for n in range(count)
            ]
        else:
            served = self.origins[mode][layout]
            if layout == "spread" and len(served) < count:
                raise ValueError(f"the sinks serve {len(served)} spread origins, not {count}")
            hosts = served[:count] if layout == "spread" else served * count
        return [f"{host}/hook/a{n}" for n, host in enumerate(hosts)]


@asynccontextmanager
async def sinks_process(spread: int, slow_seconds: float) -> AsyncIterator[Sinks]:
    """Start ``python -m benchmarks.sinks``; stop it (SIGTERM, then SIGKILL) on exit."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.sinks",
        "--spread",
        str(spread),
        "--slow-seconds",
        str(slow_seconds),
        stdout=asyncio.subprocess.PIPE,
        cwd=_ROOT,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if not line.startswith(b"{"):
            raise RuntimeError(f"sinks did not start: {line!r}")
        # Nothing listens on this port on 127.0.0.1 now, nor on the 127.40/41 addresses ever.
        yield Sinks(msgspec.json.decode(line), free_port())
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


def main() -> None:
    """Parse the arguments and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description="slow and blackholed destinations (loopback)")
    parser.add_argument("--spread", type=int, default=1)
    parser.add_argument("--slow-seconds", type=float, default=10.0)
    args = parser.parse_args()
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(max(1, args.spread), args.slow_seconds))


if __name__ == "__main__":
    main()
