"""The storage contract: one suite run against every ``Store`` implementation.

Each test runs on ``InMemoryStore`` and on ``SqliteStore`` over a real file, so the fake
used by the unit tests is held to exactly the behaviour of the real store.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import DeliveryAttempt
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.scopes import Scope
from workhooks.domain.webhooks import Collection, NewWebhook, Webhook, WebhookStatus
from workhooks.errors import ConflictError, UnknownPersonError
from workhooks.storage.memory import InMemoryStore
from workhooks.storage.protocol import Store, WindowOutcome
from workhooks.storage.sql import load_migrations
from workhooks.storage.sqlite.store import SqliteStore

pytestmark = pytest.mark.timeout(60)

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
VALIDITY = dt.timedelta(days=30)
ALL = 10_000  # a ``limit`` larger than anything a test writes


# -- fixtures and builders ------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened store of each implementation, closed after the test."""
    opened: Store
    if request.param == "memory":
        opened = InMemoryStore()
    else:
        opened = SqliteStore(str(tmp_path / "contract.db"))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


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


# -- change versions -------------------------------------------------------------------------


async def test_versions_strictly_increase_per_tenant(store: Store) -> None:
    """Every write of a tenant, whatever its kind, takes the next higher change version."""
    people = await store.put_people("acme", [PersonDraft(id=1), PersonDraft(id=2)])
    records = await store.put_work_interruptions("acme", [draft(10), draft(11, 2)])
    replaced = await store.put_work_interruptions("acme", [draft(10, minutes=90)])
    tomb = await store.delete_work_interruption("acme", 11)
    person_tomb = await store.delete_person("acme", 2)
    assert tomb is not None
    assert person_tomb is not None
    versions = [p.record.change_version for p in people]
    versions += [r.record.change_version for r in (*records, *replaced)]
    versions += [tomb.change_version, person_tomb.change_version]
    assert versions == sorted(set(versions))
    assert versions[0] >= 1
    assert await store.head_version("acme") == versions[-1]


async def test_versions_are_independent_across_tenants(store: Store) -> None:
    """Writes of one tenant neither move another tenant's head nor its next version."""
    await seed_people(store, "acme", 1, 2, 3)
    acme_head = await store.head_version("acme")
    assert await store.head_version("globex") == 0
    written = await store.put_people("globex", [PersonDraft(id=1)])
    assert written[0].record.change_version == 1
    assert await store.head_version("globex") == 1
    assert await store.head_version("acme") == acme_head


async def test_head_version_is_zero_without_writes_and_tracks_the_last_write(store: Store) -> None:
    """``head_version`` is 0 for an unknown tenant and then the latest version written."""
    assert await store.head_version("acme") == 0
    await seed_people(store, "acme", 1)
    written = await store.put_work_interruptions("acme", [draft(1), draft(2)])
    assert await store.head_version("acme") == written[-1].record.change_version


async def test_empty_batches_write_nothing(store: Store) -> None:
    """An empty batch returns nothing and consumes no change version."""
    assert await store.put_people("acme", []) == []
    assert await store.put_work_interruptions("acme", []) == []
    assert await store.head_version("acme") == 0


# -- created vs replaced ---------------------------------------------------------------------


async def test_put_people_reports_created_then_replaced_then_created_after_delete(
    store: Store,
) -> None:
    """A person is created, then replaced, and created again once its tombstone exists."""
    first = await store.put_people("acme", [PersonDraft(id=7, badge_number="B1")])
    second = await store.put_people("acme", [PersonDraft(id=7, badge_number="B2")])
    assert await store.delete_person("acme", 7) is not None
    third = await store.put_people("acme", [PersonDraft(id=7, employee_number="E3")])
    assert [w.created for w in (*first, *second, *third)] == [True, False, True]
    person = await store.get_person("acme", 7)
    assert person == third[0].record
    assert person is not None
    assert (person.badge_number, person.employee_number, person.deleted) == (None, "E3", False)


