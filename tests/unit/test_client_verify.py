"""Properties of the SDK's receiver-side checks: ``verify`` with a clock and ``verify_request``."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from workhooks.client.signatures import (
    DEFAULT_TOLERANCE,
    InvalidPayloadError,
    InvalidSignatureError,
    SignatureError,
    TimestampOutOfToleranceError,
    verify,
    verify_request,
)
from workhooks.domain.signing import encode_key, sign

SECRETS = st.binary(min_size=16, max_size=64)
TIMESTAMPS = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)
EVENTS = st.fixed_dictionaries(
    {
        "changeType": st.sampled_from(["InsertOrUpdate", "Delete"]),
        "data": st.fixed_dictionaries(
            {
                "changeVersion": st.text("0123456789ABCDEF", min_size=20, max_size=20),
                "id": st.integers(min_value=1, max_value=2**63 - 1),
            }
        ),
    }
)
TOLERANCE_SECONDS = int(DEFAULT_TOLERANCE.total_seconds())


def at(timestamp: float) -> dt.datetime:
    """The aware UTC instant of a Unix timestamp."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def delivery(secret: bytes, timestamp: int, body: bytes, msg_id: str = "msg_1") -> dict[str, str]:
    """The ``webhook-*`` headers of ``body`` signed with ``secret`` at ``timestamp``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


@given(SECRETS, TIMESTAMPS, EVENTS)
def test_signed_event_round_trips_through_verify_request(
    secret: bytes, timestamp: int, event: dict[str, object]
) -> None:
    """A delivery signed with the key verifies at its own time and yields the same event."""
    body = json.dumps(event).encode()
    headers = delivery(secret, timestamp, body)
    assert verify_request(encode_key(secret), headers, body, clock=lambda: at(timestamp)) == event


@given(SECRETS, TIMESTAMPS, EVENTS, st.data())
def test_any_changed_byte_of_body_or_headers_fails(
    secret: bytes, timestamp: int, event: dict[str, object], data: st.DataObject
) -> None:
    """Changing one byte of the body, the message id or the timestamp breaks the signature."""
    body = json.dumps(event).encode()
    headers = delivery(secret, timestamp, body)
    where = data.draw(st.sampled_from(["body", "webhook-id"]))
    if where == "body":
        index = data.draw(st.integers(0, len(body) - 1))
        flip = data.draw(st.integers(1, 255))
        body = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    else:
        headers["webhook-id"] = headers["webhook-id"] + data.draw(st.text(min_size=1, max_size=3))
    with pytest.raises(InvalidSignatureError):
        verify_request(encode_key(secret), headers, body, clock=lambda: at(timestamp))


@given(SECRETS, TIMESTAMPS, st.integers(min_value=-60, max_value=60))
def test_a_signature_for_another_timestamp_fails(secret: bytes, timestamp: int, shift: int) -> None:
    """Re-dating a signed delivery (within the tolerance) is caught: the time is signed too."""
    assume(shift != 0)
    body = b'{"changeType":"Delete","data":{"changeVersion":"0","id":1}}'
    headers = delivery(secret, timestamp, body)
    headers["webhook-timestamp"] = str(timestamp + shift)
    with pytest.raises(InvalidSignatureError):
        verify(encode_key(secret), headers=headers, body=body, clock=lambda: at(timestamp))


@given(
    SECRETS,
    TIMESTAMPS,
    st.integers(min_value=TOLERANCE_SECONDS + 1, max_value=10 * 365 * 86_400),
    st.sampled_from([-1, 1]),
)
def test_stale_and_future_timestamps_fail_with_the_injected_clock(
    secret: bytes, timestamp: int, distance: int, sign_of: int
) -> None:
    """A genuine delivery further than the tolerance from the clock's now, either way, fails."""
    body = b"{}"
    headers = delivery(secret, timestamp, body)
    now = at(timestamp + sign_of * distance)
    with pytest.raises(TimestampOutOfToleranceError):
        verify_request(encode_key(secret), headers, body, clock=lambda: now)


@given(SECRETS, TIMESTAMPS, st.integers(min_value=-TOLERANCE_SECONDS, max_value=TOLERANCE_SECONDS))
def test_timestamps_within_tolerance_pass_with_the_injected_clock(
    secret: bytes, timestamp: int, offset: int
) -> None:
    """Up to the tolerance away from the clock, either way, a genuine delivery passes."""
    body = b"{}"
    verify(
        encode_key(secret),
        headers=delivery(secret, timestamp, body),
        body=body,
        clock=lambda: at(timestamp + offset),
    )


@given(
    SECRETS,
    st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=5),
    st.data(),
)
def test_one_valid_signature_among_several_passes(
    secret: bytes, others: list[bytes], data: st.DataObject
) -> None:
    """However many wrong ``v1`` signatures surround it, one right one is enough."""
    body, timestamp = b'{"a":1}', 1_700_000_000
    good = sign(secret, msg_id="msg_1", timestamp=timestamp, body=body)
    wrong = [f"v1,{base64.b64encode(o).decode()}" for o in others]
    assume(good not in wrong)
    position = data.draw(st.integers(0, len(wrong)))
    header = " ".join([*wrong[:position], good, *wrong[position:]])
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": header,
    }
    assert verify_request(encode_key(secret), headers, body, clock=lambda: at(timestamp)) == {
        "a": 1
    }
    only_wrong = {**headers, "webhook-signature": " ".join(wrong)}
    with pytest.raises(InvalidSignatureError):
        verify_request(encode_key(secret), only_wrong, body, clock=lambda: at(timestamp))


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
def test_a_genuine_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    """A correctly signed body that is not a JSON object raises ``InvalidPayloadError``."""
    secret = bytes(32)
    headers = delivery(secret, 1_700_000_000, body)
    with pytest.raises(InvalidPayloadError) as caught:
        verify_request(encode_key(secret), headers, body, clock=lambda: at(1_700_000_000))
    assert isinstance(caught.value, SignatureError)


def test_an_explicit_now_wins_over_the_clock() -> None:
    """``now`` is used as given (the existing call style); the clock is only the fallback."""
    secret = bytes(32)
    headers = delivery(secret, 1_700_000_000, b"{}")

    def broken_clock() -> dt.datetime:
        raise AssertionError("the clock must not be read when now is given")

    verify(
        encode_key(secret), headers=headers, body=b"{}", now=at(1_700_000_000), clock=broken_clock
    )
