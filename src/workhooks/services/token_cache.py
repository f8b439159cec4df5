"""Checked access tokens, kept until they expire so each signature is verified once.

Only what the signature proves is cached (tenant, client, scopes, expiry); whether the
client is still allowed is asked on every request, so a revocation is never hidden by it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["TokenCache"]

T = TypeVar("T")


class TokenCache(Generic[T]):
    """Verified tokens and what they carry, each until its expiry (Unix seconds).

    At most ``size`` tokens are kept: when full, expired ones go first, then the oldest.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: dict[str, tuple[T, int]] = {}

    def get(self, token: str, *, now: float) -> T | None:
        """What ``token`` carries, if it was verified and has not expired."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[1] <= now:
            del self._entries[token]
            return None
        return entry[0]

    def put(self, token: str, value: T, *, expires_at: int, now: float) -> None:
        """Keep a verified token until ``expires_at``."""
        if len(self._entries) >= self._size:
            for key in [k for k, (_, exp) in self._entries.items() if exp <= now]:
                del self._entries[key]
            if len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
        self._entries[token] = (value, expires_at)
