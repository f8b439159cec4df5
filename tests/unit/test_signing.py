"""Tests for Standard Webhooks signing (``workhooks.domain.signing``) and verification.

Verification is ``workhooks.client.signatures.verify``; the independent ``standardwebhooks``
package checks that both sides speak the standard, not just each other.
"""

from __future__ import annotations

import base64
import datetime as dt
import string
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from workhooks.client.signatures import (
    DEFAULT_TOLERANCE,
    InvalidSignatureError,
    MissingHeaderError,
    SignatureError,
    TimestampOutOfToleranceError,
    verify,
)
from workhooks.domain.signing import (
    KEY_PREFIX,
    KEY_SIZE,
    InvalidKeyError,
    decode_key,
    encode_key,
    sign,
    signature_matches,
)

SECRETS = st.binary(min_size=1, max_size=64)
MESSAGE_IDS = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1)
TIMESTAMPS = st.integers(min_value=0, max_value=4_102_444_800)  # up to 2100
BODIES = st.binary(max_size=512)

SECRET = bytes(range(KEY_SIZE))
KEY = encode_key(SECRET)
TIMESTAMP = 1_700_000_000
BODY = b'{"changeType":"Delete","data":{"changeVersion":"00000000000000000001","id":1}}'


def at(timestamp: float) -> dt.datetime:
    """Return the aware UTC instant of a Unix timestamp."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def headers(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    """Return the three ``webhook-*`` headers of a delivery."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def signed_headers(
    secret: bytes = SECRET, *, msg_id: str = "msg_1", body: bytes = BODY
) -> dict[str, str]:
    """Return headers for ``body`` signed with ``secret`` at ``TIMESTAMP``."""
    return headers(msg_id, TIMESTAMP, sign(secret, msg_id=msg_id, timestamp=TIMESTAMP, body=body))


# -- keys ------------------------------------------------------------------------------------


@given(SECRETS)
def test_keys_round_trip_with_and_without_prefix(secret: bytes) -> None:
    """A ``whsec_`` key decodes to its raw bytes, with or without the prefix."""
    key = encode_key(secret)
    assert key.startswith(KEY_PREFIX)
    assert decode_key(key) == secret
    assert decode_key(key.removeprefix(KEY_PREFIX)) == secret


@pytest.mark.parametrize("key", ["whsec_not base64!", "whsec_abc", "whsec_%%%%"])
def test_malformed_keys_are_refused(key: str) -> None:
    """A key that is not base64 raises ``InvalidKeyError``, and verify reports it."""
    with pytest.raises(InvalidKeyError):
        decode_key(key)
    with pytest.raises(SignatureError):
        verify(key, headers=signed_headers(), body=BODY, now=at(TIMESTAMP))


# -- sign and verify -------------------------------------------------------------------------


def test_signature_is_v1_and_base64_of_a_sha256_mac() -> None:
    """A signature is ``v1,`` followed by the base64 of 32 bytes."""
    signature = sign(SECRET, msg_id="msg_1", timestamp=TIMESTAMP, body=BODY)
    version, _, value = signature.partition(",")
    assert version == "v1"
    assert len(base64.b64decode(value, validate=True)) == 32


@given(secret=SECRETS, msg_id=MESSAGE_IDS, timestamp=TIMESTAMPS, body=BODIES)
def test_sign_then_verify_round_trips(
    secret: bytes, msg_id: str, timestamp: int, body: bytes
) -> None:
    """What we sign verifies under the same key at the time of signing."""
    signature = sign(secret, msg_id=msg_id, timestamp=timestamp, body=body)
    verify(
        encode_key(secret),
        headers=headers(msg_id, timestamp, signature),
        body=body,
        now=at(timestamp),
    )


@given(body=BODIES.filter(bool), data=st.data())
def test_any_changed_byte_of_the_body_fails(body: bytes, data: st.DataObject) -> None:
    """Flipping any bits of any one byte of the body makes verification fail."""
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="index")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="flip")
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(InvalidSignatureError):
        verify(KEY, headers=signed_headers(body=body), body=tampered, now=at(TIMESTAMP))


@given(body=BODIES, extra=st.binary(min_size=1, max_size=8))
def test_appended_or_truncated_body_fails(body: bytes, extra: bytes) -> None:
    """A body with bytes added at the end, or one cut short, does not verify."""
    with pytest.raises(InvalidSignatureError):
        verify(KEY, headers=signed_headers(body=body), body=body + extra, now=at(TIMESTAMP))
    with pytest.raises(InvalidSignatureError):
        verify(KEY, headers=signed_headers(body=body + extra), body=body, now=at(TIMESTAMP))


@given(first=SECRETS, second=SECRETS)
def test_wrong_key_fails(first: bytes, second: bytes) -> None:
    """A signature made with one key does not verify under a different key."""
    assume(first != second)
    with pytest.raises(InvalidSignatureError):
        verify(encode_key(second), headers=signed_headers(first), body=BODY, now=at(TIMESTAMP))


def test_signature_binds_message_id_and_timestamp() -> None:
    """Replaying a signature with another ``webhook-id`` or timestamp fails."""
    good = signed_headers(msg_id="msg_1")
    other_id = {**good, "webhook-id": "msg_2"}
    with pytest.raises(InvalidSignatureError):
        verify(KEY, headers=other_id, body=BODY, now=at(TIMESTAMP))
    other_time = {**good, "webhook-timestamp": str(TIMESTAMP + 1)}
    with pytest.raises(InvalidSignatureError):
        verify(KEY, headers=other_time, body=BODY, now=at(TIMESTAMP))