async def test_put_work_interruptions_reports_created_replaced_and_recreated(
    store: Store,
) -> None:
    """A work interruption is created, replaced, and created again after its delete."""
    await seed_people(store, "acme", 1)
    first = await store.put_work_interruptions("acme", [draft(5)])
    second = await store.put_work_interruptions("acme", [draft(5, minutes=30)])
    assert await store.delete_work_interruption("acme", 5) is not None
    third = await store.put_work_interruptions("acme", [draft(5, minutes=45)])
    assert [w.created for w in (*first, *second, *third)] == [True, False, True]
    assert await store.get_work_interruption("acme", 5) == third[0].record


async def test_same_id_twice_in_one_batch_is_created_once_and_keeps_the_last(
    store: Store,
) -> None:
    """Within one batch a repeated id is created by its first write and replaced by the next."""
    await seed_people(store, "acme", 1)
    written = await store.put_work_interruptions("acme", [draft(3), draft(3, minutes=20)])
    assert [w.created for w in written] == [True, False]
    assert await store.get_work_interruption("acme", 3) == written[1].record
    changes = await store.read_changes("acme", after=0, limit=ALL)
    assert changes == [written[1].record]


async def test_written_record_carries_the_draft_and_its_version(store: Store) -> None:
    """The returned record holds the draft's fields, its new version and is live."""
    await seed_people(store, "acme", 4)
    d = draft(9, 4, minutes=15)
    (written,) = await store.put_work_interruptions("acme", [d])
    assert written.record == WorkInterruption(
        id=9,
        person_id=4,
        date=d.date,
        duration_in_minutes=15,
        start_time_in_minutes=480,
        end_time_in_minutes=495,
        change_version=await store.head_version("acme"),
        deleted=False,
    )


# -- atomic batches --------------------------------------------------------------------------


async def test_batch_with_unknown_person_writes_nothing(store: Store) -> None:
    """One unknown person fails the whole batch: no record written or replaced, head unchanged."""
    await seed_people(store, "acme", 1)
    (kept,) = await store.put_work_interruptions("acme", [draft(1)])
    head = await store.head_version("acme")
    with pytest.raises(UnknownPersonError) as caught:
        await store.put_work_interruptions(
            "acme", [draft(1, minutes=5), draft(2), draft(3, person_id=99)]
        )
    assert any("99" in reason for reason in caught.value.reasons)
    assert await store.head_version("acme") == head
    assert await store.get_work_interruption("acme", 1) == kept.record
    assert await store.get_work_interruption("acme", 2) is None
    assert await store.read_changes("acme", after=0, limit=ALL) == [kept.record]


async def test_deleted_person_counts_as_unknown(store: Store) -> None:
    """A work interruption may not refer to a person whose tombstone is all that is left."""
    await seed_people(store, "acme", 1)
    assert await store.delete_person("acme", 1) is not None
    with pytest.raises(UnknownPersonError):
        await store.put_work_interruptions("acme", [draft(1)])
    assert await store.get_work_interruption("acme", 1) is None


async def test_person_of_another_tenant_counts_as_unknown(store: Store) -> None:
    """People are per tenant: another tenant's person does not satisfy the reference."""
    await seed_people(store, "globex", 1)
    with pytest.raises(UnknownPersonError):
        await store.put_work_interruptions("acme", [draft(1)])
    assert await store.head_version("acme") == 0


# -- get and delete --------------------------------------------------------------------------


async def test_get_returns_live_records_of_the_tenant_only(store: Store) -> None:
    """``get_*`` return the stored record, and None for unknown ids or other tenants."""
    people = await store.put_people("acme", [PersonDraft(id=1, badge_number="X")])
    (record,) = await store.put_work_interruptions("acme", [draft(1)])
    assert await store.get_person("acme", 1) == people[0].record
    assert await store.get_work_interruption("acme", 1) == record.record
    assert await store.get_person("acme", 2) is None
    assert await store.get_work_interruption("acme", 2) is None
    assert await store.get_person("globex", 1) is None
    assert await store.get_work_interruption("globex", 1) is None


