"""Storage contract: operators, the audit log, console searches and actions, on every store."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from tests.integration.store_helpers import (
    T0,
    attempt,
    draft,
    must_get_webhook,
    new_webhook,
    outcome,
)
from workhooks.domain.clients import Client
from workhooks.domain.deliveries import DeliveryStatus, message_id_of_test
from workhooks.domain.operators import AuditAction, AuditEntry, ConsoleSession, Operator
from workhooks.domain.records import PersonDraft
from workhooks.domain.search import DeliverySearch, LagSample, WebhookSearch
from workhooks.domain.webhooks import WebhookStatus
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore
from workhooks.testing import sealer_for_tests


def _entry(action: AuditAction, webhook_id: str | None = None, tenant: str = "acme") -> AuditEntry:
    return AuditEntry(
        at=T0, actor="operator:ada", action=action, tenant=tenant, webhook_id=webhook_id
    )


async def _changes(store: Store, tenant: str, count: int) -> None:
    await store.put_people(tenant, [PersonDraft(id=1)])
    await store.put_work_interruptions(tenant, [draft(n) for n in range(1, count + 1)])


async def _deliver(store: Store, webhook_id: str, *attempts: object, tenant: str = "acme") -> None:
    webhook = await must_get_webhook(store, tenant, webhook_id)
    done = [a for a in attempts if a is not None]
    cursor = max([a.change_version for a in done if a.succeeded], default=webhook.cursor)  # type: ignore[attr-defined]
    assert await store.apply_window(outcome(webhook, cursor=cursor, attempts=tuple(done)))  # type: ignore[arg-type]


async def test_operators_are_stored_once_by_name(store: Store) -> None:
    """An operator name is taken once; its password hash can be replaced."""
    ada = Operator(name="ada", password_hash="scrypt$x", created_at=T0)
    assert await store.add_operator(ada)
    assert not await store.add_operator(Operator(name="ada", password_hash="y", created_at=T0))
    assert await store.get_operator("ada") == ada
    assert await store.get_operator("bob") is None
    assert await store.set_operator_password("ada", "scrypt$z", sessions_of="operator:ada", at=T0)
    assert not await store.set_operator_password(
        "bob", "scrypt$z", sessions_of="operator:bob", at=T0
    )
    found = await store.get_operator("ada")
    assert found is not None
    assert found.password_hash == "scrypt$z"


async def test_audit_log_lists_newest_first_and_by_tenant(store: Store) -> None:
    """The audit log keeps every entry, newest first, and can be narrowed to one tenant."""
    await store.record_audit(_entry(AuditAction.SIGN_IN, tenant="acme"))
    await store.record_audit(_entry(AuditAction.PORTAL_LINK, tenant="globex"))
    everything = await store.list_audit(limit=10)
    assert [e.action for e in everything] == [AuditAction.PORTAL_LINK, AuditAction.SIGN_IN]
    assert everything[1] == _entry(AuditAction.SIGN_IN, tenant="acme")
    assert [e.tenant for e in await store.list_audit(tenant="acme", limit=10)] == ["acme"]


async def test_webhook_search_filters_pages_and_reports_progress(store: Store) -> None:
    """Webhooks are searched across tenants by status, text and failing, keyset-paged."""
    await _changes(store, "acme", 3)
    for webhook_id, tenant in (("a1", "acme"), ("a2", "acme"), ("g1", "globex")):
        await store.create_webhook(new_webhook(webhook_id, tenant))
    await _changes(store, "acme", 5)
    a2 = await must_get_webhook(store, "acme", "a2")
    await store.apply_window(
        outcome(a2, failures=2, next_attempt_at=T0, attempts=(attempt("a2", 4, succeeded=False),))
    )
    everything = await store.search_webhooks(WebhookSearch())
    assert [(s.webhook.tenant, s.webhook.id) for s in everything] == [
        ("acme", "a1"),
        ("acme", "a2"),
        ("globex", "g1"),
    ]
    assert [s.changes_behind for s in everything] == [6, 6, 0]
    page = await store.search_webhooks(WebhookSearch(after=("acme", "a1"), limit=1))
    assert [s.webhook.id for s in page] == ["a2"]
    assert [s.webhook.id for s in await store.search_webhooks(WebhookSearch(failing=True))] == [
        "a2"
    ]
    assert [s.webhook.id for s in await store.search_webhooks(WebhookSearch(text="globex"))] == [
        "g1"
    ]
    assert [s.webhook.id for s in await store.search_webhooks(WebhookSearch(text="hooks/a1"))] == [
        "a1"
    ]
    disabled = await store.search_webhooks(WebhookSearch(status=WebhookStatus.DISABLED))
    assert disabled == []


async def test_delivery_search_across_webhooks_filters_and_pages(store: Store) -> None:
    """Deliveries are found by tenant, webhook, record, status, HTTP status and time."""
    await store.create_webhook(new_webhook("a1", "acme"))
    await store.create_webhook(new_webhook("g1", "globex"))
    await _changes(store, "acme", 3)
    await _changes(store, "globex", 3)
    await _deliver(store, "a1", attempt("a1", 1), attempt("a1", 2, succeeded=False))
    await _deliver(store, "g1", attempt("g1", 3), tenant="globex")
    everything = await store.search_deliveries(DeliverySearch())
    assert [(f.tenant, f.delivery.record_id) for f in everything] == [
        ("globex", 3),
        ("acme", 2),
        ("acme", 1),
    ]
    acme = await store.search_deliveries(DeliverySearch(tenant="acme"))
    assert {f.tenant for f in acme} == {"acme"}
    failed = await store.search_deliveries(
        DeliverySearch(status=DeliveryStatus.FAILED, status_code=503, error_class="HttpStatus")
    )
    assert [f.delivery.record_id for f in failed] == [2]
    assert [
        f.delivery.record_id for f in await store.search_deliveries(DeliverySearch(record_id=1))
    ] == [1]
    window = await store.search_deliveries(
        DeliverySearch(since=T0 + dt.timedelta(seconds=2), until=T0 + dt.timedelta(seconds=2))
    )
    assert [f.delivery.record_id for f in window] == [2]
    mine = await store.search_deliveries(DeliverySearch(webhook_id="a1", tenant="acme"))
    assert [f.delivery.record_id for f in mine] == [2, 1]
    # A tenant's search never reaches another tenant's webhook or record, whatever else it names.
    assert await store.search_deliveries(DeliverySearch(webhook_id="a1", tenant="globex")) == []
    assert await store.search_deliveries(DeliverySearch(record_id=1, tenant="globex")) == []
    last = everything[0].delivery
    rest = await store.search_deliveries(
        DeliverySearch(after=(last.last_attempt_at, last.webhook_id, last.id), limit=1)
    )
    assert [f.delivery.record_id for f in rest] == [2]


async def test_disable_is_audited_and_only_for_enabled_webhooks(store: Store) -> None:
    """Disabling sets the reason and writes the audit entry; a disabled webhook is refused."""
    await store.create_webhook(new_webhook("a1"))
    entry = _entry(AuditAction.DISABLE, "a1")
    assert await store.disable_webhook("acme", "a1", reason="by ada", audit=entry)
    webhook = await must_get_webhook(store, "acme", "a1")
    assert webhook.status is WebhookStatus.DISABLED
    assert webhook.disabled_reason == "by ada"
    assert not await store.disable_webhook("acme", "a1", reason="again", audit=entry)
    assert not await store.disable_webhook("globex", "a1", reason="foreign", audit=entry)
    assert await store.list_audit(limit=10) == [entry]


async def test_retry_now_brings_the_retry_time_forward(store: Store) -> None:
    """Retry now makes a backing-off webhook due at once; refused for a disabled one."""
    await store.create_webhook(new_webhook("a1"))
    await _changes(store, "acme", 1)
    webhook = await must_get_webhook(store, "acme", "a1")
    later = T0 + dt.timedelta(hours=1)
    await store.apply_window(outcome(webhook, failures=3, next_attempt_at=later))
    assert await store.due_webhooks(now=T0, limit=10) == []
    assert await store.retry_webhook_now("acme", "a1", now=T0, audit=_entry(AuditAction.RETRY_NOW))
    assert [w.id for w in await store.due_webhooks(now=T0, limit=10)] == ["a1"]
    assert (await must_get_webhook(store, "acme", "a1")).failures == 3
    webhook = await must_get_webhook(store, "acme", "a1")
    await store.apply_window(outcome(webhook, failures=0, next_attempt_at=None))
    assert await store.retry_webhook_now("acme", "a1", now=T0, audit=_entry(AuditAction.RETRY_NOW))
    assert (await must_get_webhook(store, "acme", "a1")).next_attempt_at is None
    await store.disable_webhook("acme", "a1", reason="x", audit=_entry(AuditAction.DISABLE))
    assert not await store.retry_webhook_now(
        "acme", "a1", now=T0, audit=_entry(AuditAction.RETRY_NOW)
    )


async def test_rewind_sends_again_what_was_tried_since_a_time(store: Store) -> None:
    """Recover moves the cursor before the first delivery tried since then and unsettles."""
    await store.create_webhook(new_webhook("a1"))
    await _changes(store, "acme", 4)  # versions 1 (person) .. 5
    await _deliver(store, "a1", *(attempt("a1", v) for v in range(2, 6)))
    assert (await must_get_webhook(store, "acme", "a1")).cursor == 5
    await store.settle_tenants(now=T0)
    assert await store.due_webhooks(now=T0, limit=10) == []
    moved = await store.rewind_webhook(
        "acme", "a1", since=T0 + dt.timedelta(seconds=4), now=T0, audit=_entry(AuditAction.RECOVER)
    )
    assert moved == 2
    assert (await must_get_webhook(store, "acme", "a1")).cursor == 3
    assert [w.id for w in await store.due_webhooks(now=T0, limit=10)] == ["a1"]
    nothing = await store.rewind_webhook(
        "acme", "a1", since=T0 + dt.timedelta(days=1), now=T0, audit=_entry(AuditAction.RECOVER)
    )
    assert nothing == 0
    assert len(await store.list_audit(limit=10)) == 2


async def test_rewind_cuts_a_back_off_short(store: Store) -> None:
    """Recovering a backing-off webhook makes it due at once; its failure count stays."""
    await store.create_webhook(new_webhook("a1"))
    await _changes(store, "acme", 1)
    webhook = await must_get_webhook(store, "acme", "a1")
    later = T0 + dt.timedelta(hours=1)
    await store.apply_window(outcome(webhook, failures=2, next_attempt_at=later))
    assert await store.due_webhooks(now=T0, limit=10) == []
    moved = await store.rewind_webhook(
        "acme", "a1", since=T0, now=T0, audit=_entry(AuditAction.RECOVER)
    )
    assert moved == 0
    assert [w.id for w in await store.due_webhooks(now=T0, limit=10)] == ["a1"]
    assert (await must_get_webhook(store, "acme", "a1")).failures == 2


async def test_rewind_leaves_a_disabled_webhook_disabled(store: Store) -> None:
    """Recover refuses a Disabled webhook: it stays disabled and its cursor does not move."""
    await store.create_webhook(new_webhook("a1"))
    await store.disable_webhook("acme", "a1", reason="x", audit=_entry(AuditAction.DISABLE))
    moved = await store.rewind_webhook(
        "acme", "a1", since=T0, now=T0, audit=_entry(AuditAction.RECOVER)
    )
    assert moved is None
    webhook = await must_get_webhook(store, "acme", "a1")
    assert webhook.status is WebhookStatus.DISABLED


async def test_attempt_rates_count_attempts_and_failures_per_minute(store: Store) -> None:
    """Attempts since a time are counted per minute with their failures, oldest minute first."""
    await store.create_webhook(new_webhook("a1"))
    await _changes(store, "acme", 3)
    first = attempt("a1", 2)
    late = dataclasses.replace(
        attempt("a1", 3, succeeded=False), attempted_at=T0 + dt.timedelta(minutes=2, seconds=5)
    )
    await _deliver(store, "a1", first, late)
    rates = await store.attempt_rates(since=T0)
    assert [(r.minute, r.attempts, r.failures) for r in rates] == [
        (T0, 1, 0),
        (T0 + dt.timedelta(minutes=2), 1, 1),
    ]
    assert await store.attempt_rates(since=T0 + dt.timedelta(minutes=3)) == []


async def test_record_version_includes_tombstones(store: Store) -> None:
    """A record's current version is found live or deleted; an unknown id has none."""
    await _changes(store, "acme", 2)  # person 1 is version 1, records 1 and 2 versions 2, 3
    assert await store.record_version("acme", 1) == 2
    tomb = await store.delete_work_interruption("acme", 2)
    assert tomb is not None
    assert await store.record_version("acme", 2) == tomb.change_version == 4
    assert await store.record_version("acme", 3) is None
    assert await store.record_version("globex", 1) is None


