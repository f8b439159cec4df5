"""Tests for ``workhooks.domain.deliveries.summarize``: one event's delivery, attempt by attempt."""

from __future__ import annotations

import datetime as dt

from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryStatus, summarize

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def attempt(seconds: int, *, succeeded: bool) -> DeliveryAttempt:
    """An attempt of one event ``seconds`` after T0."""
    return DeliveryAttempt(
        webhook_id="w1",
        message_id="msg_1",
        record_id=7,
        change_version=3,
        attempted_at=T0 + dt.timedelta(seconds=seconds),
        succeeded=succeeded,
        status_code=200 if succeeded else 503,
        latency_ms=2.0,
        error_class=None if succeeded else "HttpStatus",
        response_excerpt="",
        next_attempt_at=None if succeeded else T0 + dt.timedelta(minutes=1),
    )


def test_a_first_attempt_starts_the_summary() -> None:
    """One failed attempt: one attempt, first and last at its time, its status and retry."""
    assert summarize(None, attempt(0, succeeded=False)) == Delivery(
        webhook_id="w1",
        id="msg_1",
        record_id=7,
        change_version=3,
        status=DeliveryStatus.FAILED,
        attempts=1,
        first_attempt_at=T0,
        last_attempt_at=T0,
        last_status_code=503,
        last_error_class="HttpStatus",
        next_attempt_at=T0 + dt.timedelta(minutes=1),
    )


def test_a_later_attempt_counts_up_and_takes_over_the_outcome() -> None:
    """The second attempt keeps the first time and makes the delivery its own."""
    first = summarize(None, attempt(0, succeeded=False))
    second = summarize(first, attempt(60, succeeded=True))
    assert second.attempts == 2
    assert second.first_attempt_at == T0
    assert second.last_attempt_at == T0 + dt.timedelta(seconds=60)
    assert second.status is DeliveryStatus.SUCCEEDED
    assert (second.last_status_code, second.last_error_class, second.next_attempt_at) == (
        200,
        None,
        None,
    )
