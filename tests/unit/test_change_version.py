"""Tests for the wire form of change versions in ``workhooks.domain.change_version``."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.change_version import (
    CHANGE_VERSION_DIGITS,
    MAX_CHANGE_VERSION,
    format_version,
    parse_version,
)

VERSIONS = st.integers(min_value=0, max_value=MAX_CHANGE_VERSION)
WIRE_FORM = re.compile(r"[0-9A-F]{20}")


def test_wire_form_has_twenty_hex_digits() -> None:
    """A change version is exactly 20 upper-case hex digits on the wire."""
    assert CHANGE_VERSION_DIGITS == 20
    assert MAX_CHANGE_VERSION == 16**20 - 1
    assert format_version(0) == "0" * 20
    assert format_version(MAX_CHANGE_VERSION) == "F" * 20
    assert format_version(0xABCDEF) == "00000000000000ABCDEF"


def test_documented_example_parses() -> None:
    """The example version of the Protime documentation parses and formats back."""
    assert parse_version("0000090200004BD0000A") == 0x90200004BD0000A
    assert format_version(0x90200004BD0000A) == "0000090200004BD0000A"


@given(VERSIONS)
def test_format_then_parse_round_trips(version: int) -> None:
    """Formatting any version in range gives 20 upper-case hex digits that parse back to it."""
    text = format_version(version)
    assert WIRE_FORM.fullmatch(text)
    assert parse_version(text) == version


@given(st.text(alphabet="0123456789ABCDEF", min_size=20, max_size=20))
def test_parse_then_format_round_trips(text: str) -> None:
    """Any 20 upper-case hex digits parse to a version that formats to the same text."""
    assert format_version(parse_version(text)) == text


@given(VERSIONS, VERSIONS)
def test_string_order_equals_numeric_order(a: int, b: int) -> None:
    """Comparing wire forms as strings gives the same answer as comparing the numbers."""
    left, right = format_version(a), format_version(b)
    assert (left < right) == (a < b)
    assert (left == right) == (a == b)


@pytest.mark.parametrize("version", [-1, MAX_CHANGE_VERSION + 1, -(2**100), 2**200])
def test_format_refuses_out_of_range(version: int) -> None:
    """Versions below 0 or above 20 hex digits cannot be formatted."""
    with pytest.raises(ValueError, match="out of range"):
        format_version(version)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0" * 19,
        "0" * 21,
        "a" * 20,
        "0000090200004bd0000a",
        "G" * 20,
        " " + "0" * 19,
        "0" * 20 + "\n",
        "-" + "0" * 19,
        "+" + "0" * 19,
        "0x" + "0" * 18,
        "0" * 18 + "_1",
        "０" * 20,
    ],
)
def test_parse_refuses_malformed_text(text: str) -> None:
    """Anything but exactly 20 upper-case hex digits raises ``ValueError``."""
    with pytest.raises(ValueError, match="not a change version"):
        parse_version(text)


@given(st.text(max_size=24).filter(lambda t: WIRE_FORM.fullmatch(t) is None))
def test_parse_refuses_any_other_text(text: str) -> None:
    """No text outside the wire form is accepted as a change version."""
    with pytest.raises(ValueError, match="not a change version"):
        parse_version(text)
