"""The ``Clock`` port: the only way services learn the time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    """Tells the current instant as an aware UTC datetime."""

    def now(self) -> dt.datetime:
        """Return the current instant."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """Return the current UTC instant."""
        return dt.datetime.now(dt.UTC)
