"""Tests for the connect-time SSRF guard in ``workhooks.delivery.guard``.

Real connections only ever go to 127.0.0.1. Wherever a guard failure could lead to a
connection attempt elsewhere, the connector gets an inner socket factory that records the
attempt and refuses to create a socket, so no packet can leave the machine.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from ipaddress import IPv4Network

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from workhooks.delivery.guard import (
    ForbiddenDestinationError,
    GuardedResolver,
    guarded_socket_factory,
    make_connector,
)

pytestmark = pytest.mark.timeout(30)


class FakeResolver(AbstractResolver):
    """A resolver answering from a fixed table, recording every lookup."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Return the table's addresses for ``host``."""
        self.lookups.append(host)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        """Record that the resolver was closed."""
        self.closed = True


class RecordingSocketFactory:
    """An inner socket factory that records attempts and never creates a socket."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def __call__(self, addr_info: aiohttp.AddrInfoType) -> socket.socket:
        """Record the address and refuse, so that no traffic is sent."""
        self.attempts.append(str(addr_info[4][0]))
        raise OSError("test: connection attempts are blocked here")


@pytest.fixture
async def server_port() -> AsyncIterator[int]:
    """Serve ``GET /`` on 127.0.0.1 and yield the port."""

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    assert isinstance(port, int)
    try:
        yield port
    finally:
        await runner.cleanup()


async def fetch(url: str, connector: aiohttp.BaseConnector) -> str:
    """GET ``url`` through ``connector`` and return the body."""
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(url, allow_redirects=False) as response,
    ):
        return await response.text()


def forbidden_cause(exc: BaseException) -> ForbiddenDestinationError:
    """Return the guard error wrapped by aiohttp's connector error."""
    assert isinstance(exc, aiohttp.ClientConnectorError)
    assert isinstance(exc.os_error, ForbiddenDestinationError)
    return exc.os_error


async def test_loopback_literal_is_refused(server_port: int) -> None:
    """A literal 127.0.0.1 destination is refused with an error naming the address."""
    connector = make_connector(allow_loopback=False)
    with pytest.raises(aiohttp.ClientConnectorError) as excinfo:
        await fetch(f"http://127.0.0.1:{server_port}/", connector)
    cause = forbidden_cause(excinfo.value)
    assert cause.address == "127.0.0.1"
    assert "loopback" in cause.reason
    assert "refusing to connect to 127.0.0.1" in str(excinfo.value)


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
async def test_ipv6_loopback_literals_are_refused(host: str) -> None:
    """IPv6 loopback literals, including IPv4-mapped ones, never reach a socket."""
    inner = RecordingSocketFactory()
    connector = make_connector(allow_loopback=False, socket_factory=inner)
    with pytest.raises(aiohttp.ClientConnectorError) as excinfo:
        await fetch(f"http://{host}:8080/", connector)
    forbidden_cause(excinfo.value)
    assert inner.attempts == []


@pytest.mark.parametrize("host", ["2130706433", "127.1", "017700000001"])
async def test_legacy_ipv4_literals_are_refused(host: str) -> None:
    """Legacy numeric spellings of 127.0.0.1 do not reach a socket."""
    inner = RecordingSocketFactory()
    connector = make_connector(allow_loopback=False, socket_factory=inner)
    with pytest.raises(aiohttp.ClientError):
        await fetch(f"http://{host}:8080/", connector)
    assert inner.attempts == []


async def test_localhost_name_is_refused(server_port: int) -> None:
    """``localhost`` resolves to loopback and is refused with an error naming the host."""
    connector = make_connector(allow_loopback=False)
    with pytest.raises(aiohttp.ClientConnectorError) as excinfo:
        await fetch(f"http://localhost:{server_port}/", connector)
    cause = forbidden_cause(excinfo.value)
    assert cause.host == "localhost"
    assert "refusing to connect to 'localhost'" in str(cause)


async def test_loopback_allowed_in_development(server_port: int) -> None:
    """With loopback allowed, both the literal and ``localhost`` reach the local server."""
    connector = make_connector(allow_loopback=True)
    assert await fetch(f"http://127.0.0.1:{server_port}/", connector) == "hello"
    connector = make_connector(allow_loopback=True)
    assert await fetch(f"http://localhost:{server_port}/", connector) == "hello"


async def test_allow_list_permits_loopback(server_port: int) -> None:
    """An operator allow-list entry for 127.0.0.0/8 permits the local server."""
    connector = make_connector(allow_loopback=False, allowed=[IPv4Network("127.0.0.0/8")])
    assert await fetch(f"http://127.0.0.1:{server_port}/", connector) == "hello"


