"""The delivery history stays small when receivers answer at length: successes keep a short
excerpt of the answer, and a failing window keeps the long one only once."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from workhooks.bootstrap.building import retry_policy, worker_options
from workhooks.config import Settings
from workhooks.delivery.sender import AiohttpSender
from workhooks.delivery.worker import DeliveryWorker
from workhooks.domain.records import PersonDraft, WorkInterruptionDraft
from workhooks.services.webhooks import DestinationRules, WebhookService
from workhooks.storage.protocol import Store
from workhooks.testing import FakeClock

pytestmark = pytest.mark.timeout(30)

TENANT = "acme"
ANSWER = "é" + "x" * 70_000  # a receiver that answers 70 KB to every event
RECORDS = 40


@pytest.fixture
async def receiver() -> AsyncIterator[str]:
    """A loopback receiver answering ``ANSWER`` with the status named in the path."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=int(request.match_info["code"]), text=ANSWER)

    app = web.Application()
    app.router.add_post("/{code}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def _deliver(store: Store, base: str, code: int) -> list[str]:
    """Write ``RECORDS`` changes, deliver one window to ``base/code``; return the excerpts."""
    settings = Settings()
    clock = FakeClock()
    await store.put_people(TENANT, [PersonDraft(id=1)])
    webhooks = WebhookService(
        store,
        clock,
        rules=DestinationRules(allow_http=True, allow_loopback=True),
        validity=dt.timedelta(days=30),
        max_enabled=None,
    )
    created = await webhooks.create(
        TENANT, destination_url=f"{base}/{code}", collection_name="work-interruptions"
    )
    await store.put_work_interruptions(
        TENANT,
        [
            WorkInterruptionDraft(
                id=i,
                person_id=1,
                date=dt.date(2024, 3, 4),
                duration_in_minutes=30,
                start_time_in_minutes=600,
                end_time_in_minutes=630,
            )
            for i in range(1, RECORDS + 1)
        ],
    )
    sender = AiohttpSender(
        timeout_seconds=5,
        user_agent="t/1 (t)",
        allow_loopback=True,
        limit_per_host=settings.delivery.delivery_concurrency,
    )
    await sender.start()
    try:
        worker = DeliveryWorker(
            store,
            sender,
            clock,
            policy=retry_policy(settings),
            rng=random.Random(1),
            options=worker_options(settings),
        )
        assert await worker.run_once() == RECORDS
    finally:
        await sender.close()
    attempts = await store.list_attempts(created.webhook.id, limit=1000)
    assert len(attempts) == RECORDS
    return [a.response_excerpt for a in attempts]


async def test_successes_keep_a_short_excerpt(store: Store, receiver: str) -> None:
    """A 70 KB answer to a successful delivery is kept as its first 256 bytes."""
    excerpts = await _deliver(store, receiver, 200)
    assert all(len(e.encode()) <= 256 for e in excerpts)
    assert all(e.startswith("éxxx") for e in excerpts)


async def test_a_failing_window_keeps_one_long_excerpt(store: Store, receiver: str) -> None:
    """When every request of a window fails, the failure that decides the back-off keeps
    64 KiB of the answer and the others a short excerpt: about 74 KB stored, not 2.6 MB."""
    excerpts = await _deliver(store, receiver, 500)
    sizes = sorted(len(e.encode()) for e in excerpts)
    assert sizes[-1] == 64 * 1024
    assert sizes[-2] <= 256
    assert sum(sizes) <= 64 * 1024 + (RECORDS - 1) * 256
