"""External references: ``(people,@badge-number)(people,HRMID)`` and their rules.

Predefined references start with ``@`` and map to a person's own fields; custom references
are free keys whose values the integrator manages, unique per key within a tenant.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from workhooks.errors import InvalidRequestError

__all__ = [
    "BADGE_NUMBER",
    "EMPLOYEE_NUMBER",
    "MAX_REFERENCE_VALUE_LENGTH",
    "PREDEFINED",
    "ExternalReference",
    "custom_keys",
    "is_acceptable_value",
    "parse_external_references",
    "reference_values",
    "references_by_collection",
    "render_external_references",
    "validate_custom_key",
    "validate_value",
]

BADGE_NUMBER = "@badge-number"
EMPLOYEE_NUMBER = "@employee-number"
PREDEFINED = frozenset({BADGE_NUMBER, EMPLOYEE_NUMBER})
MAX_REFERENCE_VALUE_LENGTH = 256
_MAX_REFERENCES = 16
_COLLECTIONS = frozenset({"people"})
_UNPRINTABLE = frozenset({"Cc", "Zl", "Zp"})  # control characters, line/paragraph separators
_CUSTOM_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ITEM = re.compile(r"\(\s*([^,()\s]*)\s*,\s*([^,()\s]*)\s*\)")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalReference:
    """One requested reference: a collection (only ``people`` here) and a key."""

    collection: str
    key: str

    @property
    def predefined(self) -> bool:
        """Whether the key is one of the ``@`` references."""
        return self.key.startswith("@")


def _invalid(text: str, reason: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid externalReferences {text[:200]!r}", reasons=(f"externalReferences: {reason}",)
    )


def validate_custom_key(key: str) -> str:
    """Return ``key`` if it may name a custom reference, else raise ``InvalidRequestError``."""
    if not _CUSTOM_KEY.fullmatch(key):
        raise InvalidRequestError(
            f"Invalid custom reference key {key[:80]!r}",
            reasons=(
                "key: 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit",
            ),
        )
    return key


def is_acceptable_value(value: str) -> bool:
    """Whether ``value`` may be a reference value (custom or predefined, such as a badge
    number): at most 256 characters and no control characters (NUL included), which
    every store keeps alike."""
    return len(value) <= MAX_REFERENCE_VALUE_LENGTH and not any(
        unicodedata.category(ch) in _UNPRINTABLE for ch in value
    )


def validate_value(value: str) -> str:
    """Return a reference value if it is acceptable, else raise ``InvalidRequestError``."""
    if not is_acceptable_value(value):
        raise InvalidRequestError(
            "Invalid reference value",
            reasons=(
                f"value: at most {MAX_REFERENCE_VALUE_LENGTH} characters, no control characters",
            ),
        )
    return value


def _reference(text: str, collection: str, key: str) -> ExternalReference:
    if collection not in _COLLECTIONS:
        raise _invalid(text, f"unknown collection {collection!r}; use one of: people")
    if key.startswith("@"):
        if key not in PREDEFINED:
            known = ", ".join(sorted(PREDEFINED))
            raise _invalid(text, f"unknown predefined reference {key!r}; use one of: {known}")
    elif not _CUSTOM_KEY.fullmatch(key):
        raise _invalid(text, f"{key!r} is not a valid custom reference key")
    return ExternalReference(collection=collection, key=key)


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def parse_external_references(text: str | None) -> tuple[ExternalReference, ...]:
    """Parse ``(collection,key)(collection,key)...``; duplicates are kept once, in order."""
    if text is None or not text.strip():
        return ()
    found: list[ExternalReference] = []
    position = _skip_blanks(text, 0)
    while position < len(text):
        match = _ITEM.match(text, position)
        if match is None:
            # Positions count in the text as sent, leading blanks included.
            raise _invalid(text, f"expected '(collection,key)' at position {position}")
        reference = _reference(text, match[1], match[2])
        if reference not in found:
            found.append(reference)
        position = _skip_blanks(text, match.end())
    if len(found) > _MAX_REFERENCES:
        raise _invalid(text, f"at most {_MAX_REFERENCES} references")
    return tuple(found)


def references_by_collection(
    references: tuple[ExternalReference, ...],
) -> dict[str, list[str]]:
    """The keys of ``references`` by collection, in order, as a webhook shows them:
    ``{"people": ["@employee-number", "HRMID"]}`` (Protime types it as an object)."""
    grouped: dict[str, list[str]] = {}
    for reference in references:
        grouped.setdefault(reference.collection, []).append(reference.key)
    return grouped


def render_external_references(references: tuple[ExternalReference, ...]) -> str:
    """The query form of ``references``: ``(people,@badge-number)(people,HRMID)``."""
    return "".join(f"({r.collection},{r.key})" for r in references)


def custom_keys(keys: Sequence[str]) -> list[str]:
    """The custom keys among ``keys``, in order (the ``@`` ones are a person's own fields)."""
    return [key for key in keys if not key.startswith("@")]


def reference_values(
    keys: Sequence[str],
    *,
    badge_number: str | None,
    employee_number: str | None,
    custom: Mapping[str, str],
) -> dict[str, str]:
    """A person's values of ``keys``, in their order: each ``@`` key maps to the person's
    own field, any other to the person's custom reference; empty values are left out."""
    values = {BADGE_NUMBER: badge_number, EMPLOYEE_NUMBER: employee_number, **custom}
    return {key: value for key in keys if (value := values.get(key))}