async def test_rewind_before_a_version_sends_that_change_and_later_ones_again(
    store: Store,
) -> None:
    """A resend moves the cursor to just before the record's version, unsettles and audits."""
    await store.create_webhook(new_webhook("a1"))
    await _changes(store, "acme", 4)  # versions 1 (person) .. 5
    await _deliver(store, "a1", *(attempt("a1", v) for v in range(2, 6)))
    await store.settle_tenants(now=T0)
    entry = _entry(AuditAction.RESEND, "a1")
    moved = await store.rewind_webhook_before("acme", "a1", version=4, now=T0, audit=entry)
    assert moved == 2
    assert (await must_get_webhook(store, "acme", "a1")).cursor == 3
    assert [w.id for w in await store.due_webhooks(now=T0, limit=10)] == ["a1"]
    pending = await store.rewind_webhook_before("acme", "a1", version=5, now=T0, audit=entry)
    assert pending == 0  # version 5 is after the cursor: still to be sent
    assert (await must_get_webhook(store, "acme", "a1")).cursor == 3
    assert await store.list_audit(limit=10) == [entry, entry]
    await store.disable_webhook("acme", "a1", reason="x", audit=_entry(AuditAction.DISABLE))
    refused = await store.rewind_webhook_before("acme", "a1", version=2, now=T0, audit=entry)
    assert refused is None
    assert (await must_get_webhook(store, "acme", "a1")).cursor == 3


