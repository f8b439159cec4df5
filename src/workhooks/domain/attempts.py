"""Failed credential attempts: a fixed window per key (a client id, a source address).

After ``limit`` failures within ``window`` a key is refused, even with the right secret,
until its window ends: guessing a secret gets ``limit`` tries per window, not thousands.
The memory is bounded: at most ``max_keys`` windows are kept, oldest dropped first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["FailedAttempts"]


@dataclass(slots=True)
class _Window:
    started_at: dt.datetime
    failures: int


class FailedAttempts:
    """Counts failures per key; says how long a key that failed too often must wait."""

    def __init__(self, *, limit: int, window: dt.timedelta, max_keys: int = 100_000) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._windows: dict[str, _Window] = {}

    def retry_after(self, key: str, *, now: dt.datetime) -> dt.timedelta | None:
        """How long ``key`` must wait before its next attempt, or None when it may try now."""
        window = self._windows.get(key)
        if window is None:
            return None
        ends_at = window.started_at + self._window
        if ends_at <= now:
            del self._windows[key]
            return None
        return ends_at - now if window.failures >= self._limit else None

    def record_failure(self, key: str, *, now: dt.datetime) -> None:
        """Count one failed attempt of ``key``."""
        window = self._windows.get(key)
        if window is None or window.started_at + self._window <= now:
            self._windows.pop(key, None)
            if len(self._windows) >= self._max_keys:
                del self._windows[next(iter(self._windows))]
            self._windows[key] = _Window(started_at=now, failures=1)
        else:
            window.failures += 1
