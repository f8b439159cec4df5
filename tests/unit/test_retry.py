"""Tests for the retry and back-off policy in ``workhooks.domain.retry``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.retry import (
    DEFAULT_RETRY_POLICY,
    DEFAULT_RETRY_SCHEDULE,
    BackoffState,
    Disable,
    FailureClass,
    Retry,
    RetryPolicy,
    classify_status,
    next_step,
    parse_retry_after,
    reset,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

RETRYABLE = [f for f in FailureClass if f is not FailureClass.GONE]

schedules = st.lists(
    st.integers(min_value=0, max_value=200_000).map(lambda s: timedelta(seconds=s)),
    min_size=1,
    max_size=12,
).map(tuple)
jitters = st.floats(min_value=0.0, max_value=0.9, allow_nan=False)


def run_until_disabled(
    policy: RetryPolicy, failure: FailureClass, seed: int
) -> tuple[list[timedelta], Disable]:
    """Fail repeatedly from a fresh state and collect the delays until the webhook is disabled."""
    rng = random.Random(seed)
    state = reset()
    now = NOW
    delays: list[timedelta] = []
    for _ in range(len(policy.schedule) + 2):
        state, decision = next_step(state, failure=failure, now=now, rng=rng, policy=policy)
        if isinstance(decision, Disable):
            return delays, decision
        delays.append(decision.at - now)
        assert state.next_attempt_at == decision.at
        now = decision.at
    raise AssertionError("never disabled")


def test_default_schedule_matches_the_documented_steps() -> None:
    """The default schedule is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h at ±20 %."""
    seconds = [d.total_seconds() for d in DEFAULT_RETRY_SCHEDULE]
    assert seconds == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert DEFAULT_RETRY_POLICY.jitter == 0.2
    assert DEFAULT_RETRY_POLICY.schedule == DEFAULT_RETRY_SCHEDULE


@given(
    schedule=schedules,
    jitter=jitters,
    seed=st.integers(),
    failure=st.sampled_from(RETRYABLE),
)
def test_each_delay_is_within_jitter_bounds_of_its_step(
    schedule: tuple[timedelta, ...], jitter: float, seed: int, failure: FailureClass
) -> None:
    """Every delay lies within ±jitter of its schedule step, then the webhook is disabled."""
    policy = RetryPolicy(schedule=schedule, jitter=jitter)
    delays, disable = run_until_disabled(policy, failure, seed)
    assert len(delays) == len(schedule)
    for delay, step in zip(delays, schedule, strict=True):
        assert step * (1 - jitter) - timedelta(microseconds=1) <= delay
        assert delay <= step * (1 + jitter) + timedelta(microseconds=1)
    assert disable.reason == "retry schedule exhausted"


@given(seed=st.integers())
def test_default_policy_gives_nine_retries_within_twenty_percent(seed: int) -> None:
    """The default policy retries nine times, each within ±20 % of its step, then disables."""
    delays, disable = run_until_disabled(DEFAULT_RETRY_POLICY, FailureClass.SERVER_ERROR, seed)
    assert len(delays) == 9
    for delay, step in zip(delays, DEFAULT_RETRY_SCHEDULE, strict=True):
        ratio = delay / step
        assert 0.8 - 1e-9 <= ratio <= 1.2 + 1e-9
    assert isinstance(disable, Disable)


def test_jitter_is_drawn_from_the_injected_rng() -> None:
    """Two runs with the same seed agree and a different seed gives a different delay."""
    first = next_step(reset(), failure=FailureClass.TIMEOUT, now=NOW, rng=random.Random(1))
    again = next_step(reset(), failure=FailureClass.TIMEOUT, now=NOW, rng=random.Random(1))
    other = next_step(reset(), failure=FailureClass.TIMEOUT, now=NOW, rng=random.Random(2))
    assert first == again
    assert first != other


@given(failures=st.integers(min_value=0, max_value=20), seed=st.integers())
def test_gone_disables_immediately(failures: int, seed: int) -> None:
    """A 410 Gone disables the webhook whatever the position in the schedule."""
    state, decision = next_step(
        BackoffState(failures=failures, next_attempt_at=NOW),
        failure=FailureClass.GONE,
        now=NOW,
        rng=random.Random(seed),
    )
    assert decision == Disable(reason="the destination answered 410 Gone")
    assert state.next_attempt_at is None


def test_exhausted_state_disables() -> None:
    """A state that has used every step of the schedule is disabled on the next failure."""
    state = BackoffState(failures=len(DEFAULT_RETRY_SCHEDULE), next_attempt_at=NOW)
    new_state, decision = next_step(
        state, failure=FailureClass.SERVER_ERROR, now=NOW, rng=random.Random(0)
    )
    assert decision == Disable(reason="retry schedule exhausted")
    assert new_state.next_attempt_at is None


def test_reset_after_success_restarts_the_schedule() -> None:
    """After a success the next failure is scheduled from the first step again."""
    rng = random.Random(0)
    state = reset()
    for _ in range(4):
        state, _decision = next_step(state, failure=FailureClass.TIMEOUT, now=NOW, rng=rng)
    assert state.failures == 4
    state = reset()
    assert state == BackoffState(failures=0, next_attempt_at=None)
    state, decision = next_step(state, failure=FailureClass.TIMEOUT, now=NOW, rng=rng)
    assert isinstance(decision, Retry)
    assert timedelta(seconds=4) <= decision.at - NOW <= timedelta(seconds=6)
    assert state.failures == 1


@given(
    retry_after=st.integers(min_value=0, max_value=10**7).map(lambda s: timedelta(seconds=s)),
    failure=st.sampled_from([FailureClass.RATE_LIMITED, FailureClass.UNAVAILABLE]),
    step=st.integers(min_value=0, max_value=8),
    seed=st.integers(),
)
def test_retry_after_is_clamped_and_never_shortens_the_schedule(
    retry_after: timedelta, failure: FailureClass, step: int, seed: int
) -> None:
    """A Retry-After is honoured within [min, max] and only when longer than the step."""
    policy = RetryPolicy(retry_after_min=timedelta(seconds=1), retry_after_max=timedelta(hours=24))
    state = BackoffState(failures=step)
    _, plain = next_step(state, failure=failure, now=NOW, rng=random.Random(seed))
    _, honoured = next_step(
        state,
        failure=failure,
        now=NOW,
        rng=random.Random(seed),
        retry_after=retry_after,
        policy=policy,
    )
    assert isinstance(plain, Retry)
    assert isinstance(honoured, Retry)
    clamped = min(max(retry_after, timedelta(seconds=1)), timedelta(hours=24))
    assert honoured.at - NOW == max(plain.at - NOW, clamped)
    assert honoured.at >= plain.at
    assert honoured.at - NOW <= max(plain.at - NOW, timedelta(hours=24))


def test_retry_after_is_capped_at_the_maximum() -> None:
    """A week-long Retry-After on a 5 s step is cut to retry_after_max."""
    policy = RetryPolicy(retry_after_max=timedelta(hours=1))
    _, decision = next_step(
        reset(),
        failure=FailureClass.RATE_LIMITED,
        now=NOW,
        rng=random.Random(0),
        retry_after=timedelta(days=7),
        policy=policy,
    )
    assert decision == Retry(at=NOW + timedelta(hours=1))


def test_retry_after_is_ignored_for_other_failures() -> None:
    """A Retry-After sent with a plain 500 does not change the scheduled delay."""
    _, plain = next_step(reset(), failure=FailureClass.SERVER_ERROR, now=NOW, rng=random.Random(3))
    _, with_header = next_step(
        reset(),
        failure=FailureClass.SERVER_ERROR,
        now=NOW,
        rng=random.Random(3),
        retry_after=timedelta(hours=5),
    )
    assert with_header == plain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5,300,1800", (5, 300, 1800)),
        (" 5 , 300 ", (5, 300)),
        ("0.5", (0.5,)),
        ("0", (0,)),
    ],
)
def test_from_seconds_parses_the_schedule(text: str, expected: tuple[float, ...]) -> None:
    """The WORKHOOKS_RETRY_SCHEDULE format parses into the corresponding delays."""
    policy = RetryPolicy.from_seconds(text)
    assert policy.schedule == tuple(timedelta(seconds=s) for s in expected)
    assert policy.jitter == 0.2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("5,,300", "item 2 is empty"),
        ("5,300,", "item 3 is empty"),
        ("5,-1", "item 2 .* is negative"),
        ("5,abc", "item 2 .* is not a number"),
        ("5m", "item 1 .* is not a number"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
    ],
)
def test_from_seconds_rejects_bad_input(text: str, message: str) -> None:
    """Malformed schedules raise a ValueError naming what is wrong."""
    with pytest.raises(ValueError, match=message):
        RetryPolicy.from_seconds(text)


@pytest.mark.parametrize("jitter", [-0.1, 1.0, float("nan")])
def test_policy_rejects_bad_jitter(jitter: float) -> None:
    """A jitter outside [0, 1) is refused."""
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=jitter)


def test_policy_rejects_inverted_retry_after_bounds() -> None:
    """retry_after_min above retry_after_max is refused."""
    with pytest.raises(ValueError, match="retry_after_min"):
        RetryPolicy(retry_after_min=timedelta(hours=2), retry_after_max=timedelta(hours=1))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, None),
        (204, None),
        (299, None),
        (301, FailureClass.REDIRECT),
        (308, FailureClass.REDIRECT),
        (400, FailureClass.CLIENT_ERROR),
        (404, FailureClass.CLIENT_ERROR),
        (410, FailureClass.GONE),
        (429, FailureClass.RATE_LIMITED),
        (500, FailureClass.SERVER_ERROR),
        (502, FailureClass.SERVER_ERROR),
        (503, FailureClass.UNAVAILABLE),
        (599, FailureClass.SERVER_ERROR),
        (101, FailureClass.SERVER_ERROR),
        (799, FailureClass.SERVER_ERROR),
    ],
)
def test_classify_status(status: int, expected: FailureClass | None) -> None:
    """Statuses map to their failure class, with None for success."""
    assert classify_status(status) is expected


@pytest.mark.parametrize("status", [0, 99, 1000, -200])
def test_classify_status_rejects_non_statuses(status: int) -> None:
    """A number that is not a three-digit status code is refused."""
    with pytest.raises(ValueError, match="status"):
        classify_status(status)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Wed, 01 May 2024 12:05:00 GMT", timedelta(minutes=5)),
        ("Wednesday, 01-May-24 13:00:00 GMT", timedelta(hours=1)),
        ("Wed May  1 12:00:30 2024", timedelta(seconds=30)),
        ("Sun, 06 Nov 1994 08:49:37 GMT", timedelta(0)),
        ("99999999999999999999", timedelta(days=365)),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("١٢٠", None),
        ("Wed, 32 May 2024 12:05:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: timedelta | None) -> None:
    """Delta-seconds and all HTTP-date forms parse; garbage and absence give None."""
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_requires_aware_now() -> None:
    """A naive ``now`` is refused rather than silently compared against a UTC date."""
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_retry_after("5", now=datetime(2024, 1, 1))


@given(st.integers(min_value=0, max_value=10**6))
def test_parse_retry_after_delta_seconds_roundtrip(seconds: int) -> None:
    """Any delta-seconds value up to a year parses to exactly that many seconds."""
    assert parse_retry_after(str(seconds), now=NOW) == timedelta(seconds=seconds)


def test_backoff_state_rejects_negative_failures() -> None:
    """A negative failure count is not a valid state."""
    with pytest.raises(ValueError, match="failures"):
        BackoffState(failures=-1)


def test_policy_rejects_negative_delays() -> None:
    """A schedule step below zero cannot be waited for."""
    with pytest.raises(ValueError, match="must not be negative"):
        RetryPolicy(schedule=(timedelta(seconds=5), timedelta(seconds=-1)))
