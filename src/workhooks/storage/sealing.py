"""Secrets at rest: AES-256-GCM under a master key that never enters the database.

Webhook signing keys and token signing keys are stored sealed, so read access to the
database (a copied SQLite file, a PostgreSQL replica, a backup) is not enough to sign
events or tokens. A sealed value is ``MAGIC || key id (8) || nonce (12) || ciphertext+tag``;
the key id names the master key that sealed it, so a ring of keys (newest first) can open
values sealed by an older key while a rotation re-seals them. Each value is bound to the
row it belongs to (``context``, the GCM associated data), so sealed values cannot be
swapped between rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from workhooks.errors import MasterKeyError

__all__ = [
    "MASTER_KEY_SIZE",
    "PREFIX_SIZE",
    "MasterKeyError",
    "Sealer",
    "encode_master_key",
    "new_master_key",
    "parse_master_keys",
    "signing_key_context",
    "webhook_context",
]

MASTER_KEY_SIZE = 32
MAGIC = b"whs1"
_KEY_ID_SIZE = 8
_NONCE_SIZE = 12
_HEADER = len(MAGIC) + _KEY_ID_SIZE
PREFIX_SIZE = _HEADER


def new_master_key() -> bytes:
    """A fresh random master key."""
    return secrets.token_bytes(MASTER_KEY_SIZE)


def encode_master_key(key: bytes) -> str:
    """The text form of a master key (standard base64), as settings and key files hold it."""
    return base64.b64encode(key).decode("ascii")


def parse_master_keys(text: str, *, source: str) -> list[bytes]:
    """Read master keys, newest first, separated by commas or newlines; ``source`` names
    the setting or file in errors."""
    keys = []
    for word in text.replace(",", "\n").split():
        try:
            key = base64.b64decode(word, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MasterKeyError(f"{source}: a master key is not base64") from exc
        if len(key) != MASTER_KEY_SIZE:
            raise MasterKeyError(
                f"{source}: a master key must be {MASTER_KEY_SIZE} bytes (base64 of "
                f"{MASTER_KEY_SIZE} random bytes, e.g. from `workhooks master-key create`)"
            )
        keys.append(key)
    if not keys:
        raise MasterKeyError(f"{source}: no master key given")
    return keys


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"workhooks master key id\x00" + key).digest()[:_KEY_ID_SIZE]


class Sealer:
    """Seals with the newest master key, opens with any key of the ring."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise MasterKeyError("at least one master key is needed")
        self._ring = {_key_id(k): AESGCM(k) for k in keys}
        self._current = _key_id(keys[0])

    @property
    def current_key_id(self) -> str:
        """The id (hex) of the key that seals: also what ``workhooks master-key`` prints."""
        return self._current.hex()

    @staticmethod
    def is_sealed(value: bytes) -> bool:
        """Whether ``value`` is a sealed value (else it is clear text from before sealing)."""
        return value.startswith(MAGIC)

    def seal(self, plain: bytes, *, context: str) -> bytes:
        """Encrypt ``plain`` for the row named by ``context``."""
        nonce = os.urandom(_NONCE_SIZE)
        cipher = self._ring[self._current]
        return MAGIC + self._current + nonce + cipher.encrypt(nonce, plain, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        """Decrypt a value sealed for ``context``; ``MasterKeyError`` if no key of the ring can."""
        if not self.is_sealed(sealed):
            raise MasterKeyError(f"{context}: the stored secret is not sealed")
        key_id = sealed[len(MAGIC) : _HEADER]
        cipher = self._ring.get(key_id)
        if cipher is None:
            raise MasterKeyError(
                f"{context}: sealed with master key {key_id.hex()}, which is not configured "
                f"(configured: {', '.join(k.hex() for k in self._ring)})"
            )
        nonce = sealed[_HEADER : _HEADER + _NONCE_SIZE]
        try:
            return cipher.decrypt(nonce, sealed[_HEADER + _NONCE_SIZE :], context.encode())
        except InvalidTag as exc:
            raise MasterKeyError(f"{context}: the sealed secret was altered") from exc

    @property
    def current_prefix(self) -> bytes:
        """The first bytes of every value sealed by the newest key (what SQL compares)."""
        return MAGIC + self._current

    def reseal(self, value: bytes, *, context: str) -> bytes:
        """Seal ``value`` anew under the newest key; a clear value (from before) is sealed."""
        plain = self.open(value, context=context) if self.is_sealed(value) else value
        return self.seal(plain, context=context)

    def check_prefixes(self, prefixes: Iterable[bytes], *, what: str) -> None:
        """Raise ``MasterKeyError`` unless the ring opens values with these first bytes."""
        missing = sorted(
            {
                p[len(MAGIC) : _HEADER].hex()
                for p in prefixes
                if self.is_sealed(p) and p[len(MAGIC) : _HEADER] not in self._ring
            }
        )
        if missing:
            raise MasterKeyError(
                f"{what} are sealed with master key {', '.join(missing)}, which is not "
                f"configured (configured: {', '.join(k.hex() for k in self._ring)}); "
                "set WORKHOOKS_MASTER_KEY or WORKHOOKS_MASTER_KEY_FILE to the key(s) they "
                "were sealed with"
            )


def webhook_context(webhook_id: str) -> str:
    """The row a webhook's signing key is bound to."""
    return f"webhook:{webhook_id}"


def signing_key_context(kid: str) -> str:
    """The row a token signing key is bound to."""
    return f"signing-key:{kid}"