async def test_delete_leaves_a_tombstone_in_the_change_log(store: Store) -> None:
    """A delete takes a new version, hides the record from get and shows a tombstone once."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2)])
    head = await store.head_version("acme")
    tomb = await store.delete_work_interruption("acme", 1)
    assert tomb is not None
    assert tomb.deleted
    assert tomb.id == 1
    assert tomb.change_version == head + 1 == await store.head_version("acme")
    assert await store.get_work_interruption("acme", 1) is None
    changes = await store.read_changes("acme", after=0, limit=ALL)
    assert [(c.id, c.deleted) for c in changes] == [(2, False), (1, True)]
    assert changes[-1] == tomb


async def test_delete_of_unknown_or_deleted_record_returns_none(store: Store) -> None:
    """Deleting what is not live returns None and consumes no version."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1)])
    assert await store.delete_work_interruption("acme", 1) is not None
    head = await store.head_version("acme")
    assert await store.delete_work_interruption("acme", 1) is None
    assert await store.delete_work_interruption("acme", 42) is None
    assert await store.delete_work_interruption("globex", 1) is None
    assert await store.delete_person("acme", 42) is None
    assert await store.head_version("acme") == head


async def test_delete_person_conflicts_while_a_live_work_interruption_refers_to_it(
    store: Store,
) -> None:
    """A person in use cannot be deleted; once its records are gone it can."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1)])
    head = await store.head_version("acme")
    with pytest.raises(ConflictError):
        await store.delete_person("acme", 1)
    assert await store.head_version("acme") == head
    assert await store.get_person("acme", 1) is not None
    assert await store.delete_work_interruption("acme", 1) is not None
    tomb = await store.delete_person("acme", 1)
    assert tomb is not None
    assert tomb.deleted
    assert tomb.change_version == await store.head_version("acme")
    assert await store.get_person("acme", 1) is None


async def test_delete_person_ignores_work_interruptions_of_other_tenants(store: Store) -> None:
    """Only the tenant's own live work interruptions block deleting its person."""
    await seed_people(store, "acme", 1)
    await seed_people(store, "globex", 1)
    await store.put_work_interruptions("globex", [draft(1)])
    assert await store.delete_person("acme", 1) is not None


# -- read_changes ----------------------------------------------------------------------------


async def test_read_changes_returns_each_record_once_at_its_latest_version(store: Store) -> None:
    """Updated and deleted records appear once, at their latest version, in version order."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2), draft(3)])
    (updated,) = await store.put_work_interruptions("acme", [draft(1, minutes=99)])
    tomb = await store.delete_work_interruption("acme", 2)
    changes = await store.read_changes("acme", after=0, limit=ALL)
    assert [c.id for c in changes] == [3, 1, 2]
    assert changes[1] == updated.record
    assert changes[2] == tomb
    versions = [c.change_version for c in changes]
    assert versions == sorted(set(versions))


async def test_read_changes_respects_after_limit_and_tenant(store: Store) -> None:
    """Only versions above ``after`` of the tenant, at most ``limit``, and pages join up."""
    await seed_people(store, "acme", 1)
    await seed_people(store, "globex", 1)
    written = await store.put_work_interruptions("acme", [draft(i) for i in range(1, 6)])
    await store.put_work_interruptions("globex", [draft(100)])
    everything = [w.record for w in written]
    assert await store.read_changes("acme", after=0, limit=ALL) == everything
    first_page = await store.read_changes("acme", after=0, limit=2)
    assert first_page == everything[:2]
    rest = await store.read_changes("acme", after=first_page[-1].change_version, limit=ALL)
    assert rest == everything[2:]
    head = await store.head_version("acme")
    assert await store.read_changes("acme", after=head, limit=ALL) == []
    assert [c.id for c in await store.read_changes("globex", after=0, limit=ALL)] == [100]
    assert await store.read_changes("initech", after=0, limit=ALL) == []


# -- webhooks --------------------------------------------------------------------------------


async def test_create_webhook_starts_the_cursor_at_the_tenant_head(store: Store) -> None:
    """A new webhook is enabled, not backing off, and its cursor is the tenant's head."""
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1), draft(2)])
    new = new_webhook("wh1")
    webhook = await store.create_webhook(new)
    assert webhook.cursor == await store.head_version("acme") == 3
    assert webhook.status is WebhookStatus.ENABLED
    assert (webhook.failures, webhook.next_attempt_at, webhook.deleted_at) == (0, None, None)
    assert webhook.disabled_reason is None
    assert (webhook.id, webhook.tenant, webhook.collection) == ("wh1", "acme", new.collection)
    assert (webhook.destination_url, webhook.secret) == (new.destination_url, new.secret)
    assert (webhook.created_at, webhook.valid_until) == (new.created_at, new.valid_until)
    assert await store.get_webhook("acme", "wh1") == webhook
    other = await store.create_webhook(new_webhook("wh2", "globex"))
    assert other.cursor == 0