async def test_name_resolving_to_loopback_connects_when_allowed(server_port: int) -> None:
    """A name the resolver maps to 127.0.0.1 is connected to when loopback is allowed."""
    resolver = FakeResolver({"hooks.example.com": ["127.0.0.1"]})
    connector = make_connector(allow_loopback=True, resolver=resolver)
    assert await fetch(f"http://hooks.example.com:{server_port}/", connector) == "hello"
    assert resolver.lookups == ["hooks.example.com"]


async def test_private_resolution_is_refused_before_connecting() -> None:
    """A public-looking name resolving to 10.0.0.1 is refused before any connection attempt."""
    resolver = FakeResolver({"hooks.example.com": ["10.0.0.1"]})
    inner = RecordingSocketFactory()
    connector = make_connector(allow_loopback=False, resolver=resolver, socket_factory=inner)
    with pytest.raises(aiohttp.ClientConnectorError) as excinfo:
        await fetch("http://hooks.example.com/", connector)
    cause = forbidden_cause(excinfo.value)
    assert (cause.host, cause.address) == ("hooks.example.com", "10.0.0.1")
    assert "private" in cause.reason
    assert inner.attempts == []
    assert resolver.lookups == ["hooks.example.com"]


async def test_mixed_answer_is_refused_entirely() -> None:
    """An answer mixing a public and a private address is refused as a whole."""
    resolver = FakeResolver({"rebind.example.com": ["93.184.216.34", "192.168.1.10"]})
    inner = RecordingSocketFactory()
    connector = make_connector(allow_loopback=False, resolver=resolver, socket_factory=inner)
    with pytest.raises(aiohttp.ClientConnectorError) as excinfo:
        await fetch("http://rebind.example.com/", connector)
    assert forbidden_cause(excinfo.value).address == "192.168.1.10"
    assert inner.attempts == []


async def test_public_resolution_passes_the_guard() -> None:
    """A name resolving only to public addresses reaches the socket stage (blocked in test)."""
    resolver = FakeResolver({"hooks.example.com": ["93.184.216.34"]})
    inner = RecordingSocketFactory()
    connector = make_connector(allow_loopback=False, resolver=resolver, socket_factory=inner)
    with pytest.raises(aiohttp.ClientConnectorError) as excinfo:
        await fetch("http://hooks.example.com/", connector)
    assert not isinstance(excinfo.value.os_error, ForbiddenDestinationError)
    assert inner.attempts == ["93.184.216.34"]


async def test_guarded_resolver_returns_allowed_answers() -> None:
    """The resolver passes an all-public answer through unchanged."""
    inner = FakeResolver({"a.example": ["93.184.216.34", "2606:4700::1111"]})
    guarded = GuardedResolver(inner)
    results = await guarded.resolve("a.example", 443)
    assert [r["host"] for r in results] == ["93.184.216.34", "2606:4700::1111"]


@pytest.mark.parametrize(
    "addresses",
    [
        ["169.254.169.254"],
        ["2606:4700::1111", "fd00:ec2::254"],
        ["93.184.216.34", "::ffff:10.0.0.1"],
        ["not-an-address"],
    ],
)
async def test_guarded_resolver_refuses_any_forbidden_address(addresses: list[str]) -> None:
    """The resolver rejects an answer containing any forbidden or unparseable address."""
    guarded = GuardedResolver(FakeResolver({"a.example": addresses}))
    with pytest.raises(ForbiddenDestinationError, match=r"refusing to connect to 'a\.example'"):
        await guarded.resolve("a.example", 443)


async def test_guarded_resolver_leaves_passed_resolver_open() -> None:
    """Closing the guard does not close a resolver the caller passed in."""
    inner = FakeResolver({})
    await GuardedResolver(inner).close()
    assert inner.closed is False


def test_socket_factory_refuses_before_creating_a_socket() -> None:
    """The socket factory raises for a forbidden address without calling the inner factory."""
    inner = RecordingSocketFactory()
    factory = guarded_socket_factory(allow_loopback=False, inner=inner)
    addr_info: aiohttp.AddrInfoType = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))
    with pytest.raises(ForbiddenDestinationError, match=r"10\.1\.2\.3"):
        factory(addr_info)
    assert inner.attempts == []


def test_forbidden_error_is_an_oserror_with_clear_text() -> None:
    """The error is an OSError whose text names host, address and reason without errno noise."""
    error = ForbiddenDestinationError(host="h.example", address="10.0.0.1", reason="private")
    assert isinstance(error, OSError)
    assert error.strerror == str(error)
    assert str(error) == (
        "refusing to connect to 'h.example': it resolves to 10.0.0.1, "
        "a forbidden destination (private)"
    )
