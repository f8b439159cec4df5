"""Builders shared by the storage contract suite: drafts, webhooks, attempts, outcomes."""

from __future__ import annotations

import datetime as dt

from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.domain.webhooks import Collection, NewWebhook, Webhook
from workhooks.storage.protocol import Store, WindowOutcome

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
VALIDITY = dt.timedelta(days=30)
ALL = 10_000  # a ``limit`` larger than anything a test writes


def draft(record_id: int, person_id: int = 1, *, minutes: int = 60) -> WorkInterruptionDraft:
    """A valid work interruption draft; ``minutes`` tells versions of one record apart."""
    return WorkInterruptionDraft(
        id=record_id,
        person_id=person_id,
        date=dt.date(2024, 3, 1),
        duration_in_minutes=minutes,
        start_time_in_minutes=480,
        end_time_in_minutes=480 + minutes,
    )


def new_webhook(
    webhook_id: str,
    tenant: str = "acme",
    *,
    created_at: dt.datetime = T0,
    valid_until: dt.datetime | None = None,
) -> NewWebhook:
    """A webhook to create, valid for 30 days unless told otherwise."""
    return NewWebhook(
        id=webhook_id,
        tenant=tenant,
        destination_url=f"https://example.com/hooks/{webhook_id}",
        collection=Collection.WORK_INTERRUPTIONS,
        secret=b"s" * 32,
        created_at=created_at,
        valid_until=valid_until or created_at + VALIDITY,
    )


def attempt(webhook_id: str, n: int, *, succeeded: bool = True) -> DeliveryAttempt:
    """The ``n``-th delivery attempt of a webhook."""
    return DeliveryAttempt(
        webhook_id=webhook_id,
        message_id=f"msg_{n:020X}",
        record_id=n,
        change_version=n,
        attempted_at=T0 + dt.timedelta(seconds=n),
        succeeded=succeeded,
        status_code=200 if succeeded else 503,
        latency_ms=1.5 * n,
        error_class=None if succeeded else "HttpStatus",
        response_excerpt="ok" if succeeded else "unavailable",
    )


def outcome(
    webhook: Webhook,
    *,
    cursor: int | None = None,
    failures: int = 0,
    next_attempt_at: dt.datetime | None = None,
    disabled_reason: str | None = None,
    attempts: tuple[DeliveryAttempt, ...] = (),
    expected_cursor: int | None = None,
) -> WindowOutcome:
    """A window outcome for ``webhook`` that expects its current cursor by default."""
    return WindowOutcome(
        webhook_id=webhook.id,
        tenant=webhook.tenant,
        expected_cursor=webhook.cursor if expected_cursor is None else expected_cursor,
        cursor=webhook.cursor if cursor is None else cursor,
        failures=failures,
        next_attempt_at=next_attempt_at,
        disabled_reason=disabled_reason,
        attempts=attempts,
    )


async def seed_people(store: Store, tenant: str, *ids: int) -> None:
    """Create people so work interruptions may refer to them."""
    await store.put_people(tenant, [PersonDraft(id=i) for i in ids])


async def must_get_webhook(store: Store, tenant: str, webhook_id: str) -> Webhook:
    """Return a webhook that the test knows exists."""
    webhook = await store.get_webhook(tenant, webhook_id)
    assert webhook is not None
    return webhook
