"""Limits of the real HTTP server over loopback sockets: oversized headers, connections that
send nothing or send slowly, too many connections, and per-route body and form limits."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import API, USER_AGENT, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import assert_error, assert_oauth_error
from workhooks.bootstrap import runtime, uvicorn_server
from workhooks.config import Settings

pytestmark = pytest.mark.timeout(30)

MAX_CONNECTIONS = 4


@dataclass
class Server:
    """A running ``workhooks serve`` HTTP side on a loopback port."""

    port: int

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open a raw TCP connection."""
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def health(self) -> int:
        """``GET /health`` on a new connection; the status code."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{self.port}/health")
        return response.status_code


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """The real uvicorn server of a runtime with small limits, on a socket of its own."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # connections wait in the backlog until uvicorn accepts them
    port = listener.getsockname()[1]
    settings = Settings.of(
        database_url="memory://",
        port=port,
        run_worker=False,
        max_header_bytes=2048,
        header_timeout_seconds=0.3,
        body_timeout_seconds=0.3,
        max_connections=MAX_CONNECTIONS,
    )
    async with runtime(settings) as rt:
        uvicorn = uvicorn_server(rt)
        task = asyncio.create_task(uvicorn.serve(sockets=[listener]))
        try:
            yield Server(port=port)
        finally:
            uvicorn.should_exit = True
            await task
            listener.close()


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Read one answer up to the end of the connection: status, headers, body."""
    raw = await reader.read()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def protime_error(body: bytes) -> dict[str, object]:
    """The ``error`` object of a Protime error body."""
    document = json.loads(body)
    assert set(document) == {"error"}
    error: dict[str, object] = document["error"]
    assert error["code"]
    assert error["message"]
    assert error["reasons"]
    return error


async def test_oversized_headers_answer_431_and_close(server: Server) -> None:
    """Request line and headers beyond the bound answer 431 with a Protime body and the
    connection is closed, while the rest of a huge header is still on its way."""
    reader, writer = await server.connect()
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
    try:
        for _ in range(64):  # 4 MB offered; the server stops reading long before
            writer.write(b"a" * 65536)
            await writer.drain()
    except ConnectionError:
        pass
    status, headers, body = await read_answer(reader)
    writer.close()
    assert status == 431
    assert headers["connection"] == "close"
    assert protime_error(body)["code"] == "RequestHeaderFieldsTooLarge"
    assert await server.health() == 200


async def test_a_body_arriving_with_small_headers_is_not_counted_as_headers(
    server: Server,
) -> None:
    """Small headers followed in the same packet by a body larger than the header bound are
    read normally (the body is not mistaken for headers)."""
    body = b'{"pad": "' + b"x" * 8000 + b'"}'
    request = (
        b"POST /tenants/acme/connect/token HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    reader, writer = await server.connect()
    writer.write(request)
    status, _, answer = await read_answer(reader)
    writer.close()
    assert status == 400  # the token form must be form-encoded (an RFC 6749 error answer)
    assert json.loads(answer)["error"] == "invalid_request"


async def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    """A connection that never sends a byte is answered 408 and closed after the header
    timeout, instead of holding a file descriptor for ever."""
    reader, writer = await server.connect()
    status, _, body = await read_answer(reader)
    writer.close()
    assert status == 408
    assert protime_error(body)["code"] == "RequestTimeout"


async def test_a_slow_header_sender_is_closed(server: Server) -> None:
    """A client that starts its headers and never finishes them is answered 408 and closed."""
    reader, writer = await server.connect()
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    await writer.drain()
    status, _, _ = await read_answer(reader)
    writer.close()
    assert status == 408


async def test_a_slow_body_sender_is_closed(server: Server) -> None:
    """A client that announces a body and stops sending it is answered 408 and closed."""
    reader, writer = await server.connect()
    writer.write(
        b"POST /tenants/acme/connect/token HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant"
    )
    await writer.drain()
    status, _, _ = await read_answer(reader)
    writer.close()
    assert status == 408


async def test_kept_alive_connections_serve_several_requests(server: Server) -> None:
    """The deadlines apply per request: a kept-alive connection serves one request after
    another."""
    reader, writer = await server.connect()
    for _ in range(3):
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
        assert status_line.startswith(b"HTTP/1.1 200")
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if b"content-length" in line
        )
        await reader.readexactly(length)
    writer.close()


async def test_connections_beyond_the_cap_are_refused_at_once(server: Server) -> None:
    """Past the connection cap a new connection is answered 503 with ``Retry-After`` and a
    Protime body and closed; once connections close, new ones are served again."""
    held = [await server.connect() for _ in range(MAX_CONNECTIONS)]
    # Each held connection sends the start of a request, so the server has accepted them all.
    for _, writer in held:
        writer.write(b"GET /health HTTP/1.1\r\n")
        await writer.drain()
    reader, writer = await server.connect()
    status, headers, body = await read_answer(reader)
    writer.close()
    assert status == 503
    assert headers["retry-after"] == "1"
    assert protime_error(body)["code"] == "ServiceUnavailable"
    for _, held_writer in held:
        held_writer.close()
        await held_writer.wait_closed()
    await asyncio.sleep(0)  # let the server see the closes
    assert await server.health() == 200


# -- bodies and forms, per route (the app itself) -----------------------------------------


async def test_token_form_beyond_its_size_answers_413_before_parsing(api: Api) -> None:
    """A token request larger than the form bound answers 413 with a Protime body."""
    form = "grant_type=client_credentials&" + "&".join(f"f{i}=x" for i in range(350_000))
    response = await api.http.post(
        "/tenants/acme/connect/token",
        content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 413)


async def test_token_form_with_too_many_fields_answers_400(api: Api) -> None:
    """A small token form with more fields than the four it needs (and some slack) answers 400."""
    form = "&".join(f"f{i}=" for i in range(40))
    response = await api.http.post(
        "/tenants/acme/connect/token",
        content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_oauth_error(response, 400, "invalid_request")
    assert "fields" in error["error_description"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/work-interruptions/1"),
        ("PUT", "/people/1"),
        ("POST", "/webhooks"),
        ("PUT", "/people/1/external-references/HRMID"),
    ],
)
async def test_single_resource_bodies_are_bounded(api: Api, method: str, path: str) -> None:
    """A body of one record, webhook or reference beyond 64 KiB answers 413."""
    headers = {**await api.headers(), "Content-Type": "application/json"}
    body = b'{"pad": "' + b"x" * 70_000 + b'"}'
    response = await api.http.request(method, f"{API}{path}", content=body, headers=headers)
    assert_error(response, 413)


async def test_batches_may_be_larger_than_single_records(api: Api) -> None:
    """A batch body of 100 KB is read (the batch bound is 4 MiB) and judged on its content."""
    headers = {**await api.headers(), "Content-Type": "application/json", "User-Agent": USER_AGENT}
    body = json.dumps({"value": [{"id": i, "badgeNumber": "b" * 200} for i in range(1, 400)]})
    response = await api.http.post(f"{API}/people/batch", content=body, headers=headers)
    assert response.status_code == 200, response.text


# -- API rate limits ----------------------------------------------------------------------


async def test_a_client_beyond_its_rate_gets_429_with_retry_after(api_factory: ApiFactory) -> None:
    """A client past its burst is answered 429 with ``Retry-After`` and a Protime body;
    another client of the same tenant is not limited by it."""
    api = await api_factory(
        Settings.of(database_url="memory://", rate_limit_per_second=0.1, rate_limit_burst=3)
    )
    headers = await api.headers()
    for _ in range(3):
        assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
    refused = await api.http.get(f"{API}/webhooks", headers=headers)
    assert_error(refused, 429, code="TooManyRequests", reasons=True)
    assert int(refused.headers["Retry-After"]) >= 1
    other = await api.headers()
    assert (await api.http.get(f"{API}/webhooks", headers=other)).status_code == 200


async def test_source_side_writes_are_not_rate_limited(api_factory: ApiFactory) -> None:
    """The source feed (PUT/DELETE of people and work interruptions) is never answered 429,
    while the same client's reads beyond its burst are."""
    api = await api_factory(
        Settings.of(database_url="memory://", rate_limit_per_second=0.1, rate_limit_burst=2)
    )
    headers = {**await api.headers(), "Content-Type": "application/json"}
    await api.put_person(headers, 1)
    for record_id in range(1, 11):
        body = json.dumps(work_interruption(1))
        answer = await api.http.put(
            f"{API}/work-interruptions/{record_id}", content=body, headers=headers
        )
        assert answer.status_code == 201, answer.text
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
    assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 429


async def test_rate_limits_can_be_turned_off(api_factory: ApiFactory) -> None:
    """With ``WORKHOOKS_RATE_LIMIT_PER_SECOND=0`` a client is never answered 429."""
    api = await api_factory(
        Settings.of(database_url="memory://", rate_limit_per_second=0, rate_limit_burst=1)
    )
    headers = await api.headers()
    for _ in range(20):
        assert (await api.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
