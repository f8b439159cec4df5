"""Verify Standard Webhooks v1 signatures of incoming deliveries.

The clock is injectable (``now`` or ``clock``), so the timestamp tolerance is testable.
``verify_request`` is the framework-agnostic helper for a receiver: give it the request's
headers (any mapping, names in any case) and raw body; it returns the verified event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgspec

from workhooks.client.options import system_clock
from workhooks.domain.signing import InvalidKeyError, decode_key, signature_matches

__all__ = [
    "DEFAULT_TOLERANCE",
    "InvalidPayloadError",
    "InvalidSignatureError",
    "MissingHeaderError",
    "SignatureError",
    "TimestampOutOfToleranceError",
    "Verifier",
    "verify",
    "verify_request",
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


class InvalidPayloadError(SignatureError):
    """The signature is good but the body is not a JSON object (not an event of this API)."""


class Verifier(Protocol):
    """How a consumer checks a delivery: ``verify_request`` (Standard Webhooks v1) by default.

    Another signing scheme plugs in as any callable of this shape: it returns the event
    (``{"changeType", "data"}``) or raises a ``SignatureError`` (``InvalidPayloadError`` for a
    genuine body that is not an event), judging freshness by ``clock`` within ``tolerance``.
    """

    def __call__(
        self,
        key: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        clock: Callable[[], dt.datetime],
        tolerance: dt.timedelta,
    ) -> dict[str, Any]:
        """Return the verified event, or raise ``SignatureError``."""
        ...


def _header(headers: Mapping[str, str], name: str) -> str:
    direct = headers.get(name)
    if direct is not None:
        return direct
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise MissingHeaderError(f"the {name} header is missing")


def verify(
    key: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    now: dt.datetime | None = None,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
    clock: Callable[[], dt.datetime] = system_clock,
) -> None:
    """Raise a ``SignatureError`` unless the delivery is authentic and fresh.

    Freshness is judged at ``now``, else at ``clock()``: ``webhook-timestamp`` may be at
    most ``tolerance`` away, either side. Any one ``v1`` signature in the header may match.
    """
    msg_id = _header(headers, "webhook-id")
    raw_timestamp = _header(headers, "webhook-timestamp")
    signature = _header(headers, "webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise MissingHeaderError("webhook-timestamp is not an integer") from exc
    when = now if now is not None else clock()
    if abs(when.timestamp() - timestamp) > tolerance.total_seconds():
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


def verify_request(
    key: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    clock: Callable[[], dt.datetime] = system_clock,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """Verify a delivery and return its event (``{"changeType", "data"}``) as a dict.

    Works with any framework: pass the request headers and the raw body bytes, before any
    JSON parsing (re-encoded JSON would not match the signature).
    """
    verify(key, headers=headers, body=body, clock=clock, tolerance=tolerance)
    try:
        event = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidPayloadError("the body is not JSON") from exc
    if not isinstance(event, dict):
        raise InvalidPayloadError("the body is not a JSON object")
    return event
