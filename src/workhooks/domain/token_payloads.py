"""What the server's own tokens carry, typed, with their wire keys written once.

Each payload names its ``PURPOSE`` (bound into the token's MAC by ``TokenCodec``) and maps
itself to and from the JSON object inside the token. The keys are short because the tokens
travel in URLs and cookies; they are part of the wire format, so tokens handed out by an
earlier release decode to the same values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar, Self

__all__ = [
    "DeltaCursor",
    "HistoryCursor",
    "ListCursor",
    "PortalLinkClaims",
    "SessionClaims",
]


def _seconds(at: dt.datetime) -> int:
    return int(at.timestamp())


def _instant(seconds: object) -> dt.datetime:
    if not isinstance(seconds, int):
        raise TypeError("a time in whole seconds is needed")
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _aware(text: object) -> dt.datetime:
    at = dt.datetime.fromisoformat(str(text))
    if at.tzinfo is None:
        raise ValueError("a time with its offset is needed")
    return at


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCursor:
    """Where the next page of a list starts: after ``(after_date, after_id)``.

    ``scope`` binds it to the request's filter; ``start_version`` is the head version at the
    start of a ``?delta`` walk (None without delta); ``issued_at`` bounds its lifetime.
    """

    PURPOSE: ClassVar[str] = "list"
    scope: str
    after_date: dt.date
    after_id: int
    start_version: int | None
    issued_at: dt.datetime

    def to_wire(self) -> dict[str, Any]:
        """The token's JSON object."""
        return {
            "s": self.scope,
            "d": self.after_date.isoformat(),
            "i": self.after_id,
            "v": self.start_version,
            "t": _seconds(self.issued_at),
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Self:
        """Read the token's JSON object (``KeyError``, ``TypeError``, ``ValueError`` if odd)."""
        version = wire.get("v")
        return cls(
            scope=str(wire["s"]),
            after_date=dt.date.fromisoformat(wire["d"]),
            after_id=int(wire["i"]),
            start_version=None if version is None else int(version),
            issued_at=_instant(wire.get("t", 0)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeltaCursor:
    """A delta link: the changes after ``version`` for a synced date range and references."""

    PURPOSE: ClassVar[str] = "delta"
    version: int
    date_from: dt.date
    date_to: dt.date
    references: str
    issued_at: dt.datetime

    def to_wire(self) -> dict[str, Any]:
        """The token's JSON object."""
        return {
            "v": self.version,
            "f": self.date_from.isoformat(),
            "u": self.date_to.isoformat(),
            "r": self.references,
            "t": _seconds(self.issued_at),
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Self:
        """Read the token's JSON object (``KeyError``, ``TypeError``, ``ValueError`` if odd)."""
        return cls(
            version=int(wire["v"]),
            date_from=dt.date.fromisoformat(wire["f"]),
            date_to=dt.date.fromisoformat(wire["u"]),
            references=str(wire["r"]),
            issued_at=_instant(wire["t"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryCursor:
    """Where the next page of a webhook's delivery history starts (newest first)."""

    PURPOSE: ClassVar[str] = "deliveries"
    scope: str
    last_attempt_at: dt.datetime
    delivery_id: str

    def to_wire(self) -> dict[str, Any]:
        """The token's JSON object."""
        return {
            "scope": self.scope,
            "at": self.last_attempt_at.isoformat(),
            "id": self.delivery_id,
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Self:
        """Read the token's JSON object (``KeyError``, ``TypeError``, ``ValueError`` if odd)."""
        return cls(
            scope=str(wire["scope"]),
            last_attempt_at=dt.datetime.fromisoformat(str(wire["at"])),
            delivery_id=str(wire["id"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionClaims:
    """A console or portal session cookie: who, its CSRF nonce, until when."""

    PURPOSE: ClassVar[str] = "console-session"
    actor: str
    nonce: str
    expires_at: dt.datetime

    def to_wire(self) -> dict[str, Any]:
        """The token's JSON object."""
        return {"actor": self.actor, "nonce": self.nonce, "exp": self.expires_at.isoformat()}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Self:
        """Read the token's JSON object (``KeyError``, ``TypeError``, ``ValueError`` if odd)."""
        return cls(
            actor=str(wire["actor"]), nonce=str(wire["nonce"]), expires_at=_aware(wire["exp"])
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalLinkClaims:
    """A link that signs its bearer in to a tenant's portal until ``expires_at``."""

    PURPOSE: ClassVar[str] = "portal-link"
    actor: str
    expires_at: dt.datetime

    def to_wire(self) -> dict[str, Any]:
        """The token's JSON object."""
        return {"actor": self.actor, "exp": self.expires_at.isoformat()}

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Self:
        """Read the token's JSON object (``KeyError``, ``TypeError``, ``ValueError`` if odd)."""
        return cls(actor=str(wire.get("actor", "")), expires_at=_aware(wire["exp"]))
