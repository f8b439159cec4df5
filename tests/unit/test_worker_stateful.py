"""The delivery worker as a state machine: random writes, outages, clock jumps and rounds.

A model consumer applies each acknowledged event only when its changeVersion is newer than
the one it holds for that id (keeping Deletes as tombstones). Whatever happens, deliveries
are signed and never go back in version, and after the destination recovers and the worker
drains, the consumer's live state equals the source's exactly. A disabled webhook (schedule
exhausted or expired) is handled as the contract asks of consumers: full sync, new webhook.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from msgspec import to_builtins

from tests.unit.worker_helpers import TENANT, World, event, make_world
from workhooks.client.signatures import verify
from workhooks.delivery.sender import SendResult
from workhooks.documents import event_document, work_interruption_document
from workhooks.domain.change_version import format_version
from workhooks.domain.records import WorkInterruption, WorkInterruptionDraft
from workhooks.domain.retry import FailureClass
from workhooks.domain.webhooks import Webhook, WebhookStatus
from workhooks.services.webhooks import CreatedWebhook, DestinationRules, WebhookService
from workhooks.testing import RecordedRequest

SCHEDULE = "1,4,16,64"  # short, so that some runs exhaust it and must resync
RECORD_IDS = st.integers(1, 6)
RETRY_AFTER = st.sampled_from([None, "0", "3", "120", "3600", "99999999", "soon"])
FAILURES = st.sampled_from(
    [
        FailureClass.SERVER_ERROR,
        FailureClass.UNAVAILABLE,
        FailureClass.RATE_LIMITED,
        FailureClass.TIMEOUT,
        FailureClass.CONNECTION_REFUSED,
    ]
)
_STATUS = {
    FailureClass.SERVER_ERROR: 500,
    FailureClass.UNAVAILABLE: 503,
    FailureClass.RATE_LIMITED: 429,
}
VALIDITY = dt.timedelta(days=3)  # short, so that some runs outlive a webhook and must resync
# Up to 15 minutes, one draw in four up to a day.
SECONDS = st.sampled_from([900.0, 900.0, 900.0, 86400.0]).flatmap(lambda top: st.floats(0, top))
MAX_DRAIN_ROUNDS = 500
T = TypeVar("T")


class Destination:
    """The sender's answers: healthy, failing in one way, or failing for one record only."""

    def __init__(self) -> None:
        self.failure: FailureClass | None = None
        self.retry_after: str | None = None
        self.only_id: int | None = None
        self.acked: list[bool] = []

    def __call__(self, _url: str, body: bytes) -> SendResult:
        """Answer one delivery and remember whether it was acknowledged."""
        failure = self.failure
        if self.only_id is not None and self.only_id != int(event_of(body)["data"]["id"]):
            failure = None
        self.acked.append(failure is None)
        if failure is None:
            return SendResult(status_code=204, failure=None, latency_ms=1.0)
        status = _STATUS.get(failure)
        return SendResult(
            status_code=status,
            failure=failure,
            latency_ms=1.0,
            retry_after=self.retry_after if status in (429, 503) else None,
        )


def event_of(body: bytes) -> dict[str, Any]:
    """The JSON event of a delivery body."""
    return event(RecordedRequest(url="", headers={}, body=body))