async def test_get_webhook_is_tenant_scoped(store: Store) -> None:
    """Another tenant cannot see a webhook, and unknown ids give None."""
    await store.create_webhook(new_webhook("wh1", "acme"))
    assert await store.get_webhook("globex", "wh1") is None
    assert await store.get_webhook("acme", "nope") is None


async def test_list_webhooks_is_oldest_first_and_excludes_deleted(store: Store) -> None:
    """``list_webhooks`` shows the tenant's live webhooks by creation time."""
    await store.create_webhook(new_webhook("late", created_at=T0 + dt.timedelta(minutes=2)))
    await store.create_webhook(new_webhook("early", created_at=T0))
    await store.create_webhook(new_webhook("gone", created_at=T0 + dt.timedelta(minutes=1)))
    await store.create_webhook(new_webhook("theirs", "globex"))
    assert await store.delete_webhook("acme", "gone", at=T0)
    assert [w.id for w in await store.list_webhooks("acme")] == ["early", "late"]
    assert [w.id for w in await store.list_webhooks("globex")] == ["theirs"]


async def test_delete_webhook_is_a_soft_delete_that_succeeds_once(store: Store) -> None:
    """The first delete returns True and stamps ``deleted_at``; later deletes return False."""
    await store.create_webhook(new_webhook("wh1"))
    at = T0 + dt.timedelta(hours=1)
    assert not await store.delete_webhook("globex", "wh1", at=at)
    assert await store.delete_webhook("acme", "wh1", at=at)
    assert not await store.delete_webhook("acme", "wh1", at=at + dt.timedelta(hours=1))
    assert not await store.delete_webhook("acme", "unknown", at=at)
    deleted = await must_get_webhook(store, "acme", "wh1")
    assert deleted.deleted_at == at


# -- delivery --------------------------------------------------------------------------------


async def test_due_webhooks_selects_only_webhooks_that_may_be_tried_now(store: Store) -> None:
    """Due means enabled, not deleted, unexpired, behind, and not backing off past now."""
    now = T0 + dt.timedelta(days=1)
    for webhook_id in ("behind", "disabled", "deleted", "backing-off", "retry-now"):
        await store.create_webhook(new_webhook(webhook_id))
    await store.create_webhook(new_webhook("expired", valid_until=now))
    await store.create_webhook(new_webhook("idle", "globex"))
    await seed_people(store, "acme", 1)
    await store.put_work_interruptions("acme", [draft(1)])
    await store.create_webhook(new_webhook("caught-up"))

    disabled = await must_get_webhook(store, "acme", "disabled")
    assert await store.apply_window(outcome(disabled, disabled_reason="gone (410)"))
    assert await store.delete_webhook("acme", "deleted", at=T0)
    backing_off = await must_get_webhook(store, "acme", "backing-off")
    later = now + dt.timedelta(seconds=1)
    assert await store.apply_window(outcome(backing_off, failures=1, next_attempt_at=later))
    retry_now = await must_get_webhook(store, "acme", "retry-now")
    assert await store.apply_window(outcome(retry_now, failures=2, next_attempt_at=now))

    due = await store.due_webhooks(now=now, limit=ALL)
    assert {w.id for w in due} == {"behind", "retry-now"}
    assert len(await store.due_webhooks(now=now, limit=1)) == 1
    due_later = await store.due_webhooks(now=later, limit=ALL)
    assert {w.id for w in due_later} == {"behind", "retry-now", "backing-off"}


