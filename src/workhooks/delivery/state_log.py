"""Log lines about webhooks' delivery: one per state change, failures in between limited.

A webhook's state changes (failing, recovered, disabled) are always logged; the failures in
between go through ``FailureLog``: at most ``burst`` lines per ``period``, and the first
line of a later period says how many were left out, so a dead destination cannot flood the
log. Only a destination's origin is named: its path or query may hold a secret.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from workhooks.delivery.sender import SendResult
from workhooks.domain.webhooks import Webhook, destination_origin

__all__ = ["FailureLog", "WebhookStateLog"]


class FailureLog:
    """At most ``burst`` warning lines per ``period``; the rest are counted, then reported."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 10,
        period: dt.timedelta = dt.timedelta(minutes=1),
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._period = period
        self._started_at: dt.datetime | None = None
        self._logged = 0
        self._left_out = 0

    def failed(self, now: dt.datetime, message: str, *args: object, extra: dict[str, Any]) -> None:
        """Log one delivery failure unless this period's lines are used up."""
        if self._started_at is None or now - self._started_at >= self._period:
            if self._left_out:
                self._logger.warning(
                    "%d delivery failure line(s) left out since %s (at most %d per %d s)",
                    self._left_out,
                    self._started_at.isoformat() if self._started_at else "start",
                    self._burst,
                    self._period.total_seconds(),
                    extra={"left_out": self._left_out},
                )
            self._started_at, self._logged, self._left_out = now, 0, 0
        if self._logged < self._burst:
            self._logged += 1
            self._logger.warning(message, *args, extra=extra)
        else:
            self._left_out += 1


class WebhookStateLog:
    """The worker's lines about each window's outcome."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._failures = FailureLog(logger)

    def record(
        self,
        webhook: Webhook,
        failure: SendResult | None,
        failures: int,
        next_attempt_at: dt.datetime | None,
        *,
        disabled: str | None,
        now: dt.datetime,
    ) -> None:
        """Log the outcome of one window of ``webhook`` (as it was before the window)."""
        fields: dict[str, Any] = {
            "tenant": webhook.tenant,
            "webhook_id": webhook.id,
            "origin": destination_origin(webhook.destination_url),
        }
        if failure is None:
            if webhook.failures:
                self._logger.info(
                    "webhook %s (tenant %s) recovered after %d failed tries",
                    *(webhook.id, webhook.tenant, webhook.failures),
                    extra={**fields, "event": "recovered", "failures": webhook.failures},
                )
            return
        what = failure.failure.value if failure.failure else "failure"
        if failure.status_code is not None:
            what = f"{what} (HTTP {failure.status_code})"
        fields.update(failure=what, failures=failures)
        if disabled is not None:
            self._logger.warning(
                "webhook %s (tenant %s) disabled: %s; last failure %s",
                *(webhook.id, webhook.tenant, disabled, what),
                extra={**fields, "event": "disabled", "reason": disabled},
            )
        elif not webhook.failures:
            self._logger.warning(
                "webhook %s (tenant %s) failing: %s from %s; next try at %s",
                *(webhook.id, webhook.tenant, what, fields["origin"], next_attempt_at),
                extra={**fields, "event": "failing"},
            )
        else:
            self._failures.failed(
                now,
                "delivery to webhook %s (tenant %s) failed again (%d in a row): %s; next try at %s",
                *(webhook.id, webhook.tenant, failures, what, next_attempt_at),
                extra={**fields, "event": "failed_again"},
            )
