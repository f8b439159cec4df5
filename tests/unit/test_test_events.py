"""Test events: their message ids, their signed headers, their body and their limit per webhook."""

from __future__ import annotations

import datetime as dt

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from workhooks.documents import document_of_test_event
from workhooks.documents.records import TEST_CHANGE_TYPE
from workhooks.domain.deliveries import (
    is_message_id,
    is_test_message,
    message_id,
    message_id_of_test,
    wait_for_test_slot,
)
from workhooks.domain.signing import delivery_headers, signature_matches

WEBHOOK = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def test_a_test_message_id_is_a_message_id_apart_from_every_change() -> None:
    """Test ids name a delivery of their own, never one of a change."""
    tested = message_id_of_test(WEBHOOK, "0123456789abcdef")
    assert is_message_id(tested)
    assert is_test_message(tested)
    change = message_id(WEBHOOK, "0000000000000000002A")
    assert is_message_id(change)
    assert not is_test_message(change)


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=200), st.integers(0, 2**40))
def test_delivery_headers_carry_a_signature_that_verifies(
    secret: bytes, body: bytes, timestamp: int
) -> None:
    """The headers of every POST (deliveries and tests) carry its id, time and v1 signature."""
    headers = delivery_headers(secret, msg_id="msg_x", timestamp=timestamp, body=body)
    assert headers["webhook-id"] == "msg_x"
    assert headers["webhook-timestamp"] == str(timestamp)
    assert signature_matches(
        secret, msg_id="msg_x", timestamp=timestamp, body=body, header=headers["webhook-signature"]
    )


def test_test_event_body_is_marked_and_holds_only_an_example() -> None:
    """The body says Test, names its webhook and shows a real event's shape as an example."""
    document = document_of_test_event(
        webhook_id=WEBHOOK, collection="work-interruptions", sent_at="t"
    )
    body = msgspec.json.decode(msgspec.json.encode(document))
    assert body["changeType"] == TEST_CHANGE_TYPE == "Test"
    assert body["data"]["webhookId"] == WEBHOOK
    assert body["data"]["example"]["changeType"] == "InsertOrUpdate"
    assert "id" not in body["data"]
    assert list(body) == ["changeType", "data"]
    assert list(body["data"]) == ["webhookId", "collectionName", "sentAt", "message", "example"]
    assert body["data"]["example"]["data"] == {
        "changeVersion": "0000000000000000002A",
        "id": 42,
        "person": {"id": 7},
        "date": "2025-01-06",
        "durationInMinutes": 30,
        "startTimeInMinutes": 720,
        "endTimeInMinutes": 750,
    }


def test_five_test_events_a_minute_per_webhook() -> None:
    """A sixth test within a minute waits, in whole seconds, for the oldest of the last five
    to leave the window; older tests do not count."""
    five = [T0 + dt.timedelta(seconds=s) for s in range(5)]
    assert wait_for_test_slot(five[:4], now=T0 + dt.timedelta(seconds=5)) is None
    assert wait_for_test_slot(five, now=T0 + dt.timedelta(seconds=30)) == 30
    assert wait_for_test_slot(five, now=T0 + dt.timedelta(seconds=59, milliseconds=500)) == 1
    assert wait_for_test_slot(five, now=T0 + dt.timedelta(seconds=60, microseconds=1)) is None
    six = [T0 - dt.timedelta(seconds=30), *five]
    assert wait_for_test_slot(six, now=T0 + dt.timedelta(seconds=10)) == 50


def test_the_consumer_sdk_knows_the_test_event_by_the_change_type_the_server_sends() -> None:
    """The SDK acknowledges test events without applying them: both name the same type."""
    from workhooks.client.models import TEST_CHANGE_TYPE as SDK_TEST_CHANGE_TYPE

    assert SDK_TEST_CHANGE_TYPE == TEST_CHANGE_TYPE
