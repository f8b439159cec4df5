"""Pure IP-address classification for the SSRF guard.

Webhook destinations are chosen by API clients, so workhooks must never be talked into
delivering to the operator's own network: loopback, private ranges, link-local (and the
cloud metadata services living there), CGNAT, multicast, reserved and documentation
ranges. IPv6 transition formats that *embed* an IPv4 address (IPv4-mapped and
-compatible, 6to4, NAT64, Teredo) are unwrapped and the embedded address is judged, so
``::ffff:127.0.0.1`` or ``2002:7f00:1::`` cannot smuggle a loopback destination past the
check.

The tables here are explicit rather than derived from ``ipaddress``'s ``is_private`` /
``is_global`` flags, whose contents change between Python patch releases.

Two entry points:

* :func:`forbidden_reason` / :func:`is_forbidden_address` judge one address (used at
  connect time by ``workhooks.delivery.guard`` on every resolved address);
* :func:`check_destination_host` judges the host of a destination URL when a webhook is
  registered, refusing forbidden IP literals (including legacy numeric IPv4 spellings
  such as ``2130706433`` or ``0x7f.1``) and ``localhost`` names, after folding the host
  to the ASCII spelling a client connects to (IDNA). Other names pass: they are judged
  when they are resolved.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from workhooks.errors import InvalidDestinationError

__all__ = [
    "IPAddress",
    "IPNetwork",
    "check_destination_host",
    "forbidden_reason",
    "is_forbidden_address",
    "normalize_host",
    "parse_ip_literal",
]

IPAddress = IPv4Address | IPv6Address
"""Either kind of IP address."""

IPNetwork = IPv4Network | IPv6Network
"""Either kind of IP network (used for operator allow-lists)."""

_LOOPBACK = "loopback address"

# Order matters: the first matching rule names the reason, so specific entries (metadata
# endpoints, broadcast) come before the wider ranges containing them.
_V4_RULES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("169.254.169.254/32", "cloud metadata endpoint"),
        ("100.100.100.200/32", "cloud metadata endpoint"),
        ("255.255.255.255/32", "broadcast address"),
        ("0.0.0.0/8", "unspecified ('this network') address"),
        ("10.0.0.0/8", "private address (RFC 1918)"),
        ("100.64.0.0/10", "shared CGNAT address (RFC 6598)"),
        ("127.0.0.0/8", _LOOPBACK),
        ("169.254.0.0/16", "link-local address"),
        ("172.16.0.0/12", "private address (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignment (RFC 6890)"),
        ("192.0.2.0/24", "documentation address (RFC 5737)"),
        ("192.88.99.0/24", "reserved 6to4 relay anycast address (RFC 7526)"),
        ("192.168.0.0/16", "private address (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking address (RFC 2544)"),
        ("198.51.100.0/24", "documentation address (RFC 5737)"),
        ("203.0.113.0/24", "documentation address (RFC 5737)"),
        ("224.0.0.0/4", "multicast address"),
        ("240.0.0.0/4", "reserved address"),
    )
)

_V6_RULES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "unspecified address"),
        ("::1/128", _LOOPBACK),
        ("fd00:ec2::254/128", "cloud metadata endpoint"),
        ("100::/64", "discard-only address (RFC 6666)"),
        ("2001::/23", "IETF protocol assignment (RFC 2928)"),
        ("2001:db8::/32", "documentation address (RFC 3849)"),
        ("3fff::/20", "documentation address (RFC 9637)"),
        ("5f00::/16", "SRv6 SID address (RFC 9602)"),
        ("fc00::/7", "unique-local address"),
        ("fe80::/10", "link-local address"),
        ("fec0::/10", "deprecated site-local address"),
        ("ff00::/8", "multicast address"),
    )
)

# Everything routable on the public IPv6 Internet lies in 2000::/3; the rest is reserved.
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")

_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
_IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_TEREDO = IPv6Network("2001::/32")

# RFC 6052 §2.2: where a NAT64 prefix of length /48, /56, /64 or /96 puts the embedded
# IPv4 address, as (high_shift, high_bits, low_shift, low_bits) counted from the least
# significant bit; bits 64..71 (the "u" octet) are never used and must be zero.
_RFC6052_LAYOUTS: tuple[tuple[int, int, int, int], ...] = (
    (64, 16, 40, 16),  # /48: bits 48..63 and 72..87
    (64, 8, 32, 24),  # /56: bits 56..63 and 72..95
    (0, 0, 24, 32),  # /64: bits 72..103
    (0, 0, 0, 32),  # /96: bits 96..127
)
_U_OCTET_MASK = 0xFF << 56


def _rfc6052_candidate(value: int, layout: tuple[int, int, int, int]) -> IPv4Address | None:
    """Extract the IPv4 address embedded with one RFC 6052 layout, if the layout fits.

    A layout fits when the ``u`` octet and the suffix after the embedded address are zero
    (RFC 6052 requires both), which rules out reading a /96 embedding as a /48 one.
    """
    high_shift, high_bits, low_shift, low_bits = layout
    if value & _U_OCTET_MASK or value & ((1 << low_shift) - 1):
        return None
    high = (value >> high_shift) & ((1 << high_bits) - 1)
    low = (value >> low_shift) & ((1 << low_bits) - 1)
    return IPv4Address((high << low_bits) | low)


def _embedded_ipv4(ip: IPv6Address) -> tuple[str, tuple[IPv4Address, ...]] | None:
    """Name the transition format ``ip`` uses and the IPv4 address(es) it embeds, if any.

    An empty tuple means the format is recognised but no plausible embedding exists,
    which the caller treats as forbidden (fail closed).
    """
    value = int(ip)
    if ip in _IPV4_MAPPED:
        return "IPv4-mapped address", (IPv4Address(value & 0xFFFFFFFF),)
    if ip in _IPV4_TRANSLATED:
        return "IPv4-translated address", (IPv4Address(value & 0xFFFFFFFF),)
    if ip in _IPV4_COMPATIBLE and value > 1:  # :: and ::1 are judged as themselves
        return "IPv4-compatible address", (IPv4Address(value & 0xFFFFFFFF),)
    if ip in _NAT64_WELL_KNOWN:
        return "NAT64 address", (IPv4Address(value & 0xFFFFFFFF),)
    if ip in _NAT64_LOCAL:
        found = (_rfc6052_candidate(value, layout) for layout in _RFC6052_LAYOUTS)
        return "local-use NAT64 address", tuple(v4 for v4 in found if v4 is not None)
    if ip in _SIX_TO_FOUR:
        return "6to4 address", (IPv4Address((value >> 80) & 0xFFFFFFFF),)
    if ip in _TEREDO:
        server, client = ip.teredo or (IPv4Address(0), IPv4Address(0))
        return "Teredo address", (server, client)
    return None


def _table_reason(ip: IPAddress) -> str | None:
    """Return the reason the address tables forbid ``ip``, or ``None``."""
    if isinstance(ip, IPv4Address):
        for net4, reason in _V4_RULES:
            if ip in net4:
                return reason
        return None
    for net6, reason in _V6_RULES:
        if ip in net6:
            return reason
    if ip not in _V6_GLOBAL_UNICAST:
        return "reserved address (outside global unicast 2000::/3)"
    return None


def _is_allowed(ip: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    """Tell whether an operator allow-list entry covers ``ip``."""
    return any(ip.version == net.version and ip in net for net in allowed)


def forbidden_reason(
    ip: IPAddress,
    *,
    allow_loopback: bool = False,
    allowed: Sequence[IPNetwork] = (),
) -> str | None:
    """Return why delivering to ``ip`` is forbidden, or ``None`` when it is allowed.

    ``allowed`` is an operator allow-list that overrides every rule (for an address that
    embeds an IPv4 address, an entry covering either the address itself or the embedded
    address suffices). ``allow_loopback`` (development mode) permits loopback addresses
    only, including loopback addresses wrapped in an IPv6 transition format.
    """
    if _is_allowed(ip, allowed):
        return None
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return _embedded_reason(embedded, allow_loopback=allow_loopback, allowed=allowed)
    reason = _table_reason(ip)
    if reason == _LOOPBACK and allow_loopback:
        return None
    return reason


def _embedded_reason(
    embedded: tuple[str, tuple[IPv4Address, ...]],
    *,
    allow_loopback: bool,
    allowed: Sequence[IPNetwork],
) -> str | None:
    """Judge the IPv4 address(es) an IPv6 transition address embeds."""
    kind, candidates = embedded
    if not candidates:
        return f"{kind} without a recognisable embedded IPv4 address"
    for v4 in candidates:
        reason = forbidden_reason(v4, allow_loopback=allow_loopback, allowed=allowed)
        if reason is not None:
            return f"{kind} embedding {v4} ({reason})"
    return None


def is_forbidden_address(
    ip: IPAddress,
    *,
    allow_loopback: bool = False,
    allowed: Sequence[IPNetwork] = (),
) -> bool:
    """Tell whether delivering to ``ip`` is forbidden; see :func:`forbidden_reason`."""
    return forbidden_reason(ip, allow_loopback=allow_loopback, allowed=allowed) is not None


def parse_ip_literal(host: str) -> IPAddress | None:
    """Return the address ``host`` spells literally, or ``None`` when it is a name.

    Accepts IPv6 with or without brackets (and with a zone index), dotted-quad IPv4 and
    every legacy IPv4 spelling ``inet_aton`` accepts (``127.1``, ``0x7f.1``,
    ``2130706433``, ``017700000001``), because some resolvers and HTTP clients accept them
    too. Raises :class:`ValueError` for a bracketed or colon-containing host that is not
    a valid IPv6 address, since such a host can never be a DNS name.
    """
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed or ":" in host:
        inner = host[1:-1] if bracketed else host
        return IPv6Address(inner.replace("%25", "%", 1))
    try:
        return IPv4Address(host)
    except ipaddress.AddressValueError:
        pass
    try:
        packed = socket.inet_aton(host)
    except (OSError, ValueError):
        return None
    return IPv4Address(packed)


def _is_localhost_name(host: str) -> bool:
    """Tell whether ``host`` is ``localhost`` or a name under ``.localhost`` (RFC 6761)."""
    return host == "localhost" or host.endswith(".localhost")


def _host_reason(
    host: str, ip: IPAddress | None, *, allow_loopback: bool, allowed: Sequence[IPNetwork]
) -> str | None:
    """Return why the (normalised) ``host`` that parsed to ``ip`` is forbidden, or ``None``."""
    if ip is not None:
        reason = forbidden_reason(ip, allow_loopback=allow_loopback, allowed=allowed)
        return None if reason is None else f"{ip} is forbidden: {reason}"
    if _is_localhost_name(host):
        loopback = IPv4Address("127.0.0.1")
        reason = forbidden_reason(loopback, allow_loopback=allow_loopback, allowed=allowed)
        return None if reason is None else f"the name {host!r} always means this machine ({reason})"
    return None


def normalize_host(host: str) -> str:
    """The ASCII, lower-case spelling of ``host`` that resolvers and HTTP clients act on.

    A name with non-ASCII characters is converted with IDNA (nameprep), as HTTP clients do
    before they resolve it: full-width and other compatibility spellings fold to ASCII, so
    ``１２７.０.０.１`` is ``127.0.0.1`` and ``ｌｏｃａｌｈｏｓｔ`` or ``locaⅼhost`` is
    ``localhost``. Raises :class:`~workhooks.errors.InvalidDestinationError` when IDNA
    cannot convert the name (no client could connect to it either).
    """
    text = host.strip()
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError as exc:
            reason = f"the host is not a valid internationalised domain name ({exc})"
            raise InvalidDestinationError(
                f"The destination host {host!r} is not valid.", reasons=(reason,)
            ) from None
    return text.lower().rstrip(".")


def check_destination_host(
    host: str,
    *,
    allow_loopback: bool,
    allowed: Sequence[IPNetwork] = (),
) -> None:
    """Refuse a destination host that is a forbidden IP literal or a ``localhost`` name.

    Raises :class:`~workhooks.errors.InvalidDestinationError` naming the reason. Host
    names that are not literals pass: they are judged on every resolution at connect time.
    """
    normalized = normalize_host(host)
    if not normalized:
        raise InvalidDestinationError(
            "The destination URL has no host.", reasons=("the host is empty",)
        )
    try:
        ip = parse_ip_literal(normalized)
    except ValueError:
        invalid = "the host is neither a DNS name nor a valid IP address"
        raise InvalidDestinationError(
            f"The destination host {host!r} is not valid: {invalid}.", reasons=(invalid,)
        ) from None
    reason = _host_reason(normalized, ip, allow_loopback=allow_loopback, allowed=allowed)
    if reason is not None:
        raise InvalidDestinationError(
            f"The destination host {host!r} is not allowed: {reason}.", reasons=(reason,)
        )