async def test_people_changes_alone_do_not_make_a_webhook_due(store: Store) -> None:
    """A webhook of work interruptions is behind only when a work interruption changed."""
    await store.create_webhook(new_webhook("wh"))
    await seed_people(store, "acme", 1, 2)
    assert await store.due_webhooks(now=T0, limit=ALL) == []
    await store.put_work_interruptions("acme", [draft(1)])
    assert [w.id for w in await store.due_webhooks(now=T0, limit=ALL)] == ["wh"]
    await seed_people(store, "acme", 3)
    assert [w.id for w in await store.due_webhooks(now=T0, limit=ALL)] == ["wh"]


async def test_disable_expired_disables_enabled_webhooks_past_valid_until(store: Store) -> None:
    """Expired enabled webhooks become Disabled with a reason; others are untouched."""
    now = T0 + dt.timedelta(days=1)
    await store.create_webhook(new_webhook("expired", valid_until=now))
    await store.create_webhook(new_webhook("valid", valid_until=now + dt.timedelta(seconds=1)))
    await store.create_webhook(new_webhook("already-off", valid_until=T0))
    already_off = await must_get_webhook(store, "acme", "already-off")
    assert await store.apply_window(outcome(already_off, disabled_reason="410 Gone"))
    assert await store.disable_expired(now=now) == 1
    expired = await must_get_webhook(store, "acme", "expired")
    assert expired.status is WebhookStatus.DISABLED
    assert expired.disabled_reason
    valid = await must_get_webhook(store, "acme", "valid")
    assert valid.status is WebhookStatus.ENABLED
    still_off = await must_get_webhook(store, "acme", "already-off")
    assert still_off.disabled_reason == "410 Gone"
    assert await store.disable_expired(now=now) == 0


async def test_apply_window_moves_the_cursor_and_stores_backoff_state(store: Store) -> None:
    """A window outcome with the current cursor moves it and stores failures and retry time."""
    webhook = await store.create_webhook(new_webhook("wh1"))
    await seed_people(store, "acme", 1, 2, 3)
    retry_at = T0 + dt.timedelta(minutes=5)
    assert await store.apply_window(
        outcome(webhook, cursor=2, failures=1, next_attempt_at=retry_at)
    )
    moved = await must_get_webhook(store, "acme", "wh1")
    assert (moved.cursor, moved.failures, moved.next_attempt_at) == (2, 1, retry_at)
    assert moved.status is WebhookStatus.ENABLED
    assert await store.apply_window(outcome(moved, cursor=3))
    cleared = await must_get_webhook(store, "acme", "wh1")
    assert (cleared.cursor, cleared.failures, cleared.next_attempt_at) == (3, 0, None)


async def test_apply_window_with_a_stale_cursor_changes_nothing(store: Store) -> None:
    """``apply_window`` is a compare-and-set: a stale ``expected_cursor`` is refused entirely."""
    webhook = await store.create_webhook(new_webhook("wh1"))
    await seed_people(store, "acme", 1, 2)
    assert await store.apply_window(outcome(webhook, cursor=1, attempts=(attempt("wh1", 1),)))
    before = await must_get_webhook(store, "acme", "wh1")
    stale = outcome(
        webhook,
        expected_cursor=0,
        cursor=2,
        failures=3,
        next_attempt_at=T0,
        disabled_reason="too many failures",
        attempts=(attempt("wh1", 2),),
    )
    assert not await store.apply_window(stale)
    assert await must_get_webhook(store, "acme", "wh1") == before
    assert await store.list_attempts("wh1", limit=ALL) == [attempt("wh1", 1)]
    unknown = WindowOutcome(
        webhook_id="unknown",
        expected_cursor=0,
        cursor=1,
        failures=0,
        next_attempt_at=None,
        disabled_reason=None,
        attempts=(),
    )
    assert not await store.apply_window(unknown)