@pytest.mark.parametrize(
    "offset",
    [-DEFAULT_TOLERANCE, dt.timedelta(0), DEFAULT_TOLERANCE],
    ids=["oldest", "now", "newest"],
)
def test_timestamps_within_tolerance_pass(offset: dt.timedelta) -> None:
    """A timestamp up to the tolerance away from now, either side, is accepted."""
    verify(KEY, headers=signed_headers(), body=BODY, now=at(TIMESTAMP) - offset)


@pytest.mark.parametrize(
    "now",
    [
        at(TIMESTAMP) + DEFAULT_TOLERANCE + dt.timedelta(seconds=1),
        at(TIMESTAMP) - DEFAULT_TOLERANCE - dt.timedelta(seconds=1),
        at(TIMESTAMP + 86_400),
        at(0),
    ],
    ids=["stale", "future", "a-day-old", "far-future"],
)
def test_stale_and_future_timestamps_fail(now: dt.datetime) -> None:
    """A correctly signed delivery outside the tolerance window is refused as a replay."""
    with pytest.raises(TimestampOutOfToleranceError):
        verify(KEY, headers=signed_headers(), body=BODY, now=now)


def test_tolerance_is_a_parameter() -> None:
    """A custom tolerance widens or narrows the accepted window."""
    late = at(TIMESTAMP + 60)
    verify(KEY, headers=signed_headers(), body=BODY, now=late, tolerance=dt.timedelta(minutes=1))
    with pytest.raises(TimestampOutOfToleranceError):
        verify(
            KEY, headers=signed_headers(), body=BODY, now=late, tolerance=dt.timedelta(seconds=59)
        )


def test_one_valid_signature_among_several_passes() -> None:
    """Key rotation: a header with several signatures passes if any ``v1`` one matches."""
    good = sign(SECRET, msg_id="msg_1", timestamp=TIMESTAMP, body=BODY)
    wrong = sign(b"other key", msg_id="msg_1", timestamp=TIMESTAMP, body=BODY)
    header = f"{wrong} v1,not-base64!! v1a,{good.split(',')[1]} {good}"
    verify(KEY, headers=headers("msg_1", TIMESTAMP, header), body=BODY, now=at(TIMESTAMP))
    assert signature_matches(SECRET, msg_id="msg_1", timestamp=TIMESTAMP, body=BODY, header=header)


@pytest.mark.parametrize(
    "header",
    ["", "v1,", "v1,not-base64!!", "v2,{value}", "V1,{value}", "{value}", "v1,{wrong}"],
)
def test_headers_without_a_matching_v1_signature_fail(header: str) -> None:
    """Only a ``v1`` signature of the right MAC counts; other versions and junk do not."""
    value = sign(SECRET, msg_id="msg_1", timestamp=TIMESTAMP, body=BODY).split(",")[1]
    wrong = sign(b"other", msg_id="msg_1", timestamp=TIMESTAMP, body=BODY).split(",")[1]
    filled = header.format(value=value, wrong=wrong)
    with pytest.raises(InvalidSignatureError):
        verify(KEY, headers=headers("msg_1", TIMESTAMP, filled), body=BODY, now=at(TIMESTAMP))


def test_header_names_are_case_insensitive() -> None:
    """HTTP header names are matched regardless of case."""
    mixed = {key.title(): value for key, value in signed_headers().items()}
    verify(KEY, headers=mixed, body=BODY, now=at(TIMESTAMP))


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails(missing: str) -> None:
    """A delivery lacking any ``webhook-*`` header is refused."""
    partial = {k: v for k, v in signed_headers().items() if k != missing}
    with pytest.raises(MissingHeaderError, match=missing):
        verify(KEY, headers=partial, body=BODY, now=at(TIMESTAMP))


@pytest.mark.parametrize("timestamp", ["", "soon", "1.7e9", "0x10"])
def test_non_integer_timestamp_fails(timestamp: str) -> None:
    """A ``webhook-timestamp`` that is not an integer is refused before any MAC check."""
    bad = {**signed_headers(), "webhook-timestamp": timestamp}
    with pytest.raises(MissingHeaderError):
        verify(KEY, headers=bad, body=BODY, now=at(TIMESTAMP))


# -- cross-check with the standardwebhooks reference library --------------------------------

TEXT_BODIES = st.text(max_size=256)


@given(secret=SECRETS, msg_id=MESSAGE_IDS, text=TEXT_BODIES)
def test_our_signature_verifies_with_standardwebhooks(
    secret: bytes, msg_id: str, text: str
) -> None:
    """The reference library accepts what we sign (it reads the real clock, so sign for now)."""
    now = int(time.time())
    body = text.encode("utf-8")
    signature = sign(secret, msg_id=msg_id, timestamp=now, body=body)
    reference = Webhook(encode_key(secret))
    reference.verify(body, headers(msg_id, now, signature), json_parse=False)


@given(secret=SECRETS, msg_id=MESSAGE_IDS, timestamp=TIMESTAMPS, text=TEXT_BODIES)
def test_standardwebhooks_signature_verifies_with_us(
    secret: bytes, msg_id: str, timestamp: int, text: str
) -> None:
    """We accept what the reference library signs, and produce the very same signature."""
    reference = Webhook(encode_key(secret))
    theirs = reference.sign(msg_id=msg_id, timestamp=at(timestamp), data=text)
    body = text.encode("utf-8")
    verify(
        encode_key(secret), headers=headers(msg_id, timestamp, theirs), body=body, now=at(timestamp)
    )
    assert theirs == sign(secret, msg_id=msg_id, timestamp=timestamp, body=body)


def test_standardwebhooks_rejects_our_signature_under_another_key() -> None:
    """The cross-check can fail: the reference library refuses our signature under a wrong key."""
    now = int(time.time())
    signature = sign(SECRET, msg_id="msg_1", timestamp=now, body=BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(encode_key(b"another key")).verify(BODY, headers("msg_1", now, signature))
