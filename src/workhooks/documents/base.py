"""What every wire document shares: the Struct configuration and the formats of times."""

from __future__ import annotations

import datetime as dt
from typing import overload

import msgspec

__all__ = ["Document", "instant", "instant_ms"]


class Document(msgspec.Struct, gc=False):
    """A JSON document of the API or of a webhook event, encoded field by field in order.

    Fields are the wire names; a field that may be left out is ``X | UnsetType = UNSET`` (absent
    when unset), a field that may be empty is ``X | None`` (``null``). Documents hold no
    cycles, so the garbage collector need not track them.
    """


def instant(value: dt.datetime) -> str:
    """A time as ISO 8601 with its offset, as Python writes it (``+00:00``, not ``Z``)."""
    return value.isoformat()


@overload
def instant_ms(value: dt.datetime) -> str: ...
@overload
def instant_ms(value: dt.datetime | None) -> str | None: ...


def instant_ms(value: dt.datetime | None) -> str | None:
    """A time to the millisecond with its offset (``null`` for none): delivery and client times."""
    return None if value is None else value.isoformat(timespec="milliseconds")
