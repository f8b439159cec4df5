"""Operators of a workhooks server, their passwords, and the audit log of what they did.

Passwords are chosen by people, so they are hashed with scrypt, a memory-hard KDF: a
leaked table costs an attacker memory and time for every guess.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AuditAction",
    "AuditEntry",
    "ConsoleSession",
    "Operator",
    "ScryptCost",
    "client_actor",
    "hash_password",
    "password_matches",
]

MIN_PASSWORD_LENGTH = 12
_SCHEME = "scrypt"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScryptCost:
    """The scrypt work factors: ``n`` (CPU/memory), ``r`` (block size), ``p`` (parallelism).

    The default takes about 32 MiB and a few tens of milliseconds per hash.
    """

    n: int = 2**15
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        """The memory scrypt needs for these factors, with room to spare."""
        return 2 * 128 * self.r * (self.n + self.p + 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operator:
    """A person who runs this workhooks server; signs in to the console."""

    name: str
    password_hash: str = field(repr=False)
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSession:
    """A signed-in session of the console or a portal, as the server keeps it.

    ``id`` is a hash of the session's secret nonce; the session holds while it is neither
    ended (signed out, ended by its owner, a new password, a disabled operator or a revoked
    client) nor expired.
    """

    id: str
    actor: str
    tenant: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None = None


def client_actor(client_id: str) -> str:
    """How a tenant's API client is named as an actor: in the audit log, and as the owner of
    the portal sessions it signed in (which its revocation or a new secret ends)."""
    return f"client:{client_id}"


class AuditAction(StrEnum):
    """What an operator or a tenant's client did; values are what the audit log shows."""

    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    END_SESSIONS = "end-sessions"
    OPERATOR_DISABLE = "operator-disable"
    DISABLE = "disable"
    RETRY_NOW = "retry-now"
    RECOVER = "recover"
    RESEND = "resend"
    TEST_EVENT = "test-event"
    PORTAL_LINK = "portal-link"
    CLIENT_CREATE = "client-create"
    CLIENT_REVOKE = "client-revoke"
    CLIENT_ROTATE = "client-rotate"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One line of the audit log: who did what to which webhook, when."""

    at: dt.datetime
    actor: str
    action: AuditAction
    tenant: str | None = None
    webhook_id: str | None = None
    detail: str = ""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes, cost: ScryptCost | None = None) -> str:
    """Hash a password for storage: ``scrypt$n$r$p$salt$hash`` (base64 parts).

    The caller passes a random ``salt`` (16 bytes): the domain draws no randomness itself.
    """
    cost = cost or ScryptCost()
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=cost.maxmem
    )
    return f"{_SCHEME}${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, password_hash: str) -> bool:
    """Whether ``password`` hashes to ``password_hash`` (constant-time comparison)."""
    parts = password_hash.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        return False
    try:
        cost = ScryptCost(n=int(parts[1]), r=int(parts[2]), p=int(parts[3]))
        salt = base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(hash_password(password, salt=salt, cost=cost), password_hash)
