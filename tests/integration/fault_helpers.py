"""A misbehaving receiver on 127.0.0.1 for the receiver fault matrix, one fault per path.

``FaultyReceiver`` runs an aiohttp server whose paths each fail in one way, a raw asyncio
server that resets connections or answers an odd status line, and a bound socket that
never listens (so connecting to it is refused). It records what arrived where.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from workhooks.testing import RecordedRequest

__all__ = ["RELEASE_AFTER_SECONDS", "FaultyReceiver", "answer_status_99", "reset_connection"]

RawAnswer = Callable[[asyncio.StreamWriter], Awaitable[None]]
"""How a raw server answers a request whose head it has read."""

RELEASE_AFTER_SECONDS = 5.0
"""The longest a stalling handler stalls, should the test never release it."""

_TRICKLE_BYTES = 64
_TRICKLE_INTERVAL_SECONDS = 0.1


class FaultyReceiver:
    """Loopback receivers that misbehave per path; ``arrivals`` lists ``(path, request)``."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, RecordedRequest]] = []
        self.flaky_status = 500
        self.base = ""
        self.reset_url = ""
        self.odd_status_url = ""
        self.refused_url = ""
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._raw_servers: list[asyncio.Server] = []
        self._unlistened: socket.socket | None = None

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the aiohttp server."""
        return self.base + path

    def paths(self) -> list[str]:
        """The paths that received something, in arrival order."""
        return [path for path, _ in self.arrivals]

    async def start(self) -> None:
        """Start every fault on free loopback ports."""
        app = web.Application(middlewares=[self._record])
        app.router.add_post("/status/{code}", self._status)
        app.router.add_post("/redirect", self._redirect)
        app.router.add_post("/target", self._status)
        app.router.add_post("/flaky", self._flaky)
        app.router.add_post("/sleep", self._sleep)
        app.router.add_post("/trickle", self._trickle)
        app.router.add_post("/slow", self._slow)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self.reset_url = await self._raw("/reset", reset_connection)
        self.odd_status_url = await self._raw("/odd-status", answer_status_99)
        self._unlistened = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._unlistened.bind(("127.0.0.1", 0))  # bound but never listening: refused
        self.refused_url = f"http://127.0.0.1:{self._unlistened.getsockname()[1]}/refused"

    async def stop(self) -> None:
        """Release stalled handlers and stop everything."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
        for server in self._raw_servers:
            server.close()
            await server.wait_closed()
        if self._unlistened is not None:
            self._unlistened.close()

    async def _stall(self, seconds: float = RELEASE_AFTER_SECONDS) -> None:
        """Wait until released (at teardown) or ``seconds`` passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), timeout=seconds)

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        recorded = RecordedRequest(url=str(request.url), headers=dict(request.headers), body=body)
        self.arrivals.append((request.path, recorded))
        return await handler(request)

    async def _status(self, request: web.Request) -> web.Response:
        """Answer the status in the path (204 for ``/target``), with ``?retry_after=``."""
        status = int(request.match_info.get("code", "204"))
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        return web.Response(status=status, headers=headers)

    async def _redirect(self, request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": self.url("/target")})

    async def _flaky(self, request: web.Request) -> web.Response:
        return web.Response(status=self.flaky_status)

    async def _sleep(self, request: web.Request) -> web.Response:
        await self._stall()
        return web.Response(status=204)

    async def _slow(self, request: web.Request) -> web.Response:
        """Answer 204 after 0.2 s: slow but well within any sane timeout."""
        await asyncio.sleep(0.2)
        return web.Response(status=204)

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        """Send 200 and its headers at once, then the body one byte per 0.1 s."""
        response = web.StreamResponse(status=200)
        response.content_length = _TRICKLE_BYTES
        await response.prepare(request)
        try:
            for _ in range(_TRICKLE_BYTES):
                await response.write(b"x")
                await asyncio.sleep(_TRICKLE_INTERVAL_SECONDS)
                if self._release.is_set():
                    break
        except ConnectionResetError:
            pass  # the client gave up, as it should
        return response

    async def _raw(self, path: str, answer: RawAnswer) -> str:
        """Start a raw TCP server that records a request on ``path``, then ``answer``s it."""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                writer.close()
                return
            self.arrivals.append((path, RecordedRequest(url=path, headers={}, body=head)))
            await answer(writer)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self._raw_servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}{path}"


async def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Abort the connection with a TCP RST (``SO_LINGER`` 0) instead of answering."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def answer_status_99(writer: asyncio.StreamWriter) -> None:
    """Answer with a well-formed status line whose status, 099, is below 100."""
    writer.write(b"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()
