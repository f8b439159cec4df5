"""Tests for the SSRF address classification in ``workhooks.domain.addresses``."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.addresses import (
    IPNetwork,
    check_destination_host,
    forbidden_reason,
    is_forbidden_address,
    normalize_host,
    parse_ip_literal,
)
from workhooks.errors import InvalidDestinationError


def refusal(
    host: str, *, allow_loopback: bool, allowed: tuple[IPNetwork, ...] = ()
) -> InvalidDestinationError | None:
    """Return the error ``check_destination_host`` raises for ``host``, or ``None``."""
    try:
        check_destination_host(host, allow_loopback=allow_loopback, allowed=allowed)
    except InvalidDestinationError as exc:
        return exc
    return None


FORBIDDEN_ADDRESSES = [
    # loopback
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    # private RFC 1918
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    # link-local and cloud metadata
    "169.254.0.1",
    "169.254.169.254",
    "fe80::1",
    "fe80::1%eth0",
    "fd00:ec2::254",
    "100.100.100.200",
    # CGNAT, unique-local
    "100.64.0.1",
    "100.127.255.254",
    "fc00::1",
    "fd12:3456:789a::1",
    # multicast, unspecified, reserved, broadcast
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "0.0.0.0",
    "0.1.2.3",
    "::",
    "240.0.0.1",
    "255.255.255.255",
    "fec0::1",
    "100::1",
    "4000::1",
    # benchmarking and documentation
    "198.18.0.1",
    "198.19.255.254",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "2001:db8::1",
    "2001:2::1",
    "3fff::1",
    # IPv4 embedded in IPv6
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0:127.0.0.1",
    "::127.0.0.1",
    "::10.0.0.1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::1",
    "2002:c0a8:101::1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::10.0.0.1",
    "64:ff9b::169.254.169.254",
    "64:ff9b:1::a00:1",
    "64:ff9b:1:7f00:0:100::",
    "64:ff9b:1::",
    # Teredo whose client (obfuscated) is 192.0.2.45, a documentation address
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    # Teredo whose server is loopback
    "2001:0:7f00:1::5db8:d822",
]

ALLOWED_ADDRESSES = [
    "93.184.216.34",
    "1.1.1.1",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "198.20.0.1",
    "2606:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:93.184.216.34",
    "2002:5db8:d822::1",
    "64:ff9b::93.184.216.34",
    "64:ff9b:1::5db8:d822",
    "2001:0:5db8:d822::a247:27dd",
]


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
def test_forbidden_addresses_are_refused(address: str) -> None:
    """Every internal, reserved or IPv4-wrapping-internal address is forbidden by default."""
    assert is_forbidden_address(ip_address(address))
    assert forbidden_reason(ip_address(address))


@pytest.mark.parametrize("address", ALLOWED_ADDRESSES)
def test_public_addresses_are_allowed(address: str) -> None:
    """Public unicast addresses, also when wrapped in an IPv6 transition format, are allowed."""
    assert not is_forbidden_address(ip_address(address))
    assert forbidden_reason(ip_address(address)) is None


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "2002:7f00:1::", "64:ff9b::7f00:1"],
)
def test_allow_loopback_permits_loopback(address: str) -> None:
    """Development mode permits loopback, also when wrapped in an IPv6 transition format."""
    assert is_forbidden_address(ip_address(address))
    assert not is_forbidden_address(ip_address(address), allow_loopback=True)


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "192.168.0.1", "169.254.169.254", "0.0.0.0", "::", "fe80::1", "::ffff:10.0.0.1"],
)
def test_allow_loopback_permits_only_loopback(address: str) -> None:
    """Development mode still forbids every non-loopback internal address."""
    assert is_forbidden_address(ip_address(address), allow_loopback=True)


def test_reason_names_the_rule_and_the_embedded_address() -> None:
    """The reason for a wrapped address names the wrapper and the embedded IPv4 address."""
    reason = forbidden_reason(ip_address("::ffff:169.254.169.254"))
    assert reason == "IPv4-mapped address embedding 169.254.169.254 (cloud metadata endpoint)"


def test_a_transition_address_without_a_plausible_embedding_is_refused() -> None:
    """A local-use NAT64 address whose reserved octet is set embeds nothing: fail closed."""
    assert forbidden_reason(IPv6Address("64:ff9b:1:0:ff00::1")) == (
        "local-use NAT64 address without a recognisable embedded IPv4 address"
    )


def test_allow_list_overrides_embedded_address() -> None:
    """An allow-list entry covering the embedded IPv4 address also allows the wrapped form."""
    allowed = [IPv4Network("10.1.0.0/16")]
    assert not is_forbidden_address(ip_address("::ffff:10.1.2.3"), allowed=allowed)
    assert is_forbidden_address(ip_address("::ffff:10.2.0.1"), allowed=allowed)


FORBIDDEN_NETWORKS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
    "2001:db8::/32",
]


@st.composite
def address_in_forbidden_network(draw: st.DrawFn) -> tuple[IPNetwork, IPv4Address | IPv6Address]:
    """Draw a forbidden network and an address inside it."""
    network = ip_network(draw(st.sampled_from(FORBIDDEN_NETWORKS)))
    offset = draw(st.integers(min_value=0, max_value=network.num_addresses - 1))
    return network, network.network_address + offset


@given(address_in_forbidden_network())
def test_every_address_in_a_forbidden_network_is_forbidden(
    case: tuple[IPNetwork, IPv4Address | IPv6Address],
) -> None:
    """Any address drawn from a forbidden network is forbidden, and so is its mapped form."""
    _network, address = case
    assert is_forbidden_address(address)
    if isinstance(address, IPv4Address):
        mapped = IPv6Address(f"::ffff:{address}")
        assert is_forbidden_address(mapped)
        six_to_four = IPv6Address((0x2002 << 112) | (int(address) << 80))
        assert is_forbidden_address(six_to_four)
        nat64 = IPv6Address(int(IPv6Address("64:ff9b::")) | int(address))
        assert is_forbidden_address(nat64)


@given(address_in_forbidden_network())
def test_allow_list_overrides_every_rule(
    case: tuple[IPNetwork, IPv4Address | IPv6Address],
) -> None:
    """An address inside an allow-listed network is allowed whatever rule it would break."""
    network, address = case
    assert is_forbidden_address(address)
    assert not is_forbidden_address(address, allowed=[network])


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_mapped_form_is_judged_like_the_ipv4_address(value: int) -> None:
    """An IPv4-mapped IPv6 address is forbidden exactly when its IPv4 address is."""
    v4 = IPv4Address(value)
    mapped = IPv6Address((0xFFFF << 32) | value)
    assert is_forbidden_address(mapped) == is_forbidden_address(v4)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_allow_list_of_other_family_does_not_apply(value: int) -> None:
    """An IPv6 allow-list entry never allows a plain IPv4 address."""
    v4 = IPv4Address(value)
    assert is_forbidden_address(v4, allowed=[IPv6Network("::/0")]) == is_forbidden_address(v4)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[fe80::1%25eth0]", "fe80::1%eth0"),
        ("example.com", None),
        ("1e100.net", None),
    ],
)
def test_parse_ip_literal(host: str, expected: str | None) -> None:
    """Legacy numeric IPv4 spellings and bracketed IPv6 parse as literals; names do not."""
    parsed = parse_ip_literal(host)
    assert parsed == (ip_address(expected) if expected is not None else None)


FORBIDDEN_HOSTS = [
    "127.0.0.1",
    "127.0.0.1.",
    "2130706433",
    "0x7f.1",
    "0x7F.0.0.1",
    "017700000001",
    "0177.0.0.01",
    "127.1",
    "0",
    "0.0.0.0",
    "10.1",
    "169.254.169.254",
    "0xa9fea9fe",
    "[::1]",
    "::1",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:7f00:1]",
    "[::127.0.0.1]",
    "[2002:7f00:1::]",
    "[64:ff9b::a9fe:a9fe]",
    "[fd00:ec2::254]",
    "[fe80::1%25eth0]",
    "localhost",
    "LOCALHOST",
    "localhost.",
    "api.localhost",
    "x.y.localhost.",
    # IDNA spellings that a client folds to ASCII before it connects
    "１２７.０.０.１",
    "１２７。０。０。１",
    "ｌｏｃａｌｈｏｓｔ",
    "locaⅼhost",
    "ＬＯＣＡＬＨＯＳＴ",
    "api.ｌocalhost",
    "①②⑦.0.0.1",
    "１６９.２５４.１６９.２５４",
]


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_check_destination_host_refuses_bypass_forms(host: str) -> None:
    """Every spelling of an internal destination is refused with a reason."""
    with pytest.raises(InvalidDestinationError) as excinfo:
        check_destination_host(host, allow_loopback=False)
    assert excinfo.value.reasons
    assert "not allowed" in excinfo.value.message


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "hooks.example.com.",
        "93.184.216.34",
        "[2606:4700::1111]",
        "2606:4700::1111",
        "localhost.example.com",
        "mylocalhost",
        "bücher.example",
        "ｅｘａｍｐｌｅ.com",
    ],
)
def test_check_destination_host_accepts_public_hosts_and_names(host: str) -> None:
    """Public literals and ordinary names pass (names are judged when resolved)."""
    assert refusal(host, allow_loopback=False) is None


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "2130706433", "a.localhost"])
def test_check_destination_host_allows_loopback_in_development(host: str) -> None:
    """With loopback allowed, loopback literals and localhost names pass."""
    assert refusal(host, allow_loopback=True) is None


def test_check_destination_host_reason_names_the_address() -> None:
    """The error for an odd IPv4 spelling names the address it really means."""
    with pytest.raises(InvalidDestinationError, match=r"127\.0\.0\.1 is forbidden: loopback"):
        check_destination_host("0x7f.1", allow_loopback=False)


@pytest.mark.parametrize("host", ["", "[not-an-ip]", "[1.2.3.4]", "a:b", "ü" * 70 + ".example"])
def test_check_destination_host_refuses_malformed_hosts(host: str) -> None:
    """Empty hosts and brackets or colons around something not IPv6 are refused."""
    with pytest.raises(InvalidDestinationError):
        check_destination_host(host, allow_loopback=True)


def test_check_destination_host_honours_allow_list() -> None:
    """An allow-listed private literal passes the registration check."""
    allowed = (IPv4Network("10.0.0.0/8"),)
    assert refusal("10.1.2.3", allow_loopback=False, allowed=allowed) is None
    assert refusal("192.168.1.1", allow_loopback=False, allowed=allowed) is not None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("１２７.０.０.１", "127.0.0.1"),
        ("ｌｏｃａｌｈｏｓｔ", "localhost"),
        ("locaⅼhost", "localhost"),
        ("Hooks.Example.COM.", "hooks.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_normalize_host_folds_to_the_spelling_clients_connect_to(host: str, expected: str) -> None:
    """Hosts are compared in the ASCII form an HTTP client resolves (IDNA, lower case)."""
    assert normalize_host(host) == expected
