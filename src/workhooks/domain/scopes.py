"""OAuth2 scopes: ``connector-protimeapi-<collection>.read`` / ``.write``."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["KNOWN_SCOPES", "TENANT_SCOPES", "Scope", "parse_scopes"]


class Scope(StrEnum):
    """The scopes workhooks grants; values are the wire strings."""

    WEBHOOKS_READ = "connector-protimeapi-webhooks.read"
    WEBHOOKS_WRITE = "connector-protimeapi-webhooks.write"
    WORK_INTERRUPTIONS_READ = "connector-protimeapi-work-interruptions.read"
    WORK_INTERRUPTIONS_WRITE = "connector-protimeapi-work-interruptions.write"
    PEOPLE_READ = "connector-protimeapi-people.read"
    PEOPLE_WRITE = "connector-protimeapi-people.write"
    EXTERNAL_REFERENCES_WRITE = "connector-protimeapi-external-references.write"
    # Not a Protime scope: every tenant's webhooks and deliveries, for people who run workhooks.
    OPERATOR = "workhooks-operator"


KNOWN_SCOPES = frozenset(Scope)
# What ``all`` means for a tenant's client: everything but the cross-tenant operator scope.
TENANT_SCOPES = KNOWN_SCOPES - {Scope.OPERATOR}


def parse_scopes(text: str) -> tuple[frozenset[Scope], tuple[str, ...]]:
    """Split a space-separated scope string into known scopes and the unknown words."""
    known: set[Scope] = set()
    unknown: list[str] = []
    for word in text.split():
        if word in KNOWN_SCOPES:
            known.add(Scope(word))
        else:
            unknown.append(word)
    return frozenset(known), tuple(unknown)
