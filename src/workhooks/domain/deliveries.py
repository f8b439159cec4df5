"""Delivery attempts: what happened when one event was sent to one webhook."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["DeliveryAttempt", "message_id"]


def message_id(change_version: str) -> str:
    """Return the ``webhook-id`` of an event: stable across retries of the same change."""
    return f"msg_{change_version}"


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
