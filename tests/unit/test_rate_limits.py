"""The per-client token buckets of the API."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.api.rate_limits import RateLimits
from workhooks.errors import RateLimitedError


class Ticker:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_with_the_wait() -> None:
    """A client may spend its burst at once; the next request says how long to wait."""
    ticker = Ticker()
    limits = RateLimits(rate=0.5, burst=3, monotonic=ticker)
    for _ in range(3):
        limits.take("a")
    with pytest.raises(RateLimitedError) as refused:
        limits.take("a")
    assert refused.value.retry_after_seconds == 2
    assert refused.value.reasons
    ticker.now += 2
    limits.take("a")


def test_clients_have_buckets_of_their_own() -> None:
    """One client's exhausted bucket does not limit another client."""
    limits = RateLimits(rate=1, burst=1, monotonic=Ticker())
    limits.take("a")
    with pytest.raises(RateLimitedError):
        limits.take("a")
    limits.take("b")


def test_idle_buckets_are_forgotten_past_the_bound() -> None:
    """Beyond ``max_clients`` buckets, the refilled ones are dropped; busy ones are kept."""
    ticker = Ticker()
    limits = RateLimits(rate=1, burst=1, max_clients=2, monotonic=ticker)
    limits.take("busy")
    ticker.now += 0.5
    limits.take("idle")
    ticker.now += 0.6  # "busy" has refilled, "idle" has not
    limits.take("new")
    with pytest.raises(RateLimitedError):
        limits.take("idle")  # still remembered, still empty


@given(
    rate=st.floats(min_value=0.1, max_value=100),
    burst=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=100),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    """Over any sequence of requests, the allowed ones never exceed burst + rate x elapsed."""
    ticker = Ticker()
    limits = RateLimits(rate=rate, burst=burst, monotonic=ticker)
    start, allowed = ticker.now, 0
    for gap in gaps:
        ticker.now += gap
        try:
            limits.take("a")
        except RateLimitedError:
            continue
        allowed += 1
        assert allowed <= burst + rate * (ticker.now - start) + 1e-6
