"""Change versions: per-tenant, strictly increasing, ordered as strings.

On the wire a change version is 20 upper-case hex digits (``0000090200004BD0000A``), so
string order equals numeric order; inside workhooks it is an ``int``.
"""

from __future__ import annotations

import re

__all__ = ["CHANGE_VERSION_DIGITS", "MAX_CHANGE_VERSION", "format_version", "parse_version"]

CHANGE_VERSION_DIGITS = 20
MAX_CHANGE_VERSION = 16**CHANGE_VERSION_DIGITS - 1
_PATTERN = re.compile(r"[0-9A-F]{20}")


def format_version(version: int) -> str:
    """Render ``version`` as 20 upper-case hex digits."""
    if not 0 <= version <= MAX_CHANGE_VERSION:
        raise ValueError(f"change version {version} is out of range")
    return f"{version:020X}"


def parse_version(text: str) -> int:
    """Parse a wire change version; raise ``ValueError`` unless it is 20 upper-case hex digits."""
    if not _PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a change version (20 upper-case hex digits)")
    return int(text, 16)
