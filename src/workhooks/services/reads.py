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
from typing import Protocol

from workhooks import documents
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
from workhooks.domain.token_payloads import DeltaCursor, ListCursor
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

    value: list[documents.WorkInterruption]
    continuation: str | None = None
    delta: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeltaPage:
    """Change items; ``next_token`` when more follow now, else ``delta_token`` for later."""

    value: list[documents.UpsertItem | documents.DeleteItem]
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
    ) -> list[documents.WorkInterruption]:
        if not refs:
            return [documents.work_interruption_document(r) for r in records]
        keys = [r.key for r in refs]
        found = await self._store.references_for(tenant, {r.person_id for r in records}, keys)
        return [
            documents.work_interruption_document(r, person_references=found.get(r.person_id, {}))
            for r in records
        ]

    async def get(
        self, tenant: str, record_id: int, *, references: str | None = None
    ) -> documents.WorkInterruption:
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
            cursor = self._tokens.open(ListCursor, continuation, tenant=tenant)
            if cursor.scope != scope or now - cursor.issued_at > CONTINUATION_LIFETIME:
                raise InvalidContinuationTokenError.malformed()
            after = (cursor.after_date, cursor.after_id)
            start_version = cursor.start_version
        elif delta:
            # Changes committed during the walk come again in the first delta: none is missed.
            start_version = await self._store.head_version(tenant)
        records = await self._store.list_work_interruptions(
            tenant,
            WorkInterruptionQuery(selection=selection, after=after, limit=self._page_size + 1),
        )
        page = records[: self._page_size]
        rendered = await self._documents(tenant, page, refs)
        if len(records) > self._page_size:
            last = page[-1]
            token = self._tokens.seal(
                ListCursor(
                    scope=scope,
                    after_date=last.date,
                    after_id=last.id,
                    start_version=start_version,
                    issued_at=now,
                ),
                tenant=tenant,
            )
            return RecordPage(value=rendered, continuation=token)
        if delta:
            assert start_version is not None
            token = self._delta_token(tenant, start_version, selection, refs)
            return RecordPage(value=rendered, delta=token)
        return RecordPage(value=rendered)

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
        return self._tokens.seal(
            DeltaCursor(
                version=version,
                date_from=selection.date_from,
                date_to=selection.date_to,
                references=render_external_references(refs),
                issued_at=self._clock.now(),
            ),
            tenant=tenant,
        )

    async def delta(self, tenant: str, token: str, *, references: str | None = None) -> DeltaPage:
        """The changes since ``token``: ``InsertOrUpdate`` inside the range, else ``Delete``."""
        try:
            cursor = self._tokens.open(DeltaCursor, token, tenant=tenant)
        except InvalidContinuationTokenError as exc:
            raise InvalidDeltaTokenError.malformed() from exc
        if self._clock.now() - cursor.issued_at > DELTA_LIFETIME:
            raise DeltaTokenExpiredError.unused_for(int(DELTA_LIFETIME.total_seconds()) // 3600)
        selection = WorkInterruptionFilter(date_from=cursor.date_from, date_to=cursor.date_to)
        refs = parse_external_references(
            references if references is not None else cursor.references
        )
        version = cursor.version
        changes = await self._store.read_changes(tenant, after=version, limit=self._page_size + 1)
        page = changes[: self._page_size]
        live = [
            r
            for r in page
            if not r.deleted and selection.matches(date=r.date, person_id=r.person_id)
        ]
        rendered = iter(await self._documents(tenant, live, refs))
        live_ids = {id(r) for r in live}
        items = [
            documents.UpsertItem(data=next(rendered))
            if id(r) in live_ids
            else documents.delete_item(r)  # deleted, or moved out of the range: gone for this sync
            for r in page
        ]
        new_version = page[-1].change_version if page else version
        next_token = self._delta_token(tenant, new_version, selection, refs)
        if len(changes) > self._page_size:
            return DeltaPage(value=items, next_token=next_token)
        return DeltaPage(value=items, delta_token=next_token)
