"""Bodies of the console's API routes; their answers are ``workhooks.documents``."""

from __future__ import annotations

import msgspec

__all__ = ["DisableIn", "RecoverIn", "ResendIn"]


class DisableIn(msgspec.Struct, frozen=True):
    """The body of a disable: why (shown to the tenant)."""

    reason: str = ""


class RecoverIn(msgspec.Struct, frozen=True):
    """The body of a recover: send again everything tried since this ISO 8601 time."""

    since: str


class ResendIn(msgspec.Struct, frozen=True):
    """The body of a resend: the id of the work interruption to send again."""

    recordId: int
