"""Connect-time SSRF enforcement for aiohttp.

Registration-time checks (:func:`workhooks.domain.addresses.check_destination_host`) only
see the destination URL; a name can later resolve to an internal address, and DNS can be
rebound between two lookups. So every connection workhooks opens for a delivery is judged
again at connect time, on the addresses actually connected, by two layers:

1. :class:`GuardedResolver` wraps the DNS resolver and rejects the *whole* answer when
   any resolved address is forbidden. A mixed answer (one public, one private address) is
   the classic DNS-rebinding trick, and aiohttp would fall back from one address to the
   next, so accepting "the public ones" is not safe.
2. A socket factory (:func:`guarded_socket_factory`) judges the socket address of every
   connection attempt right before the socket is created.

Why the second layer: ``TCPConnector._resolve_host`` (aiohttp 3.14) returns an IP-literal
host as-is *without calling the resolver*, so a resolver alone never sees
``http://127.0.0.1/`` or ``http://[::ffff:7f00:1]/``. (aiohttp 3.14 itself rejects
non-canonical IPv4 literals like ``2130706433`` or ``127.1`` with ``InvalidUrlClientError``,
and forms like ``0x7f.1`` do go through the resolver.) The alternatives were worse:
overriding the private ``_resolve_host`` ties security to an internal method whose
signature has changed between releases and that a future release may stop calling
(silently disabling the guard), and request tracing is configured per session, is not
told the resolved address of a literal and cannot veto a connection. ``socket_factory``
is public ``TCPConnector`` API, and aiohappyeyeballs calls it for every socket it opens
with the exact address it is about to connect to, whatever path produced that address
(literal, DNS cache, throttled lookup, happy-eyeballs fallback) — so it fails closed.

DNS caching (``ttl_dns_cache``) is safe with this design: the cache only ever holds
answers that passed the resolver check, and the socket factory re-judges each cached
address on every connection anyway. Caching even narrows rebinding windows, since a
cached answer is reused instead of asking a hostile DNS server again.

Use the connector with ``ClientSession(trust_env=False)`` (the default) and without a
proxy: through a proxy the guard would judge the proxy's address, not the destination's.
Redirects are judged too (each hop opens a new connection through the same connector).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import ssl
from collections.abc import Sequence

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from workhooks.domain.addresses import IPNetwork, forbidden_reason

__all__ = [
    "ForbiddenDestinationError",
    "GuardedResolver",
    "guarded_socket_factory",
    "make_connector",
]


class ForbiddenDestinationError(OSError):
    """A delivery would connect to a forbidden address (SSRF guard).

    Subclasses :class:`OSError` so that aiohttp's connector wraps it in a
    :class:`aiohttp.ClientConnectorError` (whose ``os_error`` is this exception) like any
    other connection failure.
    """

    def __init__(self, *, host: str, address: str, reason: str) -> None:
        if host == address:
            message = f"refusing to connect to {address}: forbidden destination ({reason})"
        else:
            message = (
                f"refusing to connect to {host!r}: it resolves to {address}, "
                f"a forbidden destination ({reason})"
            )
        super().__init__(errno.EACCES, message)
        self.host = host
        self.address = address
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        """Return the message without the ``[Errno 13]`` prefix."""
        return self.message


def _check_address(
    host: str, address: str, *, allow_loopback: bool, allowed: Sequence[IPNetwork]
) -> None:
    """Raise :class:`ForbiddenDestinationError` unless ``address`` may be connected to."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        reason: str | None = "not a numeric IP address"
    else:
        reason = forbidden_reason(ip, allow_loopback=allow_loopback, allowed=allowed)
    if reason is not None:
        raise ForbiddenDestinationError(host=host, address=address, reason=reason)


class GuardedResolver(AbstractResolver):
    """A resolver that refuses names resolving to any forbidden address.

    Wraps ``resolver`` (by default an :class:`aiohttp.ThreadedResolver`, created on first
    use because it needs a running event loop). If *any* resolved address is forbidden the
    whole answer is rejected with :class:`ForbiddenDestinationError`; otherwise the answer
    is returned unchanged, and aiohttp connects only to those addresses. A ``resolver``
    passed in remains the caller's to close; the default one is closed by :meth:`close`.
    """

    def __init__(
        self,
        resolver: AbstractResolver | None = None,
        *,
        allow_loopback: bool = False,
        allowed: Sequence[IPNetwork] = (),
    ) -> None:
        self._resolver = resolver
        self._owns_resolver = resolver is None
        self._allow_loopback = allow_loopback
        self._allowed = tuple(allowed)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` and return the answer if every address in it is allowed."""
        if self._resolver is None:
            self._resolver = aiohttp.ThreadedResolver()
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            _check_address(
                host,
                result["host"],
                allow_loopback=self._allow_loopback,
                allowed=self._allowed,
            )
        return results

    async def close(self) -> None:
        """Close the wrapped resolver if this object created it."""
        if self._owns_resolver and self._resolver is not None:
            await self._resolver.close()


def guarded_socket_factory(
    *,
    allow_loopback: bool,
    allowed: Sequence[IPNetwork] = (),
    inner: aiohttp.SocketFactoryType | None = None,
) -> aiohttp.SocketFactoryType:
    """Return a ``TCPConnector`` socket factory that refuses forbidden addresses.

    The factory judges the socket address of each connection attempt before creating the
    socket, so nothing is sent to a forbidden address. Allowed attempts get a socket from
    ``inner`` (if given) or a plain ``socket.socket``.
    """
    allowed_networks = tuple(allowed)

    def factory(addr_info: aiohttp.AddrInfoType) -> socket.socket:
        family, type_, proto, _canonname, sockaddr = addr_info
        address = str(sockaddr[0])
        _check_address(address, address, allow_loopback=allow_loopback, allowed=allowed_networks)
        if inner is not None:
            return inner(addr_info)
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def make_connector(
    *,
    allow_loopback: bool,
    allowed: Sequence[IPNetwork] = (),
    limit: int = 100,
    limit_per_host: int = 0,
    ttl_dns_cache: int | None = 10,
    resolver: AbstractResolver | None = None,
    socket_factory: aiohttp.SocketFactoryType | None = None,
    ssl_context: ssl.SSLContext | bool = True,
) -> aiohttp.TCPConnector:
    """Build the ``TCPConnector`` used for deliveries, with both SSRF guard layers.

    ``allow_loopback`` (development mode) permits loopback destinations only; ``allowed``
    is the operator allow-list, overriding every rule. ``resolver`` is the DNS resolver
    to guard (default: a threaded ``getaddrinfo`` resolver) and stays the caller's to
    close. ``socket_factory`` creates sockets for attempts that passed the guard (e.g. to
    set socket options). ``ssl_context`` is passed to aiohttp as ``ssl``. Must be called
    with a running event loop.
    """
    return aiohttp.TCPConnector(
        resolver=GuardedResolver(resolver, allow_loopback=allow_loopback, allowed=allowed),
        socket_factory=guarded_socket_factory(
            allow_loopback=allow_loopback, allowed=allowed, inner=socket_factory
        ),
        limit=limit,
        limit_per_host=limit_per_host,
        use_dns_cache=True,
        ttl_dns_cache=ttl_dns_cache,
        ssl=ssl_context,
    )
