"""Opaque, tamper-proof tokens (continuation and delta tokens, sessions, portal links).

A token is ``base64url(json payload) "." base64url(HMAC-SHA256)``. The MAC covers the
payload, a purpose and the tenant, so a token forged, altered, meant for another purpose
or taken from another tenant is refused. The key is passed in: the domain holds no secret.
``seal`` and ``open`` take the typed payloads of ``token_payloads.py``, which name their
purpose and their wire keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any, ClassVar, Protocol, Self, TypeVar

from workhooks.errors import InvalidContinuationTokenError

__all__ = ["MAX_TOKEN_LENGTH", "TokenCodec", "TokenPayload"]

MAX_TOKEN_LENGTH = 2048


class TokenPayload(Protocol):
    """What a token carries: its purpose and its mapping to and from the token's JSON."""

    PURPOSE: ClassVar[str]

    def to_wire(self) -> dict[str, Any]:
        """The token's JSON object."""
        ...

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Self:
        """Read the token's JSON object; ``KeyError``, ``TypeError`` or ``ValueError`` if odd."""
        ...


P = TypeVar("P", bound=TokenPayload)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    """Signs and checks tokens with one server key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a token key needs at least 16 bytes")
        self._key = key

    def _mac(self, purpose: str, tenant: str, body: bytes) -> bytes:
        message = b"\x00".join((purpose.encode(), tenant.encode(), body))
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def encode(self, payload: dict[str, Any], *, purpose: str, tenant: str) -> str:
        """Return a token carrying the JSON ``payload`` for ``purpose`` and ``tenant``."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(purpose, tenant, body))}"

    def decode(self, token: str, *, purpose: str, tenant: str) -> dict[str, Any]:
        """Return the payload of a token made here for ``purpose`` and ``tenant``, or raise."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1 or not token.isascii():
            raise InvalidContinuationTokenError.malformed()
        body_text, _, mac_text = token.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError) as exc:
            raise InvalidContinuationTokenError.malformed() from exc
        # Only the canonical spelling is accepted: unused base64 bits may not vary.
        if _b64(body) != body_text or _b64(mac) != mac_text:
            raise InvalidContinuationTokenError.malformed()
        if not hmac.compare_digest(mac, self._mac(purpose, tenant, body)):
            raise InvalidContinuationTokenError.malformed()
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise InvalidContinuationTokenError.malformed()
        return payload

    def seal(self, payload: TokenPayload, *, tenant: str) -> str:
        """Return a token carrying ``payload`` for ``tenant``, bound to its purpose."""
        return self.encode(payload.to_wire(), purpose=payload.PURPOSE, tenant=tenant)

    def open(self, kind: type[P], token: str, *, tenant: str) -> P:
        """Return the ``kind`` payload of a token sealed here for ``tenant``, or raise."""
        wire = self.decode(token, purpose=kind.PURPOSE, tenant=tenant)
        try:
            return kind.from_wire(wire)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidContinuationTokenError.malformed() from exc
