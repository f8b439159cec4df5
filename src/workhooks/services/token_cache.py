"""Checked access tokens, kept until they expire so each signature is verified once.

Only what the signature proves is cached (the token's claims); whether the client is still
allowed is asked on every request, so a revocation is never hidden by it.
"""

from __future__ import annotations

import datetime as dt

from workhooks.services.access_tokens import AccessClaims

__all__ = ["TokenCache"]


class TokenCache:
    """Verified tokens and their claims, each until the token expires.

    At most ``size`` tokens are kept: when full, expired ones go first, then the oldest.
    """

    def __init__(self, *, size: int = 10_000) -> None:
        self._size = size
        self._entries: dict[str, AccessClaims] = {}

    def get(self, token: str, *, now: dt.datetime) -> AccessClaims | None:
        """The claims of ``token``, if it was verified and has not expired."""
        claims = self._entries.get(token)
        if claims is None:
            return None
        if claims.expires_at <= now:
            del self._entries[token]
            return None
        return claims

    def put(self, token: str, claims: AccessClaims, *, now: dt.datetime) -> None:
        """Keep a verified token until it expires."""
        if len(self._entries) >= self._size:
            for key in [k for k, c in self._entries.items() if c.expires_at <= now]:
                del self._entries[key]
            if len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]
        self._entries[token] = claims