async def test_apply_window_disables_with_a_reason(store: Store) -> None:
    """A ``disabled_reason`` disables the webhook and is kept with it."""
    webhook = await store.create_webhook(new_webhook("wh1"))
    assert await store.apply_window(outcome(webhook, failures=9, disabled_reason="410 Gone"))
    disabled = await must_get_webhook(store, "acme", "wh1")
    assert disabled.status is WebhookStatus.DISABLED
    assert disabled.disabled_reason == "410 Gone"
    assert disabled.failures == 9


async def test_attempts_are_listed_newest_first_per_webhook(store: Store) -> None:
    """``list_attempts`` returns the webhook's attempts newest first, at most ``limit``."""
    one = await store.create_webhook(new_webhook("wh1"))
    two = await store.create_webhook(new_webhook("wh2"))
    assert await store.apply_window(outcome(one, attempts=(attempt("wh1", 1), attempt("wh1", 2))))
    assert await store.apply_window(outcome(two, attempts=(attempt("wh2", 3),)))
    assert await store.apply_window(outcome(one, attempts=(attempt("wh1", 4, succeeded=False),)))
    newest_first = [attempt("wh1", 4, succeeded=False), attempt("wh1", 2), attempt("wh1", 1)]
    assert await store.list_attempts("wh1", limit=ALL) == newest_first
    assert await store.list_attempts("wh1", limit=2) == newest_first[:2]
    assert await store.list_attempts("wh2", limit=ALL) == [attempt("wh2", 3)]
    assert await store.list_attempts("unknown", limit=ALL) == []


# -- auth ------------------------------------------------------------------------------------


async def test_ensure_signing_key_keeps_the_first_key(store: Store) -> None:
    """The first candidate becomes the signing key; later candidates are ignored."""
    first = SigningKey(kid="k1", private_key=b"-----PEM one-----", created_at=T0)
    second = SigningKey(
        kid="k2", private_key=b"-----PEM two-----", created_at=T0 + dt.timedelta(days=1)
    )
    assert await store.ensure_signing_key(first) == first
    assert await store.ensure_signing_key(second) == first


@pytest.mark.parametrize(
    "scopes",
    [
        frozenset(),
        frozenset({Scope.WEBHOOKS_READ}),
        frozenset(Scope),
    ],
    ids=["none", "one", "all"],
)
async def test_clients_round_trip_with_their_scopes(store: Store, scopes: frozenset[Scope]) -> None:
    """A client reads back exactly as added, scopes included; unknown ids give None."""
    client = Client(id="c1", tenant="acme", secret_hash="ab" * 32, scopes=scopes, created_at=T0)
    await store.add_client(client)
    assert await store.get_client("c1") == client
    assert await store.get_client("c2") is None


# -- SQLite only -----------------------------------------------------------------------------


async def test_sqlite_data_survives_close_and_reopen(tmp_path: Path) -> None:
    """Everything written to the file is there again after closing and reopening it."""
    path = str(tmp_path / "reopen.db")
    first = SqliteStore(path)
    await first.open()
    try:
        await seed_people(first, "acme", 1)
        (record,) = await first.put_work_interruptions("acme", [draft(1)])
        webhook = await first.create_webhook(new_webhook("wh0"))
        await seed_people(first, "acme", 2)
        assert await first.apply_window(outcome(webhook, cursor=2, attempts=(attempt("wh0", 1),)))
        client = Client(id="c", tenant="acme", secret_hash="h", scopes=frozenset(), created_at=T0)
        await first.add_client(client)
        key = await first.ensure_signing_key(SigningKey(kid="k", private_key=b"p", created_at=T0))
        head = await first.head_version("acme")
        stored = await must_get_webhook(first, "acme", "wh0")
    finally:
        await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        assert await second.head_version("acme") == head
        assert await second.get_work_interruption("acme", 1) == record.record
        assert await second.get_webhook("acme", "wh0") == stored
        assert await second.list_attempts("wh0", limit=ALL) == [attempt("wh0", 1)]
        assert await second.get_client("c") == client
        other = SigningKey(kid="k2", private_key=b"q", created_at=T0)
        assert await second.ensure_signing_key(other) == key
        (next_write,) = await second.put_people("acme", [PersonDraft(id=3)])
        assert next_write.record.change_version == head + 1
    finally:
        await second.close()