class DeliveryMachine(RuleBasedStateMachine):
    """Random source writes, destination outages and clock jumps around ``run_once``."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.destination = Destination()
        self.world: World | None = None
        self.created: CreatedWebhook | None = None
        self.history: dict[str, dict[str, Any]] = {}  # changeVersion -> event as written
        self.consumer: dict[int, tuple[str, dict[str, Any] | None]] = {}
        self.sent_newest: dict[int, str] = {}  # newest version sent per id, acked or not
        self.checked = 0
        self.cursor = 0
        self.generation = 0

    # -- plumbing --------------------------------------------------------------------

    @property
    def w(self) -> World:
        """The world, built by the ``start`` initialiser."""
        assert self.world is not None
        return self.world

    @property
    def hook(self) -> CreatedWebhook:
        """The consumer's current webhook."""
        assert self.created is not None
        return self.created

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on this machine's event loop."""
        return self.runner.run(coro)

    def webhook(self) -> Webhook:
        """The stored state of the current webhook."""
        return self.run(self.w.state(self.hook.webhook.id))

    def source_live(self) -> dict[int, dict[str, Any]]:
        """The source's live records as ``GET`` documents: what a full sync reads."""
        records = self.run(self.w.store.read_changes(TENANT, after=0, limit=1000))
        return {r.id: to_builtins(work_interruption_document(r)) for r in records if not r.deleted}

    def remember(self, record: WorkInterruption) -> None:
        """Keep the event of a written version, to check delivered bodies against."""
        self.history[format_version(record.change_version)] = to_builtins(event_document(record))

    def new_webhook(self) -> None:
        """Create the consumer's webhook on a fresh URL (so strays to old ones show)."""
        self.generation += 1
        url = f"https://hooks.example.com/in/{self.generation}"
        self.created = self.run(self.w.webhook(url))
        self.cursor = self.hook.webhook.cursor

    def absorb(self) -> None:
        """Check every new delivery and let the consumer apply the acknowledged ones."""
        requests = self.w.sender.requests
        for request, acked in zip(
            requests[self.checked :], self.destination.acked[self.checked :], strict=True
        ):
            assert request.url == self.hook.webhook.destination_url
            verify(
                self.hook.key, headers=request.headers, body=request.body, now=self.w.clock.now()
            )
            body = event(request)
            version, record_id = body["data"]["changeVersion"], int(body["data"]["id"])
            assert body == self.history[version], "a body differs from what was written"
            assert request.headers["webhook-id"] == f"msg_{self.hook.webhook.id}_{version}"
            assert version >= self.sent_newest.get(record_id, ""), "a version went back"
            self.sent_newest[record_id] = version
            if acked:
                self.apply(record_id, version, body)
        self.checked = len(requests)

    def apply(self, record_id: int, version: str, body: dict[str, Any]) -> None:
        """The consumer's rule: keep the newest version per id; Deletes become tombstones."""
        held = self.consumer.get(record_id)
        assert held is None or version >= held[0], "the consumer got an older version"
        if held is None or version > held[0]:
            live = body["data"] if body["changeType"] == "InsertOrUpdate" else None
            self.consumer[record_id] = (version, live)

    def resync_if_disabled(self) -> None:
        """A disabled webhook obliges the consumer to a full sync and a new webhook."""
        webhook = self.webhook()
        if webhook.status is WebhookStatus.ENABLED:
            return
        assert webhook.disabled_reason in ("retry schedule exhausted", "expired")
        self.consumer = {i: (doc["changeVersion"], doc) for i, doc in self.source_live().items()}
        self.new_webhook()

    def round(self) -> int:
        """Run the worker once and absorb what it sent."""
        sent = self.run(self.w.worker.run_once())
        self.absorb()
        self.resync_if_disabled()
        return sent

    # -- rules -----------------------------------------------------------------------

    @initialize(window=st.integers(1, 4), seed=st.integers(0, 2**32))
    def start(self, window: int, seed: int) -> None:
        """Build the world and the consumer's first webhook."""
        self.world = self.run(make_world(schedule=SCHEDULE, window=window, seed=seed))
        self.w.webhooks = WebhookService(
            self.w.store,
            self.w.clock,
            rules=DestinationRules(),
            validity=VALIDITY,
            max_enabled=None,
        )
        self.w.answer(self.destination)
        self.new_webhook()

    @rule(
        record_id=RECORD_IDS,
        day=st.integers(1, 28),
        start=st.integers(0, 1200),
        duration=st.integers(0, 240),
    )
    def upsert(self, record_id: int, day: int, start: int, duration: int) -> None:
        """Insert or update a record with random field values."""
        draft = WorkInterruptionDraft(
            id=record_id,
            person_id=1,
            date=dt.date(2024, 3, day),
            duration_in_minutes=duration,
            start_time_in_minutes=start,
            end_time_in_minutes=start + duration,
        )
        (written,) = self.run(self.w.records.put_work_interruptions(TENANT, [draft]))
        self.remember(written.record)

    @precondition(lambda self: bool(self.world and self.source_live()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """Delete a live record."""
        record_id = data.draw(st.sampled_from(sorted(self.source_live())))
        tomb = self.run(self.w.store.delete_work_interruption(TENANT, record_id))
        assert tomb is not None
        self.remember(tomb)

    @rule(failure=FAILURES, retry_after=RETRY_AFTER, only=st.none() | RECORD_IDS)
    def fail(self, failure: FailureClass, retry_after: str | None, only: int | None) -> None:
        """Make the destination fail (for every record, or for one record id only)."""
        self.destination.failure = failure
        self.destination.retry_after = retry_after
        self.destination.only_id = only

    @rule()
    def recover(self) -> None:
        """Make the destination healthy again."""
        self.destination.failure = None

    @rule(seconds=SECONDS, past_next_attempt=st.booleans())
    def advance(self, seconds: float, past_next_attempt: bool) -> None:
        """Let time pass: a random amount, or up to the next attempt plus a little."""
        waiting_until = self.webhook().next_attempt_at
        if past_next_attempt and waiting_until is not None:
            self.w.clock.advance(max(waiting_until - self.w.clock.now(), dt.timedelta(0)))
            seconds %= 2
        self.w.clock.advance(seconds)

    @rule()
    def run_worker(self) -> None:
        """Run one delivery round."""
        self.round()

    @rule()
    def retry_when_due(self) -> None:
        """Wait until the webhook is due (if it waits), then run one delivery round."""
        waiting_until = self.webhook().next_attempt_at
        if waiting_until is not None and waiting_until > self.w.clock.now():
            self.w.clock.advance(waiting_until - self.w.clock.now())
        self.round()

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def backoff_is_consistent(self) -> None:
        """An enabled webhook waits exactly when it has failures; its cursor never goes back."""
        webhook = self.webhook()
        assert webhook.status is WebhookStatus.ENABLED
        assert (webhook.failures > 0) == (webhook.next_attempt_at is not None)
        assert webhook.cursor >= self.cursor
        self.cursor = webhook.cursor

    @invariant()
    def consumer_holds_only_written_versions(self) -> None:
        """Everything the consumer holds is exactly a version the source wrote, as written."""
        for record_id, (version, live) in self.consumer.items():
            written = self.history[version]
            assert written["data"]["id"] == record_id
            if live is None:
                assert written["changeType"] == "Delete"
            else:
                assert live == written["data"]

    def teardown(self) -> None:
        """Recover, drain until nothing is due, and compare the consumer with the source."""
        try:
            if self.world is not None:
                self.drain_and_compare()
        finally:
            self.runner.close()

    def drain_and_compare(self) -> None:
        """Deliver everything pending to a healthy destination; the states must then agree."""
        self.destination.failure = None
        for _ in range(MAX_DRAIN_ROUNDS):
            waiting_until = self.webhook().next_attempt_at
            if waiting_until is not None and waiting_until > self.w.clock.now():
                self.w.clock.advance(waiting_until - self.w.clock.now())
            if not self.round() and self.webhook().next_attempt_at is None:
                break
        webhook = self.webhook()
        assert webhook.failures == 0
        due = self.run(self.w.store.due_webhooks(now=self.w.clock.now(), limit=10))
        assert due == []
        consumer_live = {i: live for i, (_, live) in self.consumer.items() if live is not None}
        assert consumer_live == self.source_live()


MACHINE_SETTINGS = settings(max_examples=100, stateful_step_count=40, deadline=None)


def test_consumer_converges_to_the_source_whatever_fails() -> None:
    """Under random writes and outages, deliveries stay signed and ordered, and end in sync."""
    run_state_machine_as_test(DeliveryMachine, settings=MACHINE_SETTINGS)
