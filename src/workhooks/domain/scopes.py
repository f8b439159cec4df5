"""OAuth2 scopes: ``connector-protimeapi-<collection>.read`` / ``.write``, and ours.

``workhooks-operator`` is not a Protime scope: it manages the API clients of every tenant
(``/operator/clients``). It is never part of ``all`` and must be granted by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from workhooks.errors import InvalidRequestError

__all__ = ["KNOWN_SCOPES", "Scope", "parse_scopes", "require_scopes"]


class Scope(StrEnum):
    """The scopes workhooks grants; values are the wire strings."""

    WEBHOOKS_READ = "connector-protimeapi-webhooks.read"
    WEBHOOKS_WRITE = "connector-protimeapi-webhooks.write"
    WORK_INTERRUPTIONS_READ = "connector-protimeapi-work-interruptions.read"
    WORK_INTERRUPTIONS_WRITE = "connector-protimeapi-work-interruptions.write"
    PEOPLE_READ = "connector-protimeapi-people.read"
    PEOPLE_WRITE = "connector-protimeapi-people.write"
    EXTERNAL_REFERENCES_WRITE = "connector-protimeapi-external-references.write"
    OPERATOR = "workhooks-operator"


# The Protime API scopes: what ``all`` grants and what OIDC discovery lists.
KNOWN_SCOPES = frozenset(Scope) - {Scope.OPERATOR}


_ALL_SCOPES = frozenset(Scope)


def parse_scopes(text: str) -> tuple[frozenset[Scope], tuple[str, ...]]:
    """Split a space-separated scope string into known scopes and the unknown words."""
    known: set[Scope] = set()
    unknown: list[str] = []
    for word in text.split():
        if word in _ALL_SCOPES:
            known.add(Scope(word))
        else:
            unknown.append(word)
    return frozenset(known), tuple(unknown)


def require_scopes(words: Iterable[str]) -> frozenset[Scope]:
    """The scopes named by ``words`` (``all`` for every Protime scope); at least one, all known."""
    wanted = " ".join(words).split()
    known, unknown = parse_scopes(" ".join(w for w in wanted if w != "all"))
    if unknown or not wanted:
        raise InvalidRequestError(
            "Unknown or missing scopes",
            reasons=tuple(f"scopes: {w!r} is not a scope" for w in unknown)
            or ("scopes: name at least one scope, or 'all'",),
        )
    return known | (KNOWN_SCOPES if "all" in wanted else frozenset())
