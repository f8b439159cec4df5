"""The per-webhook retry and back-off policy, as pure functions over values.

A failed delivery step moves a webhook's :class:`BackoffState` one step along the retry
schedule; the next attempt happens after that step's delay, jittered by ±``jitter`` so
that many webhooks failing together do not retry in lock-step. When the schedule is used
up (or the receiver answers ``410 Gone``) the webhook is disabled. A success resets the
state. Time and randomness are passed in (``now``, ``rng``); nothing here reads the clock.
"""

from __future__ import annotations

import enum
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_RETRY_SCHEDULE",
    "BackoffState",
    "Decision",
    "Disable",
    "FailureClass",
    "Retry",
    "RetryPolicy",
    "classify_status",
    "next_step",
    "parse_retry_after",
    "reset",
]

DEFAULT_RETRY_SCHEDULE: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
)
"""Delays before the 2nd … 10th attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h."""

_MAX_RETRY_AFTER = timedelta(days=365)
_DELTA_SECONDS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry a failing webhook.

    ``schedule[i]`` is the delay after the ``i+1``-th consecutive failure; each delay is
    multiplied by a factor drawn uniformly from ``[1 - jitter, 1 + jitter]``. A receiver's
    ``Retry-After`` is clamped to ``[retry_after_min, retry_after_max]``.
    """

    schedule: tuple[timedelta, ...] = DEFAULT_RETRY_SCHEDULE
    jitter: float = 0.2
    retry_after_min: timedelta = timedelta(seconds=1)
    retry_after_max: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        """Reject policies that cannot be applied."""
        if any(delay < timedelta(0) for delay in self.schedule):
            raise ValueError("retry schedule delays must not be negative")
        if not (math.isfinite(self.jitter) and 0 <= self.jitter < 1):
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter!r}")
        if self.retry_after_min < timedelta(0) or self.retry_after_max < self.retry_after_min:
            raise ValueError("need 0 <= retry_after_min <= retry_after_max")

    @classmethod
    def from_seconds(
        cls,
        value: str,
        *,
        jitter: float = 0.2,
        retry_after_min: timedelta = timedelta(seconds=1),
        retry_after_max: timedelta = timedelta(hours=24),
    ) -> RetryPolicy:
        """Parse the ``WORKHOOKS_RETRY_SCHEDULE`` format: comma-separated delays in seconds.

        Whitespace around items is ignored and fractions are allowed (``"5, 300, 0.5"``).
        Raises :class:`ValueError` naming the offending item for an empty schedule, an empty
        item, a non-number or a negative or non-finite delay.
        """
        if not value.strip():
            raise ValueError("retry schedule is empty; expected comma-separated seconds")
        delays = tuple(
            _parse_delay(item.strip(), index) for index, item in enumerate(value.split(","), 1)
        )
        return cls(
            schedule=delays,
            jitter=jitter,
            retry_after_min=retry_after_min,
            retry_after_max=retry_after_max,
        )


def _parse_delay(item: str, index: int) -> timedelta:
    """Parse one retry schedule item (seconds) or raise a ValueError naming it."""
    if not item:
        raise ValueError(f"retry schedule item {index} is empty")
    try:
        seconds = float(item)
    except ValueError:
        raise ValueError(f"retry schedule item {index} ({item!r}) is not a number") from None
    if not math.isfinite(seconds):
        raise ValueError(f"retry schedule item {index} ({item!r}) is not a finite number")
    if seconds < 0:
        raise ValueError(f"retry schedule item {index} ({item!r}) is negative")
    return timedelta(seconds=seconds)


DEFAULT_RETRY_POLICY = RetryPolicy()
"""The policy used when the operator configures none."""


class FailureClass(enum.StrEnum):
    """Why one delivery attempt failed."""

    DNS = "dns"
    CONNECTION_REFUSED = "connection_refused"
    TLS = "tls"
    TIMEOUT = "timeout"
    REDIRECT = "redirect"
    CLIENT_ERROR = "client_error"
    SERVER_ERROR = "server_error"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    CONNECTION_ERROR = "connection_error"
    FORBIDDEN_DESTINATION = "forbidden_destination"


_SPECIAL_STATUSES = {
    410: FailureClass.GONE,
    429: FailureClass.RATE_LIMITED,
    503: FailureClass.UNAVAILABLE,
}


def classify_status(status: int) -> FailureClass | None:
    """Classify an HTTP response status: ``None`` for 2xx (success), else the failure.

    3xx is a redirect (deliveries do not follow redirects), 410/429/503 have their own
    classes, other 4xx are client errors. Anything else (5xx, and non-standard 1xx or
    600–999 answers) counts as a server error. Raises :class:`ValueError` for a number
    that is not a three-digit status code.
    """
    if not 100 <= status <= 999:
        raise ValueError(f"not an HTTP status code: {status}")
    if 200 <= status < 300:
        return None
    if status in _SPECIAL_STATUSES:
        return _SPECIAL_STATUSES[status]
    if 300 <= status < 400:
        return FailureClass.REDIRECT
    if 400 <= status < 500:
        return FailureClass.CLIENT_ERROR
    return FailureClass.SERVER_ERROR


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Parse a ``Retry-After`` header value into a delay from ``now``.

    Accepts delta-seconds (``"120"``) and every HTTP-date form (IMF-fixdate, RFC 850,
    asctime; a date without zone is taken as UTC). A date in the past yields a zero delay;
    delays are capped at one year. Anything else, including a missing header, yields
    ``None``. ``now`` must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        if len(text) > 12:  # beyond a year by far; avoid timedelta overflow
            return _MAX_RETRY_AFTER
        return min(timedelta(seconds=int(text)), _MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), _MAX_RETRY_AFTER)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackoffState:
    """A webhook's position in the retry schedule.

    ``failures`` counts consecutive failed delivery steps; ``next_attempt_at`` is when the
    next attempt is due (``None`` when not waiting, i.e. healthy or disabled).
    """

    failures: int = 0
    next_attempt_at: datetime | None = None

    def __post_init__(self) -> None:
        """Reject a negative failure count."""
        if self.failures < 0:
            raise ValueError(f"failures must not be negative, got {self.failures}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """Decision: try again at ``at``."""

    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Disable:
    """Decision: stop delivering and disable the webhook, for ``reason``."""

    reason: str


Decision = Retry | Disable
"""What to do after a failed delivery step."""


def reset() -> BackoffState:
    """Return the state after a successful delivery: no failures, nothing scheduled."""
    return BackoffState(failures=0, next_attempt_at=None)


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    """Clamp ``value`` into ``[low, high]``."""
    return max(low, min(value, high))


def next_step(
    state: BackoffState,
    *,
    failure: FailureClass,
    now: datetime,
    rng: random.Random,
    retry_after: timedelta | None = None,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> tuple[BackoffState, Decision]:
    """Advance ``state`` after a failed delivery step and decide what to do next.

    ``gone`` (410) disables at once; after ``len(policy.schedule)`` consecutive failures
    the next one disables ("retry schedule exhausted"). Otherwise the delay is the
    scheduled one times a jitter factor drawn from ``rng``.

    For ``rate_limited`` (429) and ``unavailable`` (503) a ``Retry-After`` is honoured
    only when, after clamping to ``[retry_after_min, retry_after_max]``, it is *longer*
    than the scheduled delay: the receiver may ask us to back off further, but may not
    make us retry sooner than the schedule (which would let a flapping receiver burn
    through the schedule, and so the retry window, in seconds), nor park the webhook for
    longer than ``retry_after_max``. Such a step still counts against the schedule.
    """
    failures = state.failures + 1
    if failure is FailureClass.GONE:
        return (
            BackoffState(failures=failures, next_attempt_at=None),
            Disable(reason="the destination answered 410 Gone"),
        )
    if state.failures >= len(policy.schedule):
        return (
            BackoffState(failures=failures, next_attempt_at=None),
            Disable(reason="retry schedule exhausted"),
        )
    factor = rng.uniform(1 - policy.jitter, 1 + policy.jitter)
    delay = policy.schedule[state.failures] * factor
    if retry_after is not None and failure in (
        FailureClass.RATE_LIMITED,
        FailureClass.UNAVAILABLE,
    ):
        requested = _clamp(retry_after, policy.retry_after_min, policy.retry_after_max)
        delay = max(delay, requested)
    at = now + delay
    return BackoffState(failures=failures, next_attempt_at=at), Retry(at=at)