async def test_a_test_delivery_is_kept_and_moves_nothing(store: Store) -> None:
    """A test event's attempt is in the history; cursor, back-off and recover ignore it."""
    await store.create_webhook(new_webhook("a1"))
    await _changes(store, "acme", 2)
    await _deliver(store, "a1", attempt("a1", 2), attempt("a1", 3))
    before = await must_get_webhook(store, "acme", "a1")
    tried = dataclasses.replace(
        attempt("a1", 9, succeeded=False),
        message_id=message_id_of_test("a1", "0123456789abcdef"),
        record_id=0,
        change_version=0,
    )
    audit = AuditEntry(
        at=T0, actor="client:c1", action=AuditAction.TEST_EVENT, tenant="acme", webhook_id="a1"
    )
    await store.record_test_delivery(tried, audit=audit)
    assert await store.list_audit(tenant="acme", limit=5) == [audit]
    found = await store.get_delivery("a1", tried.message_id)
    assert found is not None
    delivery, attempts = found
    assert delivery.is_test
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED,
        1,
        503,
    )
    assert attempts == [tried]
    listed = await store.search_deliveries(DeliverySearch(webhook_id="a1"))
    assert tried.message_id in {f.delivery.id for f in listed}
    assert await must_get_webhook(store, "acme", "a1") == before
    moved = await store.rewind_webhook(
        "acme", "a1", since=T0 + dt.timedelta(seconds=5), now=T0, audit=_entry(AuditAction.RECOVER)
    )
    assert moved == 0  # only the test was tried since then: nothing to send again


