"""Polite retries and error typing of the SDK, against a small fake transport (no server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import httpx
import pytest

from workhooks.client import (
    AsyncClient,
    BadRequest,
    Client,
    ProtimeError,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    UnexpectedResponse,
)
from workhooks.client.errors import error_from_response
from workhooks.client.policy import parse_retry_after

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
TOKEN = {"access_token": "t", "expires_in": 1800, "token_type": "Bearer", "scope": ""}
BUSY = {"error": {"code": "TooManyRequests", "message": "slow down"}}

Handler = Callable[[httpx.Request], httpx.Response]


def scripted(*answers: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler that answers the token endpoint, then API calls with ``answers`` in order."""
    api_answers: Iterator[httpx.Response] = iter(answers)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/connect/token"):
            return httpx.Response(200, json=TOKEN)
        return next(api_answers)

    return handle, seen


def blocking(handler: Handler, sleeps: list[float], **options: object) -> Client:
    """A blocking client on the fake transport that records its sleeps instead of sleeping."""
    return Client(
        "http://fake",
        tenant="acme",
        client_id="c",
        client_secret="s",
        transport=httpx.MockTransport(handler),
        clock=lambda: NOW,
        sleep=sleeps.append,
        **options,  # type: ignore[arg-type]
    )


def test_429_is_retried_after_the_servers_retry_after() -> None:
    """A 429 with ``Retry-After: 2`` is waited out for two seconds, then the call succeeds."""
    handler, seen = scripted(
        httpx.Response(429, json=BUSY, headers={"Retry-After": "2"}),
        httpx.Response(200, json={"value": []}),
    )
    sleeps: list[float] = []
    with blocking(handler, sleeps) as client:
        assert client.list_webhooks() == []
    assert sleeps == [2.0]
    assert [r.url.path for r in seen].count("/connector/protimeapi/api/v1/webhooks") == 2


def test_503_without_retry_after_backs_off_exponentially_then_gives_up() -> None:
    """Without ``Retry-After`` waits double; after the last try the typed 503 is raised."""
    handler, seen = scripted(*[httpx.Response(503, text="down")] * 4)
    sleeps: list[float] = []
    with blocking(handler, sleeps) as client, pytest.raises(ServiceUnavailable) as caught:
        client.list_webhooks()
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(seen) == 1 + 4
    assert caught.value.status == 503
    assert caught.value.message == "down"


def test_a_retry_after_beyond_the_bound_is_not_waited_for() -> None:
    """A server asking for longer than ``max_delay_seconds`` gets the error raised at once."""
    handler, _ = scripted(httpx.Response(429, json=BUSY, headers={"Retry-After": "3600"}))
    sleeps: list[float] = []
    policy = RetryPolicy(max_delay_seconds=30)
    with blocking(handler, sleeps, retry=policy) as client, pytest.raises(TooManyRequests) as e:
        client.list_webhooks()
    assert sleeps == []
    assert e.value.code == "TooManyRequests"
    assert e.value.headers["retry-after"] == "3600"


def test_other_errors_are_not_retried_and_keep_their_details() -> None:
    """A 400 is raised at once with its reasons; a 500 becomes ``ServerError``."""
    body = {"error": {"code": "InvalidFilter", "message": "bad", "reasons": ["at 3"]}}
    handler, _ = scripted(httpx.Response(400, json=body), httpx.Response(500, text=""))
    sleeps: list[float] = []
    with blocking(handler, sleeps) as client:
        with pytest.raises(BadRequest) as bad:
            client.list_webhooks()
        with pytest.raises(ServerError):
            client.list_webhooks()
    assert sleeps == []
    assert bad.value.reasons == ("at 3",)
    assert str(bad.value) == "400 InvalidFilter: bad (at 3)"


def test_the_token_endpoint_is_retried_too() -> None:
    """A busy token endpoint is waited out like any other call."""
    answers = iter(
        [httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200, json=TOKEN)]
    )
    sleeps: list[float] = []
    with blocking(lambda _: next(answers), sleeps) as client:
        assert client.access_token() == "t"
    assert sleeps == [1.0]


def test_a_success_off_the_contract_raises_unexpected_response() -> None:
    """A 200 whose body is not the documented shape is a typed error, not a crash later."""
    handler, _ = scripted(httpx.Response(200, json={"values": "nope"}))
    with blocking(handler, []) as client, pytest.raises(UnexpectedResponse):
        client.list_webhooks()


async def test_async_client_retries_with_an_async_sleep() -> None:
    """The async client waits out a 429 with its injected async sleep."""
    handler, _ = scripted(
        httpx.Response(429, headers={"Retry-After": "5"}),
        httpx.Response(200, json={"value": []}),
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with AsyncClient(
        "http://fake",
        tenant="acme",
        client_id="c",
        client_secret="s",
        transport=httpx.MockTransport(handler),
        clock=lambda: NOW,
        sleep=sleep,
    ) as client:
        assert await client.list_webhooks() == []
    assert sleeps == [5.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("Mon, 05 Jan 2026 09:00:30 GMT", 30.0),
        ("Mon, 05 Jan 2026 08:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    value: str | None, expected: float | None
) -> None:
    """``Retry-After`` is delay-seconds or an HTTP date (a past date means now); junk is ignored."""
    assert parse_retry_after(value, now=NOW) == expected


def test_validation_error_bodies_become_issues() -> None:
    """A ``validationErrors`` body is kept field by field on the exception."""
    body = b'{"validationErrors": [{"field": "date", "message": "Expected str"}]}'
    error = error_from_response(400, body, {"Content-Type": "application/json"})
    assert isinstance(error, BadRequest)
    assert [(v.field, v.message) for v in error.validation_errors] == [("date", "Expected str")]
    assert "date: Expected str" in str(error)


def test_unknown_statuses_still_raise_the_base_error() -> None:
    """A status without its own class is a plain ``ProtimeError`` with the status kept."""
    error = error_from_response(418, b"teapot", {})
    assert type(error) is ProtimeError
    assert (error.status, error.code, error.message) == (418, "HTTP418", "teapot")
