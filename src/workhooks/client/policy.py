"""Polite retries: how long to wait after a 429 or 503 (``Retry-After``), and when to stop."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date), else None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When to try a request again, and how long to wait first.

    Only ``statuses`` (429 and 503) are retried, at most ``attempts`` tries in all. The wait
    is the server's ``Retry-After`` when it sends one, else ``backoff_seconds`` doubled per
    try. A ``Retry-After`` longer than ``max_delay_seconds`` is not waited for: the error is
    raised at once, so a caller is never blocked longer than it allowed.
    """

    attempts: int = 4
    backoff_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    statuses: frozenset[int] = frozenset({429, 503})

    def delay(
        self, status: int, headers: Mapping[str, str], *, attempt: int, now: dt.datetime
    ) -> float | None:
        """Seconds to wait before try ``attempt + 1`` after ``status``; None to give up."""
        if status not in self.statuses or attempt >= self.attempts:
            return None
        retry_after = parse_retry_after(headers.get("retry-after"), now=now)
        wait = (
            retry_after
            if retry_after is not None
            else min(self.backoff_seconds * 2 ** (attempt - 1), self.max_delay_seconds)
        )
        return None if wait > self.max_delay_seconds else wait