async def test_client_tenants_are_listed_by_name_and_paged(store: Store) -> None:
    """Tenants with clients come once each, by name, after a given name, up to a limit."""
    for client_id, tenant in (("c1", "globex"), ("c2", "acme"), ("c3", "acme"), ("c4", "initech")):
        await store.add_client(
            Client(id=client_id, tenant=tenant, secret_hash="h", scopes=frozenset(), created_at=T0)
        )
    assert await store.client_tenants(after=None, limit=10) == ["acme", "globex", "initech"]
    assert await store.client_tenants(after="acme", limit=1) == ["globex"]
    assert await store.client_tenants(after="initech", limit=10) == []


async def test_lag_samples_keep_the_larger_of_a_minute_and_forget_old_ones(store: Store) -> None:
    """Two samples of one minute keep the larger; samples before the kept range are dropped."""
    minute = T0.replace(second=0, microsecond=0)
    later = minute + dt.timedelta(minutes=1)
    await store.record_lag_sample(LagSample(minute=minute, lag_seconds=5, behind=1), keep_after=T0)
    await store.record_lag_sample(LagSample(minute=minute, lag_seconds=3, behind=2), keep_after=T0)
    assert await store.lag_samples(since=minute) == [
        LagSample(minute=minute, lag_seconds=5, behind=2)
    ]
    await store.record_lag_sample(
        LagSample(minute=later, lag_seconds=0, behind=0), keep_after=later
    )
    assert await store.lag_samples(since=minute) == [
        LagSample(minute=later, lag_seconds=0, behind=0)
    ]


