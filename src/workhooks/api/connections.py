"""Connection limits of the HTTP server, enforced before a request reaches the app.

uvicorn's httptools protocol buffers a request's line and headers without a bound (a 60 MB
header stalled the event loop for seconds), never times out a connection that sends nothing
or sends its headers slowly, and accepts connections until file descriptors run out. This
protocol adds, per connection:

- a bound on the bytes of the request line and headers: beyond it, 431 and close;
- a deadline for the request line and headers from the moment the connection opens or a new
  request starts: past it, 408 and close (a connection that never sends a byte included);
- a deadline for the body once the headers are in: past it, 408 and close;
- a cap on open connections: one more is answered 503 with ``Retry-After`` and closed at once.

Every answer carries a Protime error body. Idle keep-alive connections between requests are
closed by uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from workhooks.documents import error_body

__all__ = ["ConnectionLimits", "limited_protocol"]

_LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLimits:
    """The limits (settings in brackets): ``max_header_bytes`` (``WORKHOOKS_MAX_HEADER_BYTES``),
    ``header_timeout_seconds`` (``WORKHOOKS_HEADER_TIMEOUT_SECONDS``), ``body_timeout_seconds``
    (``WORKHOOKS_BODY_TIMEOUT_SECONDS``), ``max_connections`` (``WORKHOOKS_MAX_CONNECTIONS``)."""

    max_header_bytes: int
    header_timeout_seconds: float
    body_timeout_seconds: float
    max_connections: int


def _answer(status: HTTPStatus, code: str, message: str, reason: str) -> bytes:
    """A complete HTTP/1.1 answer with a Protime error body that closes the connection."""
    body = msgspec.json.encode(error_body(code, message, (reason,)))
    extra = b"retry-after: 1\r\n" if status is HTTPStatus.SERVICE_UNAVAILABLE else b""
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
    ).encode()
    return head + extra + b"\r\n" + body


class _LimitedProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with the limits of ``ConnectionLimits`` (set by the factory)."""

    limits: ClassVar[ConnectionLimits]
    _too_large: ClassVar[bytes]
    _too_slow: ClassVar[bytes]
    _too_many: ClassVar[bytes]

    # The phases of the request being read: waiting for (more of) its headers, its body, or
    # nothing (idle between requests, or the app is answering).
    _in_headers = True
    _header_bytes = 0
    _deadline: asyncio.TimerHandle | None = None
    _discarding = False  # refused: what still arrives is dropped until the close

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse a connection beyond the cap at once; start the header deadline otherwise."""
        if len(self.connections) >= self.limits.max_connections:
            transport.write(self._too_many)
            transport.close()
            return
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        if self.transport is not None:  # None when refused in ``connection_made``
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count the bytes that arrive while the headers are incomplete; 431 beyond the bound."""
        if self._discarding:
            return
        if not self._in_headers:
            super().data_received(data)
            return
        if self._deadline is None:  # the first bytes of a request on a kept-alive connection
            self._arm(self.limits.header_timeout_seconds)
        self._header_bytes += len(data)
        super().data_received(data)
        # Bytes of a body that came in the same read are counted too, so the bound is judged
        # only while the headers are still incomplete after this read.
        if self._in_headers and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(self._too_large)

    def on_headers_complete(self) -> None:
        """Headers in: the body has its own deadline."""
        self._in_headers = False
        self._header_bytes = 0
        self._arm(self.limits.body_timeout_seconds)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """Request read: no deadline until the next request starts."""
        self._disarm()
        self._in_headers = True
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._refuse, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, answer: bytes) -> None:
        """Answer ``answer`` (unless the app is half-way through an answer) and close.

        The close lingers: what the client still sends is read and dropped for a moment, as
        closing a socket with unread data resets the connection and the client would lose
        the answer.
        """
        self._disarm()
        if self.transport.is_closing() or self._discarding:
            return
        cycle = self.cycle
        if cycle is None or not cycle.response_started or cycle.response_complete:
            self.transport.write(answer)
        self._discarding = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._deadline = self.loop.call_later(_LINGER_SECONDS, self.transport.close)


def limited_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """The uvicorn protocol class (``uvicorn.Config(http=...)``) enforcing ``limits``."""
    too_large = _answer(
        HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
        "RequestHeaderFieldsTooLarge",
        "The request line and headers are too large",
        f"headers: at most {limits.max_header_bytes} bytes with the request line",
    )
    too_slow = _answer(
        HTTPStatus.REQUEST_TIMEOUT,
        "RequestTimeout",
        "The request did not arrive in time",
        f"request: headers within {limits.header_timeout_seconds:g} s, "
        f"the body within {limits.body_timeout_seconds:g} s",
    )
    too_many = _answer(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "The server has too many open connections; try again shortly",
        f"connections: at most {limits.max_connections} at once",
    )
    return type(
        "LimitedHttpToolsProtocol",
        (_LimitedProtocol,),
        {
            "limits": limits,
            "_too_large": too_large,
            "_too_slow": too_slow,
            "_too_many": too_many,
        },
    )
