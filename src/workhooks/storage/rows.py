"""Rows mapped once: one converter per entity, both ways, for every SQL store.

The dialects differ only in how they hold a few kinds of values (instants and days as ISO
text or as native types, lists as JSON text or as arrays); each gives a ``Codec`` for those,
and everything else about a row is written here once. Parameters are named alike in both
dialects (see ``queries.sql``), so the parameter builders are shared too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from workhooks.domain.clients import Client, SigningKey
from workhooks.domain.deliveries import Delivery, DeliveryAttempt, DeliveryQuery, DeliveryStatus
from workhooks.domain.external_references import ExternalReference, reference_values
from workhooks.domain.groups import GroupKind, PersonGroup
from workhooks.domain.operators import AuditEntry
from workhooks.domain.reads import WorkInterruptionQuery
from workhooks.domain.records import Person, WorkInterruption, live
from workhooks.domain.scopes import parse_scopes
from workhooks.domain.webhooks import Collection, NewWebhook, Webhook, WebhookStatus
from workhooks.storage.protocol import BacklogReport, WebhookBacklog
from workhooks.storage.sealing import Sealer, signing_key_context, webhook_context

__all__ = [
    "Codec",
    "Row",
    "attempt",
    "audit_params",
    "backlog_report",
    "client",
    "client_params",
    "deliveries_params",
    "delivery",
    "ending_params",
    "group",
    "group_params",
    "json_text",
    "live_person",
    "live_work_interruption",
    "person",
    "references",
    "signing_key",
    "signing_key_params",
    "webhook",
    "webhook_params",
    "work_interruption",
    "work_interruptions_params",
]


class Row(Protocol):
    """A result row by column name (``sqlite3.Row``, ``asyncpg.Record``)."""

    def __getitem__(self, key: str, /) -> Any:
        """The value of a column."""


_encode = msgspec.json.Encoder().encode


def json_text(value: object) -> str:
    """``value`` as compact JSON text."""
    return _encode(value).decode()


@dataclass(frozen=True, slots=True, kw_only=True)
class Codec:
    """How one dialect holds the values SQL has no common type for.

    ``instant``/``read_instant`` convert aware datetimes, ``day``/``read_day`` dates, and
    ``many`` passes a list (of ids, keys or statuses) as a parameter.
    """

    instant: Callable[[dt.datetime], Any]
    read_instant: Callable[[Any], dt.datetime]
    day: Callable[[dt.date], Any]
    read_day: Callable[[Any], dt.date]
    many: Callable[[Sequence[Any]], Any]

    def instant_or_none(self, value: dt.datetime | None) -> Any:
        """``instant`` of a value that may be absent."""
        return None if value is None else self.instant(value)

    def read_instant_or_none(self, value: Any) -> dt.datetime | None:
        """``read_instant`` of a column that may be NULL."""
        return None if value is None else self.read_instant(value)


def work_interruption(row: Row, codec: Codec) -> WorkInterruption:
    """A work interruption (or its tombstone) from its row."""
    return WorkInterruption(
        id=row["id"],
        person_id=row["person_id"],
        date=codec.read_day(row["date"]),
        duration_in_minutes=row["duration_in_minutes"],
        start_time_in_minutes=row["start_time_in_minutes"],
        end_time_in_minutes=row["end_time_in_minutes"],
        change_version=row["change_version"],
        deleted=bool(row["deleted"]),
    )


def person(row: Row) -> Person:
    """A person (or its tombstone) from its row."""
    return Person(
        id=row["id"],
        badge_number=row["badge_number"],
        employee_number=row["employee_number"],
        change_version=row["change_version"],
        deleted=bool(row["deleted"]),
    )


def live_work_interruption(row: Row | None, codec: Codec) -> WorkInterruption | None:
    """The work interruption of a row that may be missing, when it is live (``live``)."""
    return live(None if row is None else work_interruption(row, codec))


def live_person(row: Row | None) -> Person | None:
    """The person of a row that may be missing, when it is live (``live``)."""
    return live(None if row is None else person(row))


def work_interruptions_params(
    tenant: str, query: WorkInterruptionQuery, codec: Codec
) -> dict[str, Any]:
    """The parameters of ``list_work_interruptions``."""
    selection = query.selection
    persons = selection.person_ids
    return {
        "tenant": tenant,
        "date_from": codec.day(selection.date_from),
        "date_to": codec.day(selection.date_to),
        "persons": None if persons is None else codec.many(sorted(persons)),
        "after_date": None if query.after is None else codec.day(query.after[0]),
        "after_id": None if query.after is None else query.after[1],
        "limit": query.limit,
    }


def webhook(row: Row, codec: Codec, sealer: Sealer) -> Webhook:
    """A webhook from its row, its secret opened."""
    pairs: list[list[str]] = msgspec.json.decode(row["external_references"])
    return Webhook(
        id=row["id"],
        tenant=row["tenant"],
        destination_url=row["destination_url"],
        collection=Collection(row["collection"]),
        secret=sealer.open(bytes(row["secret"]), context=webhook_context(row["id"])),
        status=WebhookStatus(row["status"]),
        created_at=codec.read_instant(row["created_at"]),
        valid_until=codec.read_instant(row["valid_until"]),
        cursor=row["cursor"],
        deleted_at=codec.read_instant_or_none(row["deleted_at"]),
        disabled_reason=row["disabled_reason"],
        failures=row["failures"],
        next_attempt_at=codec.read_instant_or_none(row["next_attempt_at"]),
        external_references=tuple(ExternalReference(collection=c, key=k) for c, k in pairs),
    )


def webhook_params(new: NewWebhook, codec: Codec, sealer: Sealer) -> dict[str, Any]:
    """The parameters of ``insert_webhook``, its secret sealed."""
    return {
        "id": new.id,
        "tenant": new.tenant,
        "destination_url": new.destination_url,
        "collection": new.collection.value,
        "secret": sealer.seal(new.secret, context=webhook_context(new.id)),
        "created_at": codec.instant(new.created_at),
        "valid_until": codec.instant(new.valid_until),
        "external_references": json_text([[r.collection, r.key] for r in new.external_references]),
    }


def client(row: Row, codec: Codec) -> Client:
    """An API client from its row."""
    return Client(
        id=row["id"],
        tenant=row["tenant"],
        secret_hash=row["secret_hash"],
        scopes=parse_scopes(row["scopes"])[0],
        created_at=codec.read_instant(row["created_at"]),
        revoked_at=codec.read_instant_or_none(row["revoked_at"]),
    )


def client_params(new: Client, codec: Codec) -> dict[str, Any]:
    """The parameters of ``insert_client``."""
    return {
        "id": new.id,
        "tenant": new.tenant,
        "secret_hash": new.secret_hash,
        "scopes": " ".join(sorted(new.scopes)),
        "created_at": codec.instant(new.created_at),
    }


def signing_key(row: Row, codec: Codec, sealer: Sealer) -> SigningKey:
    """A token signing key from its row, opened."""
    return SigningKey(
        kid=row["kid"],
        private_key=sealer.open(bytes(row["private_key"]), context=signing_key_context(row["kid"])),
        created_at=codec.read_instant(row["created_at"]),
    )


def signing_key_params(key: SigningKey, codec: Codec, sealer: Sealer) -> dict[str, Any]:
    """The parameters of ``insert_signing_key``, the private key sealed."""
    return {
        "kid": key.kid,
        "private_key": sealer.seal(key.private_key, context=signing_key_context(key.kid)),
        "created_at": codec.instant(key.created_at),
    }


def attempt(row: Row, codec: Codec) -> DeliveryAttempt:
    """A delivery attempt from its row."""
    return DeliveryAttempt(
        webhook_id=row["webhook_id"],
        message_id=row["message_id"],
        record_id=row["record_id"],
        change_version=row["change_version"],
        attempted_at=codec.read_instant(row["attempted_at"]),
        succeeded=bool(row["succeeded"]),
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error_class=row["error_class"],
        response_excerpt=row["response_excerpt"],
        next_attempt_at=codec.read_instant_or_none(row["next_attempt_at"]),
    )


def delivery(row: Row, codec: Codec) -> Delivery:
    """A delivery summary from its row."""
    return Delivery(
        webhook_id=row["webhook_id"],
        id=row["message_id"],
        record_id=row["record_id"],
        change_version=row["change_version"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        first_attempt_at=codec.read_instant(row["first_attempt_at"]),
        last_attempt_at=codec.read_instant(row["last_attempt_at"]),
        last_status_code=row["last_status_code"],
        last_error_class=row["last_error_class"],
        next_attempt_at=codec.read_instant_or_none(row["next_attempt_at"]),
    )


def deliveries_params(query: DeliveryQuery, codec: Codec) -> dict[str, Any]:
    """The parameters of ``list_deliveries``."""
    statuses = None if query.statuses is None else codec.many(sorted(query.statuses))
    return {
        "webhook_id": query.webhook_id,
        "statuses": statuses,
        "since": codec.instant_or_none(query.since),
        "until": codec.instant_or_none(query.until),
        "after_at": None if query.after is None else codec.instant(query.after[0]),
        "after_id": None if query.after is None else query.after[1],
        "limit": query.limit,
    }


def backlog_report(
    statuses: Sequence[Row], rows: Sequence[Row], codec: Codec, *, limit: int
) -> BacklogReport:
    """The backlog report from ``webhooks_by_status`` and ``webhooks_behind``."""
    return BacklogReport(
        by_status={WebhookStatus(r["status"]): r["count"] for r in statuses},
        behind=rows[0]["behind"] if rows else 0,
        failing=rows[0]["failing"] if rows else 0,
        worst=[
            WebhookBacklog(
                webhook_id=r["id"],
                tenant=r["tenant"],
                created_at=codec.read_instant(r["created_at"]),
                caught_up_at=codec.read_instant_or_none(r["caught_up_at"]),
                changes_behind=r["changes_behind"],
                failures=r["failures"],
            )
            for r in rows[:limit]
        ],
    )


def group(kind: GroupKind, row: Row, members: Sequence[Row]) -> PersonGroup:
    """A group from its row and its members' rows."""
    return PersonGroup(
        kind=kind,
        id=row["id"],
        name=row["name"],
        parent_id=row["parent_id"],
        people=frozenset(m["person_id"] for m in members),
    )


