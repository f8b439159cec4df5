"""API rate limits: a token bucket per client, in each API process.

Each client may make ``rate`` requests per second on average, in bursts of up to ``burst``;
beyond that it is answered 429 with ``Retry-After`` (the seconds until its next request is
allowed) and a Protime error body. Buckets live in the process: with several API processes
behind a load balancer a client gets up to that many times the rate (see
``docs/deployment.md``). Memory is bounded: when more than ``max_clients`` buckets are kept,
those that are full again (idle clients) are dropped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from workhooks.errors import RateLimitedError

__all__ = ["RateLimits"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # when ``tokens`` was counted, in seconds of ``monotonic``


class RateLimits:
    """Token buckets keyed by client id; ``monotonic`` tells the elapsed seconds (real time:
    a rate is about the requests a process serves, whatever the wall clock does)."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_clients: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._rate = rate
        self._burst = burst
        self._max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}

    def take(self, client_id: str) -> None:
        """Spend one request of ``client_id``; raise ``RateLimitedError`` when none is left."""
        now = self._monotonic()
        bucket = self._buckets.get(client_id)
        if bucket is None:
            if len(self._buckets) >= self._max_clients:
                self._forget_idle(now)
            bucket = self._buckets[client_id] = _Bucket(tokens=self._burst, at=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = max(1, math.ceil((1 - bucket.tokens) / self._rate))
        raise RateLimitedError.wait(wait, rate=self._rate, burst=self._burst)

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled: their clients are as new ones."""
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self._rate >= self._burst
        ]
        for key in full:
            del self._buckets[key]
