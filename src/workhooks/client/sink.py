"""Where the sync engine keeps its copy: the ``Sink`` protocol and the engine's durable state.

A sink stores records with their ``changeVersion`` and, for deleted records, a tombstone
holding the version of the delete. It does not judge versions: the engine asks what the
sink holds, keeps only what is newer and writes that, so every sink gets the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from workhooks.client.models import WorkInterruption

__all__ = ["Sink", "SyncScope", "SyncState", "Tombstone"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tombstone:
    """A deleted record: its id and the version of the delete (older changes are ignored)."""

    id: int
    change_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncScope:
    """What is mirrored: work interruptions dated ``date_from`` to ``date_to`` (at most a year).

    ``external_references`` (e.g. ``(people,@employee-number)``) are asked for on the delta
    and on the webhook, so records carry them.
    """

    date_from: dt.date
    date_to: dt.date
    external_references: str | None = None

    @property
    def filter(self) -> str:
        """The Protime filter that selects this scope."""
        return f"date ge '{self.date_from.isoformat()}' and date le '{self.date_to.isoformat()}'"

    def contains(self, record: WorkInterruption) -> bool:
        """Whether a record belongs to the scope (events outside it count as deletes)."""
        return self.date_from <= record.date <= self.date_to


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncState:
    """What the engine must remember across restarts.

    ``delta_link`` is None until a full sync has finished. ``webhook_key`` verifies the
    current webhook's deliveries; ``retired_webhook_ids`` are replaced webhooks still to delete.
    """

    scope: SyncScope
    delta_link: str | None = None
    webhook_id: str | None = None
    webhook_key: str | None = field(default=None, repr=False)
    valid_until: dt.datetime | None = None
    retired_webhook_ids: tuple[str, ...] = ()


class Sink(Protocol):
    """Storage for the mirrored records and the engine's state.

    Every method is called from one thread (the engine's event loop) and should be short:
    ``write`` is one transaction for a page or an event.
    """

    def load_state(self) -> SyncState | None:
        """The state saved last, or None before the first run."""
        ...

    def save_state(self, state: SyncState) -> None:
        """Keep ``state`` durably (it replaces the previous one)."""
        ...

    def held_versions(self, ids: Collection[int]) -> dict[int, str]:
        """The version held for each of ``ids`` that the sink knows, tombstones included."""
        ...

    def write(self, upserts: Sequence[WorkInterruption], deletes: Sequence[Tombstone]) -> None:
        """Store new record states and tombstones, replacing what is held for those ids."""
        ...

    def live_ids(self) -> set[int]:
        """The ids of every record held that is not a tombstone."""
        ...
