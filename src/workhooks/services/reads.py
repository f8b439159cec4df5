"""Reading work interruptions: get by id, filtered lists in pages, and delta (change tracking).

Lists are keyset-paged on ``(date, id)``: a record that matches when the walk starts and is
not changed during it appears exactly once, whatever else is written between pages.
A delta token holds a change version; the changes after it are one range read of the
record table (the change log), so a delta costs the same as a delivery window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workhooks.domain.events import delete_document, work_interruption_document
from workhooks.domain.external_references import (
    ExternalReference,
    parse_external_references,
    render_external_references,
)
from workhooks.domain.reads import (
    WorkInterruptionFilter,
    WorkInterruptionQuery,
    WorkInterruptionRequest,
    group_kind,
    parse_work_interruption_filter,
)
from workhooks.domain.records import WorkInterruption
from workhooks.domain.tokens import TokenCodec
from workhooks.errors import (
    DeltaTokenExpiredError,
    InvalidContinuationTokenError,
    InvalidDeltaTokenError,
    NotFoundError,
)
from workhooks.services.clock import Clock
from workhooks.storage.protocol import GroupStore, RecordStore, ReferenceStore

__all__ = ["DeltaPage", "ReadService", "ReadServiceStore", "RecordPage"]

CONTINUATION_LIFETIME = dt.timedelta(hours=24)
DELTA_LIFETIME = dt.timedelta(hours=72)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPage:
    """Documents of one page; ``continuation`` for the next page, ``delta`` after the last."""

    value: list[dict[str, Any]]
    continuation: str | None = None
    delta: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeltaPage:
    """Change items; ``next_token`` when more follow now, else ``delta_token`` for later."""

    value: list[dict[str, Any]]
    next_token: str | None = None
    delta_token: str | None = None


def _scope(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


class ReadServiceStore(RecordStore, ReferenceStore, GroupStore, Protocol):
    """What the read API reads: records, their people's references, the people of groups."""


class ReadService:
    """The work-interruptions read API of one tenant at a time."""

    def __init__(
        self, store: ReadServiceStore, clock: Clock, *, tokens: TokenCodec, page_size: int
    ) -> None:
        self._store = store
        self._clock = clock
        self._tokens = tokens
        self._page_size = page_size

    async def _documents(
        self, tenant: str, records: Sequence[WorkInterruption], refs: tuple[ExternalReference, ...]
    ) -> list[dict[str, Any]]:
        if not refs:
            return [work_interruption_document(r) for r in records]
        keys = [r.key for r in refs]
        found = await self._store.references_for(tenant, {r.person_id for r in records}, keys)
        return [
            work_interruption_document(r, person_references=found.get(r.person_id, {}))
            for r in records
        ]

    async def get(
        self, tenant: str, record_id: int, *, references: str | None = None
    ) -> dict[str, Any]:
        """One live work interruption's document, or ``NotFoundError``."""
        refs = parse_external_references(references)
        record = await self._store.get_work_interruption(tenant, record_id)
        if record is None:
            raise NotFoundError(f"Work interruption {record_id} does not exist")
        (document,) = await self._documents(tenant, [record], refs)
        return document

    async def list(
        self,
        tenant: str,
        *,
        filter_text: str | None,
        references: str | None = None,
        delta: bool = False,
        continuation: str | None = None,
    ) -> RecordPage:
        """One page of the records a filter selects; with ``delta``, a delta token at the end."""
        now = self._clock.now()
        refs = parse_external_references(references)
        request = parse_work_interruption_filter(filter_text, delta=delta, today=now.date())
        selection = await self._resolve(tenant, request)
        scope = _scope("list", filter_text or "", "delta" if delta else "")
        after, start_version = None, None
        if continuation is not None:
            payload = self._tokens.decode(continuation, purpose="list", tenant=tenant)
            if payload.get("s") != scope or now.timestamp() - payload.get("t", 0) > (
                CONTINUATION_LIFETIME.total_seconds()
            ):
                raise InvalidContinuationTokenError.malformed()
            after = (dt.date.fromisoformat(payload["d"]), int(payload["i"]))
            start_version = payload.get("v")
        elif delta:
            # Changes committed during the walk come again in the first delta: none is missed.
            start_version = await self._store.head_version(tenant)
        records = await self._store.list_work_interruptions(
            tenant,
            WorkInterruptionQuery(selection=selection, after=after, limit=self._page_size + 1),
        )
        page = records[: self._page_size]
        documents = await self._documents(tenant, page, refs)
        if len(records) > self._page_size:
            last = page[-1]
            token = self._tokens.encode(
                {
                    "s": scope,
                    "d": last.date.isoformat(),
                    "i": last.id,
                    "v": start_version,
                    "t": int(now.timestamp()),
                },
                purpose="list",
                tenant=tenant,
            )
            return RecordPage(value=documents, continuation=token)
        if delta:
            assert start_version is not None
            token = self._delta_token(tenant, int(start_version), selection, refs)
            return RecordPage(value=documents, delta=token)
        return RecordPage(value=documents)

    async def _resolve(
        self, tenant: str, request: WorkInterruptionRequest
    ) -> WorkInterruptionFilter:
        """Look up the people of the filter's circles and org-groups (those below included)."""
        members = {
            condition: await self._store.people_in_groups(
                tenant, group_kind(condition), frozenset(map(int, condition.values))
            )
            for condition in request.group_conditions()
        }
        return request.selection(members)

    def _delta_token(
        self,
        tenant: str,
        version: int,
        selection: WorkInterruptionFilter,
        refs: tuple[ExternalReference, ...],
    ) -> str:
        return self._tokens.encode(
            {
                "v": version,
                "f": selection.date_from.isoformat(),
                "u": selection.date_to.isoformat(),
                "r": render_external_references(refs),
                "t": int(self._clock.now().timestamp()),
            },
            purpose="delta",
            tenant=tenant,
        )

    async def delta(self, tenant: str, token: str, *, references: str | None = None) -> DeltaPage:
        """The changes since ``token``: ``InsertOrUpdate`` inside the range, else ``Delete``."""
        try:
            payload = self._tokens.decode(token, purpose="delta", tenant=tenant)
        except InvalidContinuationTokenError as exc:
            raise InvalidDeltaTokenError.malformed() from exc
        if self._clock.now().timestamp() - int(payload["t"]) > DELTA_LIFETIME.total_seconds():
            raise DeltaTokenExpiredError.unused_for(int(DELTA_LIFETIME.total_seconds()) // 3600)
        selection = WorkInterruptionFilter(
            date_from=dt.date.fromisoformat(payload["f"]),
            date_to=dt.date.fromisoformat(payload["u"]),
        )
        refs = parse_external_references(references if references is not None else payload["r"])
        version = int(payload["v"])
        changes = await self._store.read_changes(tenant, after=version, limit=self._page_size + 1)
        page = changes[: self._page_size]
        live = [
            r
            for r in page
            if not r.deleted and selection.matches(date=r.date, person_id=r.person_id)
        ]
        documents = iter(await self._documents(tenant, live, refs))
        live_ids = {id(r) for r in live}
        items = [
            {"changeType": "InsertOrUpdate", "data": next(documents)}
            if id(r) in live_ids
            else delete_document(r)  # deleted, or moved out of the range: gone for this sync
            for r in page
        ]
        new_version = page[-1].change_version if page else version
        next_token = self._delta_token(tenant, new_version, selection, refs)
        if len(changes) > self._page_size:
            return DeltaPage(value=items, next_token=next_token)
        return DeltaPage(value=items, delta_token=next_token)
