"""The ``Sender`` port and its aiohttp implementation: one signed POST, outcome as a value.

Redirects are never followed, every connection goes through the SSRF guard, and every
failure is classified instead of raised, so the worker decides with plain values.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Protocol

import aiohttp

from workhooks.delivery.guard import ForbiddenDestinationError, make_connector
from workhooks.domain.deliveries import MAX_EXCERPT_BYTES
from workhooks.domain.retry import FailureClass, classify_status
from workhooks.domain.webhooks import destination_origin

__all__ = ["AiohttpSender", "SendResult", "Sender"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What one POST achieved: ``failure`` is None exactly when the destination answered 2xx."""

    status_code: int | None
    failure: FailureClass | None
    latency_ms: float
    excerpt: str = ""
    retry_after: str | None = None
    error: str | None = None


class Sender(Protocol):
    """Sends one delivery."""

    async def send(self, url: str, *, headers: Mapping[str, str], body: bytes) -> SendResult:
        """POST ``body`` to ``url`` and report the outcome; never raises for network trouble."""
        ...


def _classify_exception(exc: BaseException) -> FailureClass:
    """Map a client-side failure to its class."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return FailureClass.TIMEOUT
    # Before DNS: aiohttp reports a resolver's refusal of a name as a DNS error.
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
        exc.os_error, ForbiddenDestinationError
    ):
        return FailureClass.FORBIDDEN_DESTINATION
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FailureClass.DNS
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return FailureClass.TLS
    if isinstance(exc, ssl.SSLError):
        return FailureClass.TLS
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
        exc.os_error, ConnectionRefusedError
    ):
        return FailureClass.CONNECTION_REFUSED
    return FailureClass.CONNECTION_ERROR


async def _read_excerpt(response: aiohttp.ClientResponse) -> bytes:
    """Read the body until its end or ``MAX_EXCERPT_BYTES`` bytes, whichever comes first."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_EXCERPT_BYTES:
        chunk = await response.content.read(MAX_EXCERPT_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


@dataclass(slots=True)
class _Origin:
    """The connection slots of one destination origin and the requests using them."""

    slots: asyncio.Semaphore
    users: int = 0


class AiohttpSender:
    """POSTs over one keep-alive connection pool, ``limit_per_host`` connections per origin.

    A request first waits for one of its origin's slots; only then does its timeout start,
    so time spent queued behind other deliveries to a slow destination is never counted as
    a failure of the webhook. The pool has no global limit of its own (aiohttp's default of
    100 would make one hung destination's connections queue everyone else's): the worker
    bounds the total through its windows in flight.
    """

    def __init__(
        self,
        *,
        timeout_seconds: float,
        user_agent: str,
        allow_loopback: bool,
        limit_per_host: int,
        allowed_networks: Sequence[IPv4Network | IPv6Network] = (),
    ) -> None:
        self._timeout_seconds = timeout_seconds
        self._user_agent = user_agent
        self._allow_loopback = allow_loopback
        self._allowed = tuple(allowed_networks)
        self._limit_per_host = limit_per_host
        self._session: aiohttp.ClientSession | None = None
        # One slot per connection the connector allows an origin: waiting for a slot happens
        # before the attempt's timeout starts, so queued deliveries never time out unsent.
        # An origin's entry lives while requests use it (bounded memory for many origins).
        self._origins: dict[str, _Origin] = {}

    async def start(self) -> None:
        """Open the connection pool."""
        connector = make_connector(
            allow_loopback=self._allow_loopback,
            allowed=self._allowed,
            limit=0,
            limit_per_host=self._limit_per_host,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": self._user_agent, "Content-Type": "application/json"},
            auto_decompress=False,
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, url: str, *, headers: Mapping[str, str], body: bytes) -> SendResult:
        """POST once, without following redirects; classify whatever happens."""
        key = destination_origin(url)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(asyncio.Semaphore(self._limit_per_host))
        origin.users += 1
        try:
            async with origin.slots:
                return await self._attempt(url, headers=headers, body=body)
        finally:
            origin.users -= 1
            if not origin.users:
                del self._origins[key]

    async def _attempt(self, url: str, *, headers: Mapping[str, str], body: bytes) -> SendResult:
        session = self._session
        assert session is not None, "AiohttpSender.start() was not awaited"
        started = time.perf_counter()
        try:
            # The timeout covers connecting, sending, the answer and reading its body.
            async with (
                asyncio.timeout(self._timeout_seconds),
                session.post(url, data=body, headers=headers, allow_redirects=False) as response,
            ):
                raw = await _read_excerpt(response)
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return SendResult(
                status_code=None,
                failure=_classify_exception(exc),
                latency_ms=(time.perf_counter() - started) * 1000,
                error=f"{type(exc).__name__}: {exc}"[:1000],
            )
        except asyncio.CancelledError:
            raise
        # aiohttp accepts any three-digit status line; below 100 is no HTTP status at all.
        failure = classify_status(status) if status >= 100 else FailureClass.SERVER_ERROR
        return SendResult(
            status_code=status,
            failure=failure,
            latency_ms=(time.perf_counter() - started) * 1000,
            excerpt=raw.decode("utf-8", errors="replace"),
            retry_after=retry_after,
        )
