"""``ScriptedSender`` answers like the real ``AiohttpSender`` does against a loopback receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workhooks.config import Settings
from workhooks.delivery.sender import AiohttpSender, SendResult
from workhooks.domain.retry import FailureClass
from workhooks.testing import Receiver, ScriptedSender

pytestmark = pytest.mark.timeout(30)

BODY = b'{"changeType":"InsertOrUpdate","data":{"id":1}}'
PER_ORIGIN = Settings().delivery.delivery_concurrency
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1."""
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def real_sender() -> AsyncIterator[AiohttpSender]:
    """The production sender, allowed to reach loopback."""
    sender = AiohttpSender(
        timeout_seconds=5,
        user_agent="workhooks-tests/1 (tests)",
        allow_loopback=True,
        limit_per_host=PER_ORIGIN,
    )
    await sender.start()
    try:
        yield sender
    finally:
        await sender.close()


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (200, None),
        (204, None),
        (500, FailureClass.SERVER_ERROR),
        (410, FailureClass.GONE),
        (429, FailureClass.RATE_LIMITED),
        (302, FailureClass.REDIRECT),
    ],
)
async def test_scripted_and_real_sender_agree(
    receiver: Receiver,
    real_sender: AiohttpSender,
    status: int,
    failure: FailureClass | None,
) -> None:
    """For the same answer, both senders report the same status code and failure class."""
    receiver.status = status
    real = await real_sender.send(receiver.url, headers=HEADERS, body=BODY)
    scripted = await ScriptedSender(lambda _url, _body: status).send(
        receiver.url, headers=HEADERS, body=BODY
    )
    assert isinstance(real, SendResult)
    assert (real.status_code, real.failure) == (status, failure)
    assert (scripted.status_code, scripted.failure) == (real.status_code, real.failure)
    assert real.latency_ms > 0


async def test_real_sender_posts_body_and_headers_unchanged(
    receiver: Receiver, real_sender: AiohttpSender
) -> None:
    """The real sender POSTs the exact body with the signature headers and JSON content type."""
    result = await real_sender.send(receiver.url, headers=HEADERS, body=BODY)
    assert result.failure is None
    (request,) = await receiver.wait_for(1)
    assert request.body == BODY
    for name, value in HEADERS.items():
        assert request.headers[name] == value
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "workhooks-tests/1 (tests)"


async def test_real_sender_reports_a_refused_connection_as_a_value(
    real_sender: AiohttpSender,
) -> None:
    """A destination that refuses the connection yields a classified result, not an exception."""
    receiver = Receiver()
    url = await receiver.start()
    await receiver.stop()
    result = await real_sender.send(url, headers=HEADERS, body=BODY)
    assert result.status_code is None
    assert result.failure is FailureClass.CONNECTION_REFUSED
    assert result.error


async def test_real_sender_classifies_a_failed_tls_handshake(
    real_sender: AiohttpSender, receiver: Receiver
) -> None:
    """An https destination that does not speak TLS is a ``tls`` failure and nothing is sent."""
    result = await real_sender.send(
        receiver.url.replace("http://", "https://"), headers=HEADERS, body=BODY
    )
    assert result.status_code is None
    assert result.failure is FailureClass.TLS
    assert receiver.requests == []


async def test_real_sender_refuses_a_guarded_destination_before_sending() -> None:
    """Without development mode, a loopback destination is refused at connect time."""
    receiver = Receiver()
    url = await receiver.start()
    sender = AiohttpSender(
        timeout_seconds=5, user_agent="t/1 (t)", allow_loopback=False, limit_per_host=PER_ORIGIN
    )
    await sender.start()
    try:
        result = await sender.send(url, headers=HEADERS, body=BODY)
    finally:
        await sender.close()
        await receiver.stop()
    assert result.failure is FailureClass.FORBIDDEN_DESTINATION
    assert receiver.requests == []


async def test_real_sender_records_a_refused_name_as_forbidden_destination() -> None:
    """A name that resolves to loopback is refused at connect time as ``forbidden_destination``
    (the resolver's refusal is not a DNS failure)."""
    receiver = Receiver()
    url = await receiver.start()
    sender = AiohttpSender(
        timeout_seconds=5, user_agent="t/1 (t)", allow_loopback=False, limit_per_host=PER_ORIGIN
    )
    await sender.start()
    try:
        result = await sender.send(
            url.replace("127.0.0.1", "localhost"), headers=HEADERS, body=BODY
        )
    finally:
        await sender.close()
        await receiver.stop()
    assert result.failure is FailureClass.FORBIDDEN_DESTINATION, result.error
    assert receiver.requests == []
