"""Test events go through the delivery engine's sender: SSRF guard and no redirects, for real.

Real sockets on 127.0.0.1 only: a guarded sender refuses the loopback destination before
connecting, and a receiver that answers a redirect sees it reported, not followed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from workhooks.delivery.sender import AiohttpSender
from workhooks.domain.deliveries import is_test_message
from workhooks.domain.webhooks import Collection, Webhook, WebhookStatus
from workhooks.services.test_events import send_test_event

pytestmark = pytest.mark.timeout(30)

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _webhook(url: str) -> Webhook:
    return Webhook(
        id="6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
        tenant="acme",
        destination_url=url,
        collection=Collection.WORK_INTERRUPTIONS,
        secret=b"k" * 32,
        status=WebhookStatus.ENABLED,
        created_at=NOW,
        valid_until=NOW + dt.timedelta(days=30),
        cursor=0,
    )


@pytest.fixture
async def redirecting() -> AsyncIterator[tuple[str, list[str]]]:
    """A receiver on loopback that answers 302 to /hook and records what reaches /next."""
    reached: list[str] = []

    async def hook(_: web.Request) -> web.Response:
        raise web.HTTPFound("/next")

    async def following(request: web.Request) -> web.Response:
        reached.append(request.path)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_route("*", "/next", following)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", reached
    finally:
        await runner.cleanup()


async def _sender(*, allow_loopback: bool) -> AiohttpSender:
    sender = AiohttpSender(
        timeout_seconds=5, user_agent="t", allow_loopback=allow_loopback, limit_per_host=4
    )
    await sender.start()
    return sender


async def test_the_ssrf_guard_refuses_a_test_event_to_a_forbidden_address(
    redirecting: tuple[str, list[str]],
) -> None:
    """Outside development mode a loopback destination is refused at connect time."""
    url, reached = redirecting
    sender = await _sender(allow_loopback=False)
    try:
        attempt = await send_test_event(sender, _webhook(url), now=NOW)
    finally:
        await sender.close()
    assert is_test_message(attempt.message_id)
    assert (attempt.succeeded, attempt.status_code, attempt.error_class) == (
        False,
        None,
        "forbidden_destination",
    )
    assert reached == []


async def test_a_redirect_answering_a_test_event_is_reported_not_followed(
    redirecting: tuple[str, list[str]],
) -> None:
    """A 302 is the outcome (class ``redirect``): the event never reaches the new place."""
    url, reached = redirecting
    sender = await _sender(allow_loopback=True)
    try:
        attempt = await send_test_event(sender, _webhook(url), now=NOW)
    finally:
        await sender.close()
    assert (attempt.succeeded, attempt.status_code, attempt.error_class) == (
        False,
        302,
        "redirect",
    )
    assert reached == []
