"""A delivery world for the worker tests: ``InMemoryStore``, ``FakeClock``, ``ScriptedSender``."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workhooks.bootstrap.building import retry_policy, worker_options
from workhooks.config import Settings
from workhooks.delivery.sender import SendResult
from workhooks.delivery.worker import DeliveryWorker
from workhooks.domain.records import PersonDraft, WorkInterruption, WorkInterruptionDraft
from workhooks.domain.webhooks import Webhook
from workhooks.services.records import RecordService
from workhooks.services.webhooks import CreatedWebhook, DestinationRules, WebhookService
from workhooks.storage.memory import InMemoryStore
from workhooks.testing import FakeClock, RecordedRequest, ScriptedSender

TENANT = "acme"
URL = "https://hooks.example.com/in"
StatusFor = Callable[[str, bytes], int | SendResult]


@dataclass
class World:
    """A store, the services that write to it, and a worker delivering through a fake sender."""

    store: InMemoryStore
    clock: FakeClock
    sender: ScriptedSender
    records: RecordService
    webhooks: WebhookService
    worker: DeliveryWorker

    async def webhook(self, url: str = URL) -> CreatedWebhook:
        """Create a webhook of the tenant on ``url``."""
        return await self.webhooks.create(
            TENANT, destination_url=url, collection_name="work-interruptions"
        )

    async def put(self, record_id: int, *, duration: int = 30) -> WorkInterruption:
        """Write a work interruption of person 1; return it as stored."""
        draft = WorkInterruptionDraft(
            id=record_id,
            person_id=1,
            date=dt.date(2024, 3, 4),
            duration_in_minutes=duration,
            start_time_in_minutes=600,
            end_time_in_minutes=600 + duration,
        )
        (written,) = await self.records.put_work_interruptions(TENANT, [draft])
        return written.record

    async def state(self, webhook_id: str) -> Webhook:
        """The stored webhook."""
        webhook = await self.store.get_webhook(TENANT, webhook_id)
        assert webhook is not None
        return webhook

    def answer(self, status_for: StatusFor) -> None:
        """Script the sender's answers."""
        self.sender.status_for = status_for


async def make_world(
    *, schedule: str | None = None, window: int | None = None, seed: int = 0
) -> World:
    """Build a world whose tenant has person 1, with the default settings but for
    ``schedule`` (in the format of ``WORKHOOKS_RETRY_SCHEDULE``) and ``window``."""
    env = {} if schedule is None else {"WORKHOOKS_RETRY_SCHEDULE": schedule}
    settings = Settings.from_env(env, delivery_window=window)
    store = InMemoryStore()
    await store.open()
    clock = FakeClock()
    sender = ScriptedSender()
    worker = DeliveryWorker(
        store,
        sender,
        clock,
        policy=retry_policy(settings),
        rng=random.Random(seed),
        options=worker_options(settings),
    )
    records = RecordService(store, on_change=worker.wake)
    webhooks = WebhookService(
        store, clock, rules=DestinationRules(), validity=dt.timedelta(days=30), max_enabled=None
    )
    await records.put_people(TENANT, [PersonDraft(id=1)])
    return World(
        store=store, clock=clock, sender=sender, records=records, webhooks=webhooks, worker=worker
    )


def event(request: RecordedRequest) -> dict[str, Any]:
    """The JSON body of a delivery."""
    body: dict[str, Any] = json.loads(request.body)
    return body


def ids_of(requests: list[RecordedRequest]) -> list[int]:
    """The record ids of deliveries, in send order."""
    return [int(event(r)["data"]["id"]) for r in requests]


def always(status: int) -> StatusFor:
    """A script answering ``status`` to everything."""
    return lambda _url, _body: status
