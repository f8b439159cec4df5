"""Delivery metrics in Prometheus form.

Counters and the latency histogram are kept by the worker as it sends; figures per webhook
(changes behind, seconds behind, webhooks by status) are read from the store at scrape
time, so every worker process and API node reports the same shared truth.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from workhooks.delivery.sender import SendResult
from workhooks.domain.webhooks import WebhookStatus
from workhooks.storage.protocol import BacklogReport

__all__ = ["DeliveryMetrics", "render_backlogs"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15)


class DeliveryMetrics:
    """What this process's worker has sent."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._deliveries = Counter(
            "workhooks_deliveries",
            "Delivery attempts by outcome: 'succeeded' or the failure class.",
            ["outcome"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "workhooks_delivery_attempt_seconds",
            "Time from sending a delivery to its answer (or failure).",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe(self, results: Sequence[SendResult]) -> None:
        """Count a window's attempts and their latencies."""
        # One labelled increment per outcome and window, not per attempt: the label lookup
        # costs more than the increment (it is on the delivery hot path).
        outcomes = Tally("succeeded" if r.failure is None else r.failure.value for r in results)
        for outcome, count in outcomes.items():
            self._deliveries.labels(outcome=outcome).inc(count)
        observe = self._latency.observe
        for result in results:
            observe(result.latency_ms / 1000)

    def render(self) -> bytes:
        """The process's counters in the Prometheus text format."""
        return generate_latest(self.registry)


def render_backlogs(report: BacklogReport, *, now: dt.datetime) -> bytes:
    """Webhook gauges in the Prometheus text format: aggregates, then the worst webhooks.

    The per-webhook series exist only for enabled webhooks that are behind or failing, at
    most as many as the report holds (``WORKHOOKS_METRICS_WEBHOOK_SERIES``), so a scrape
    stays small whatever the number of webhooks.
    """
    registry = CollectorRegistry()
    by_status = Gauge(
        "workhooks_webhooks",
        "Webhooks that are not deleted, by status.",
        ["status"],
        registry=registry,
    )
    for status in WebhookStatus:
        by_status.labels(status=status.value).set(report.by_status.get(status, 0))
    Gauge(
        "workhooks_webhooks_behind",
        "Enabled webhooks with changes still to deliver.",
        registry=registry,
    ).set(report.behind)
    Gauge(
        "workhooks_webhooks_failing",
        "Enabled webhooks backing off after a failed delivery.",
        registry=registry,
    ).set(report.failing)
    behind = Gauge(
        "workhooks_webhook_changes_behind",
        "Change versions committed after the webhook's cursor (webhooks behind or failing).",
        ["tenant", "webhook_id"],
        registry=registry,
    )
    lag = Gauge(
        "workhooks_webhook_lag_seconds",
        "Seconds since the webhook last had delivered every change (webhooks behind or failing).",
        ["tenant", "webhook_id"],
        registry=registry,
    )
    failures = Gauge(
        "workhooks_webhook_failures",
        "Consecutive failed delivery steps of the webhook (webhooks behind or failing).",
        ["tenant", "webhook_id"],
        registry=registry,
    )
    for backlog in report.worst:
        labels = {"tenant": backlog.tenant, "webhook_id": backlog.webhook_id}
        behind.labels(**labels).set(backlog.changes_behind)
        since = backlog.caught_up_at or backlog.created_at
        seconds = 0.0 if backlog.changes_behind == 0 else (now - since).total_seconds()
        lag.labels(**labels).set(max(seconds, 0.0))
        failures.labels(**labels).set(backlog.failures)
    return generate_latest(registry)