def group_params(tenant: str, group: PersonGroup, codec: Codec) -> dict[str, Any]:
    """The parameters of ``upsert_group`` and ``insert_group_members``."""
    return {
        "tenant": tenant,
        "kind": group.kind.value,
        "id": group.id,
        "name": group.name,
        "parent_id": group.parent_id,
        "people": codec.many(sorted(group.people)),
    }


def references(
    people: Sequence[Row], custom: Sequence[Row], keys: Sequence[str]
) -> dict[int, dict[str, str]]:
    """Each live person's values of ``keys``, from ``predefined_references`` (the people's
    own numbers) and ``custom_references``."""
    values: dict[int, dict[str, str]] = {}
    for row in custom:
        values.setdefault(row["person_id"], {})[row["key"]] = row["value"]
    return {
        row["id"]: reference_values(
            keys,
            badge_number=row["badge_number"],
            employee_number=row["employee_number"],
            custom=values.get(row["id"], {}),
        )
        for row in people
    }


def audit_params(entry: AuditEntry, codec: Codec) -> dict[str, Any]:
    """The parameters of ``insert_audit``."""
    return {
        "at": codec.instant(entry.at),
        "actor": entry.actor,
        "action": entry.action.value,
        "tenant": entry.tenant,
        "webhook_id": entry.webhook_id,
        "detail": entry.detail,
    }


def ending_params(
    actor: str,
    at: dt.datetime,
    codec: Codec,
    *,
    only: str | None = None,
    keep: str | None = None,
) -> dict[str, Any]:
    """The parameters of ``end_sessions``."""
    return {"actor": actor, "at": codec.instant(at), "only": only, "keep": keep}
