"""Verify Standard Webhooks v1 signatures of incoming deliveries.

The clock is a parameter (``now``), so the timestamp tolerance is testable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from workhooks.domain.signing import InvalidKeyError, decode_key, signature_matches

__all__ = [
    "DEFAULT_TOLERANCE",
    "InvalidSignatureError",
    "MissingHeaderError",
    "SignatureError",
    "TimestampOutOfToleranceError",
    "verify",
]

DEFAULT_TOLERANCE = dt.timedelta(minutes=5)


class SignatureError(Exception):
    """A delivery failed verification; do not process it."""


class MissingHeaderError(SignatureError):
    """A ``webhook-*`` header is missing or malformed."""


class TimestampOutOfToleranceError(SignatureError):
    """``webhook-timestamp`` is too far from now (a replay, or a badly wrong clock)."""


class InvalidSignatureError(SignatureError):
    """No signature in ``webhook-signature`` matches the body under this key."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise MissingHeaderError(f"the {name} header is missing")


def verify(
    key: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    now: dt.datetime,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raise a ``SignatureError`` unless the delivery is authentic and fresh."""
    msg_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signature = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise MissingHeaderError("webhook-timestamp is not an integer") from exc
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise TimestampOutOfToleranceError(
            f"webhook-timestamp {timestamp} is more than {tolerance} away from now"
        )
    try:
        secret = decode_key(key)
    except InvalidKeyError as exc:
        raise SignatureError(str(exc)) from exc
    if not signature_matches(
        secret, msg_id=msg_id, timestamp=timestamp, body=body, header=signature
    ):
        raise InvalidSignatureError("no signature matches this delivery")
