"""Deliveries and their attempts: what happened when events were sent to a webhook.

A delivery is one event (one change of one record) sent to one webhook; its id is the
event's ``webhook-id`` (``msg_<webhook id>_<changeVersion>``). Each POST of it is a
``DeliveryAttempt``. A test event (sent on request, never retried) is a delivery too, with
the id ``msg_<webhook id>_test_<16 hex digits>``, record 0 and change version 0.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "MAX_EXCERPT_BYTES",
    "TEST_EVENTS_PER_WINDOW",
    "TEST_EVENT_WINDOW",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryQuery",
    "DeliveryStatus",
    "excerpt",
    "is_message_id",
    "is_test_message",
    "message_id",
    "message_id_of_test",
    "summarize",
    "wait_for_test_slot",
]

MAX_EXCERPT_BYTES = 64 * 1024
"""The most of a receiver's answer read and kept per attempt."""

_MESSAGE_ID = re.compile(
    r"msg_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"_(?:[0-9A-F]{20}|test_[0-9a-f]{16})"
)
_TEST = "_test_"


def is_message_id(text: str) -> bool:
    """Whether ``text`` is spelled like a message id (see ``message_id``); others name none."""
    return _MESSAGE_ID.fullmatch(text) is not None


def is_test_message(text: str) -> bool:
    """Whether a message id names a test event (see ``message_id_of_test``)."""
    return text.startswith("msg_") and _TEST in text


def message_id_of_test(webhook_id: str, nonce: str) -> str:
    """The ``webhook-id`` of a test event: ``msg_<webhook id>_test_<nonce>``.

    ``nonce`` is 16 random hex digits drawn by the caller: every test is a delivery of its own.
    """
    return f"msg_{webhook_id}{_TEST}{nonce}"


TEST_EVENTS_PER_WINDOW = 5
TEST_EVENT_WINDOW = dt.timedelta(minutes=1)
"""A webhook may send ``TEST_EVENTS_PER_WINDOW`` test events within any ``TEST_EVENT_WINDOW``."""


def wait_for_test_slot(
    taken: Iterable[dt.datetime],
    *,
    now: dt.datetime,
    per_window: int = TEST_EVENTS_PER_WINDOW,
    window: dt.timedelta = TEST_EVENT_WINDOW,
) -> int | None:
    """Whole seconds (at least 1) until a webhook whose test events went out at ``taken``
    may send another; None when it may now."""
    recent = sorted(t for t in taken if t > now - window)
    if len(recent) < per_window:
        return None
    frees_at = recent[-per_window] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def excerpt(text: str, limit: int) -> str:
    """The start of a receiver's answer kept in the history: at most ``limit`` UTF-8 bytes."""
    if len(text) * 4 <= limit:  # no UTF-8 character takes more than 4 bytes
        return text
    return text.encode()[:limit].decode(errors="ignore")


def message_id(webhook_id: str, change_version: str) -> str:
    """Return the ``webhook-id`` of an event: ``msg_<webhook id>_<changeVersion>``.

    Webhook ids are GUIDs, unique across tenants, and a change version names one change of
    the tenant, so the id is unique across tenants and webhooks and the same on every retry
    of the same change to the same webhook.
    """
    return f"msg_{webhook_id}_{change_version}"


class DeliveryStatus(StrEnum):
    """The outcome of a delivery's latest attempt; values are the wire strings."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One POST of one event to one webhook, as recorded for the delivery history."""

    webhook_id: str
    message_id: str
    record_id: int
    change_version: int
    attempted_at: dt.datetime
    succeeded: bool
    status_code: int | None
    latency_ms: float
    error_class: str | None
    response_excerpt: str
    next_attempt_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """The summary of one event's delivery to one webhook, kept up to date by each attempt."""

    webhook_id: str
    id: str
    record_id: int
    change_version: int
    status: DeliveryStatus
    attempts: int
    first_attempt_at: dt.datetime
    last_attempt_at: dt.datetime
    last_status_code: int | None
    last_error_class: str | None
    next_attempt_at: dt.datetime | None

    @property
    def is_test(self) -> bool:
        """Whether this delivery was a test event (no record, never retried)."""
        return is_test_message(self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryQuery:
    """Which deliveries of a webhook to list: newest last attempt first, keyset-paged.

    ``after`` is the ``(last_attempt_at, id)`` of the last delivery of the previous page.
    """

    webhook_id: str
    statuses: frozenset[DeliveryStatus] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: tuple[dt.datetime, str] | None = None
    limit: int = 100


def summarize(previous: Delivery | None, attempt: DeliveryAttempt) -> Delivery:
    """The summary of a delivery once ``attempt`` was made (``previous``: before it, if any).

    The status, status code, error and next attempt are the latest attempt's; the count
    and the first attempt's time add up across attempts.
    """
    return Delivery(
        webhook_id=attempt.webhook_id,
        id=attempt.message_id,
        record_id=attempt.record_id,
        change_version=attempt.change_version,
        status=DeliveryStatus.SUCCEEDED if attempt.succeeded else DeliveryStatus.FAILED,
        attempts=1 if previous is None else previous.attempts + 1,
        first_attempt_at=attempt.attempted_at if previous is None else previous.first_attempt_at,
        last_attempt_at=attempt.attempted_at,
        last_status_code=attempt.status_code,
        last_error_class=attempt.error_class,
        next_attempt_at=attempt.next_attempt_at,
    )