def _migration_rows(path: Path) -> list[tuple[int, str]]:
    """Read ``schema_migrations`` straight from the file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT number, name FROM schema_migrations ORDER BY number")
        return [(int(n), str(name)) for n, name in rows]


def _journal_mode(path: Path) -> str:
    """Read the journal mode recorded in the file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        return str(mode)


async def test_sqlite_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    """Each migration is recorded in ``schema_migrations`` and reopening applies none again."""
    path = tmp_path / "migrations.db"
    expected = [(n, name) for n, name, _ in load_migrations("workhooks.storage.sqlite.migrations")]
    assert expected
    for _ in range(2):
        store = SqliteStore(str(path))
        await store.open()
        await store.close()
        assert _migration_rows(path) == expected


async def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    """Opening the store switches the file to write-ahead logging."""
    path = tmp_path / "wal.db"
    store = SqliteStore(str(path))
    await store.open()
    await store.close()
    assert _journal_mode(path) == "wal"


# -- property: the change log replays to the live state -------------------------------------

TENANTS = ("acme", "globex")
RECORD_IDS = st.integers(min_value=1, max_value=6)
PERSON_IDS = st.integers(min_value=1, max_value=2)
DRAFTS = st.builds(
    draft,
    RECORD_IDS,
    PERSON_IDS,
    minutes=st.integers(min_value=0, max_value=600),
)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from(TENANTS), st.lists(DRAFTS, max_size=3)),
        st.tuples(st.just("delete"), st.sampled_from(TENANTS), RECORD_IDS),
    ),
    max_size=25,
)
Operation = tuple[str, str, list[WorkInterruptionDraft] | int]


async def _check_change_log(store: Store, operations: list[Operation]) -> None:
    """Apply ``operations`` and check the change log against a model and the live state."""
    model: dict[str, dict[int, WorkInterruption]] = {t: {} for t in TENANTS}
    for tenant in TENANTS:
        await seed_people(store, tenant, 1, 2)
    for kind, tenant, arg in operations:
        if kind == "put":
            assert isinstance(arg, list)
            for written in await store.put_work_interruptions(tenant, arg):
                model[tenant][written.record.id] = written.record
        else:
            assert isinstance(arg, int)
            tomb = await store.delete_work_interruption(tenant, arg)
            live_before = arg in model[tenant] and not model[tenant][arg].deleted
            assert (tomb is not None) == live_before
            if tomb is not None:
                model[tenant][arg] = tomb
    for tenant in TENANTS:
        changes = await store.read_changes(tenant, after=0, limit=ALL)
        assert changes == sorted(model[tenant].values(), key=lambda r: r.change_version)
        replayed = {c.id: c for c in changes if not c.deleted}
        live = {}
        for record_id in range(1, 7):
            found = await store.get_work_interruption(tenant, record_id)
            if found is not None:
                live[record_id] = found
        assert replayed == live


def _run_on(make_store: Callable[[], Store], operations: list[Operation]) -> None:
    """Open a fresh store, run the change-log check on it, and close it."""

    async def scenario() -> None:
        store = make_store()
        await store.open()
        try:
            await _check_change_log(store, operations)
        finally:
            await store.close()

    asyncio.run(scenario())


@settings(max_examples=100, deadline=None)
@given(operations=OPERATIONS)
def test_change_log_replays_to_live_state_in_memory(operations: list[Operation]) -> None:
    """In memory, the change log holds each record once at its latest version and replays to get."""
    _run_on(InMemoryStore, operations)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_change_log_replays_to_live_state_in_sqlite(
    tmp_path_factory: pytest.TempPathFactory, operations: list[Operation]
) -> None:
    """On SQLite, the change log holds each record once at its latest version and replays to get."""
    path = tmp_path_factory.mktemp("changelog") / "store.db"
    _run_on(lambda: SqliteStore(str(path)), operations)
