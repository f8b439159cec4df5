"""Standard Webhooks v1 signatures: keys, signing and constant-time verification.

The signed content is ``"<webhook-id>.<webhook-timestamp>.<raw body>"``, signed with
HMAC-SHA256 under the webhook's 32-byte key; the header value is ``v1,<base64>``, several
separated by spaces. Keys are shown to users as ``whsec_<base64 of the key>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = [
    "KEY_PREFIX",
    "KEY_SIZE",
    "InvalidKeyError",
    "decode_key",
    "delivery_headers",
    "encode_key",
    "sign",
    "signature_matches",
]

KEY_PREFIX = "whsec_"
KEY_SIZE = 32


class InvalidKeyError(ValueError):
    """A webhook key is not ``whsec_`` followed by base64."""


def encode_key(secret: bytes) -> str:
    """Render a raw key as ``whsec_<base64>``."""
    return KEY_PREFIX + base64.b64encode(secret).decode("ascii")


def decode_key(key: str) -> bytes:
    """Return the raw bytes of a ``whsec_`` key (the prefix is optional)."""
    text = key.removeprefix(KEY_PREFIX)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise InvalidKeyError("a webhook key is 'whsec_' followed by base64") from exc


def _mac(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, body)
    return hmac.new(secret, signed, hashlib.sha256).digest()


def sign(secret: bytes, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64>`` signature of one delivery."""
    return "v1," + base64.b64encode(_mac(secret, msg_id, timestamp, body)).decode("ascii")


def delivery_headers(secret: bytes, *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one POST: ``webhook-id``, ``-timestamp``, ``-signature``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def signature_matches(
    secret: bytes, *, msg_id: str, timestamp: int, body: bytes, header: str
) -> bool:
    """Tell whether any ``v1`` signature in ``header`` matches (constant-time per candidate)."""
    expected = _mac(secret, msg_id, timestamp, body)
    for candidate in header.split():
        version, _, value = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except binascii.Error:
            continue
        if hmac.compare_digest(expected, given):
            return True
    return False
