"""Path conventions shared by the routes."""

from __future__ import annotations

from workhooks.domain.records import MAX_RECORD_ID
from workhooks.errors import NotFoundError

__all__ = ["API_PREFIX", "MAX_URI_LENGTH", "OPERATOR_PREFIX", "path_id"]

API_PREFIX = "/connector/protimeapi/api/v1"
# The routes of people who run workhooks (scope workhooks-operator): not Protime's API.
OPERATOR_PREFIX = "/operator/v1"
MAX_URI_LENGTH = 4096


def path_id(text: str, *, what: str) -> int:
    """A record id from the path: a positive 64-bit integer in canonical form, else 404.

    Only the canonical spelling names a record: ``01`` is not record 1 (no id is written so).
    """
    if (
        not text.isascii()
        or not text.isdigit()
        or text.startswith("0")
        or not 1 <= int(text) <= MAX_RECORD_ID
    ):
        raise NotFoundError(f"{what} {text[:40]!r} does not exist")
    return int(text)