def _session(session_id: str, actor: str = "operator:ada", *, minutes: int = 60) -> ConsoleSession:
    return ConsoleSession(
        id=session_id,
        actor=actor,
        tenant=None,
        created_at=T0,
        expires_at=T0 + dt.timedelta(minutes=minutes),
    )


async def test_sessions_live_until_ended_or_expired(store: Store) -> None:
    """A kept session is live until it ends (one, all but one) or expires."""
    for session_id in ("s1", "s2", "s3"):
        await store.add_session(_session(session_id))
    await store.add_session(_session("b1", "operator:bob"))
    assert await store.session_live("s1", now=T0)
    assert not await store.session_live("s1", now=T0 + dt.timedelta(hours=1))
    assert not await store.session_live("nope", now=T0)
    assert await store.end_sessions("operator:ada", at=T0, only="s1") == 1
    assert not await store.session_live("s1", now=T0)
    assert await store.end_sessions("operator:ada", at=T0, keep="s2") == 1
    assert [s.id for s in await store.live_sessions("operator:ada", now=T0)] == ["s2"]
    assert await store.session_live("b1", now=T0)


async def test_a_new_password_or_disabling_ends_the_operators_sessions(store: Store) -> None:
    """Both end the operator's sessions with the change; disabling keeps its first time."""
    await store.add_operator(Operator(name="ada", password_hash="x", created_at=T0))
    await store.add_session(_session("s1"))
    assert await store.set_operator_password("ada", "y", sessions_of="operator:ada", at=T0)
    assert not await store.session_live("s1", now=T0)
    await store.add_session(_session("s2"))
    later = T0 + dt.timedelta(minutes=1)
    assert await store.disable_operator("ada", sessions_of="operator:ada", at=T0)
    assert await store.disable_operator("ada", sessions_of="operator:ada", at=later)
    assert not await store.session_live("s2", now=T0)
    found = await store.get_operator("ada")
    assert found is not None
    assert found.disabled_at == T0
    assert not await store.disable_operator("bob", sessions_of="operator:bob", at=T0)


async def test_expired_sessions_are_forgotten_when_a_new_one_begins(store: Store) -> None:
    """Adding a session drops the sessions that expired before it began."""
    await store.add_session(_session("old", minutes=1))
    await store.add_session(
        dataclasses.replace(_session("new"), created_at=T0 + dt.timedelta(minutes=2))
    )
    assert await store.end_sessions("operator:ada", at=T0) == 1  # only "new" was kept


async def test_test_event_slots_follow_the_rule_per_webhook(store: Store) -> None:
    """Five slots a minute per webhook: the sixth answers the seconds to wait and takes
    nothing; another webhook is not held back; a slot frees once out of the window."""
    for second in range(5):
        assert await store.take_test_event_slot("w1", now=T0 + dt.timedelta(seconds=second)) is None
    assert await store.take_test_event_slot("w2", now=T0 + dt.timedelta(seconds=5)) is None
    assert await store.take_test_event_slot("w1", now=T0 + dt.timedelta(seconds=30)) == 30
    assert await store.take_test_event_slot("w1", now=T0 + dt.timedelta(seconds=31)) == 29
    later = T0 + dt.timedelta(seconds=60, microseconds=1)
    assert await store.take_test_event_slot("w1", now=later) is None
    assert await store.take_test_event_slot("w1", now=later) == 1


async def test_test_event_slots_hold_across_processes(
    sql_store: SqliteStore | PostgresStore,
) -> None:
    """Two API processes of one database taking slots at once: exactly five are given."""
    other: SqliteStore | PostgresStore
    if isinstance(sql_store, SqliteStore):
        other = SqliteStore(sql_store._path, sealer=sealer_for_tests())
    else:
        other = PostgresStore(sql_store._dsn, sealer=sealer_for_tests())
    await other.open()
    try:
        takers = [sql_store, other] * 6
        waits = await asyncio.gather(*(s.take_test_event_slot("w1", now=T0) for s in takers))
    finally:
        await other.close()
    assert sorted(waits, key=lambda w: w or 0) == [None] * 5 + [60] * 7
