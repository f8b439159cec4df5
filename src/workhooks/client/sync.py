"""The consumer's mandatory part: sync, subscribe, apply newer events, renew without a gap.

One round (``sync_once``) does, in this order:

1. the first time, a full sync (a delta walk of the scope) before subscribing;
2. when there is no webhook, or it is missing, ``Disabled``, about to expire (``renew_before``
   its ``validUntil``) or points elsewhere: create a new webhook first and retire the old one;
3. catch up through the delta link (a full sync again when the link is gone): this fills the
   gap around a new webhook, and between renewals catches anything a delivery missed;
4. delete the retired webhooks.

Events (``receive``) and sync items go through ``apply``, which writes a change only when its
``changeVersion`` is newer than what the sink holds for that id, tombstones included, so an
older ``InsertOrUpdate`` after a ``Delete`` is ignored and duplicates are harmless.
A full sync that runs while a webhook exists ends with a sweep: live records neither in the
snapshot nor touched by an event during the walk were deleted meanwhile and become tombstones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import msgspec

from workhooks.client.async_client import AsyncClient
from workhooks.client.errors import BadRequest, Forbidden, Gone, NotFound, Unauthorized
from workhooks.client.models import (
    TEST_CHANGE_TYPE,
    ChangeType,
    DeltaItem,
    WebhookStatus,
    WorkInterruption,
    parse_delta_item,
)
from workhooks.client.options import Clock, system_clock
from workhooks.client.signatures import (
    DEFAULT_TOLERANCE,
    InvalidPayloadError,
    SignatureError,
    Verifier,
    verify_request,
)
from workhooks.client.sink import Sink, SyncScope, SyncState, Tombstone

__all__ = ["Received", "SyncEngine", "SyncOptions"]

logger = logging.getLogger("workhooks.client.sync")

# Errors that no retry will fix: a bad destination, bad credentials or missing scopes.
_CONFIGURATION_ERRORS = (BadRequest, Unauthorized, Forbidden)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOptions:
    """How the engine subscribes and how often it checks.

    ``destination_url`` is where the server will POST events (the receiver's public URL);
    ``verifier`` checks each delivery (Standard Webhooks v1 unless another scheme is given).
    """

    destination_url: str
    scope: SyncScope
    renew_before: dt.timedelta = dt.timedelta(days=1)
    poll_interval_seconds: float = 60.0
    signature_tolerance: dt.timedelta = DEFAULT_TOLERANCE
    verifier: Verifier = verify_request


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """The outcome of one delivery: the HTTP status to answer and what happened."""

    status: int
    detail: str
    applied: bool = False


class SyncEngine:
    """Keeps a ``Sink`` equal to the server's records in a scope, through webhooks and delta."""

    def __init__(
        self,
        client: AsyncClient,
        sink: Sink,
        options: SyncOptions,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._client = client
        self._sink = sink
        self._options = options
        self._clock = clock
        self._state: SyncState | None = None
        self._walk_seen: set[int] | None = None

    @property
    def state(self) -> SyncState:
        """The current state (loaded from the sink on first use)."""
        if self._state is None:
            self._state = self._initial_state(self._sink.load_state())
        return self._state

    def _initial_state(self, saved: SyncState | None) -> SyncState:
        scope = self._options.scope
        if saved is None:
            return SyncState(scope=scope)
        if saved.scope == scope:
            return saved
        # Another scope: sync it fully; a webhook rendering other references is replaced.
        logger.info("the scope changed: a full sync follows")
        if saved.scope.external_references == scope.external_references:
            return replace(saved, scope=scope, delta_link=None)
        retired = saved.retired_webhook_ids + ((saved.webhook_id,) if saved.webhook_id else ())
        return SyncState(scope=scope, retired_webhook_ids=retired)

    def _save(self, state: SyncState) -> None:
        self._state = state
        self._sink.save_state(state)

    # -- applying changes ----------------------------------------------------------------------

    def apply(self, items: Iterable[DeltaItem]) -> int:
        """Write the items newer than what the sink holds; return how many were written.

        An ``InsertOrUpdate`` outside the scope is written as a tombstone (it left the scope).
        """
        latest: dict[int, DeltaItem] = {}
        for item in items:
            known = latest.get(item.id)
            if known is None or item.change_version > known.change_version:
                latest[item.id] = item
        if self._walk_seen is not None:
            self._walk_seen.update(latest)
        held = self._sink.held_versions(list(latest))
        newer = [i for i in latest.values() if i.change_version > held.get(i.id, "")]
        scope = self.state.scope
        upserts = [i.record for i in newer if i.record is not None and scope.contains(i.record)]
        kept = {r.id for r in upserts}
        deletes = [
            Tombstone(id=i.id, change_version=i.change_version) for i in newer if i.id not in kept
        ]
        if newer:
            self._sink.write(upserts, deletes)
        return len(newer)

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        """Verify one delivery of the current webhook and apply it; say what to answer."""
        key = self.state.webhook_key
        if key is None:
            return Received(status=401, detail="no webhook is subscribed yet")
        try:
            event = self._options.verifier(
                key,
                headers,
                body,
                clock=self._clock,
                tolerance=self._options.signature_tolerance,
            )
            if event.get("changeType") == TEST_CHANGE_TYPE:
                # Sent on request from the portal or the API: answering 2xx shows the
                # sender that this endpoint verifies signatures; nothing is applied.
                return Received(status=204, detail="test event: signature verified")
            item = parse_delta_item(event)
        except InvalidPayloadError as exc:
            return Received(status=400, detail=str(exc))
        except SignatureError as exc:
            return Received(status=401, detail=str(exc))
        except msgspec.ValidationError as exc:
            return Received(status=400, detail=f"not a change event: {exc}")
        applied = self.apply([item]) == 1
        return Received(status=204, detail="applied" if applied else "not newer", applied=applied)

    # -- one round -----------------------------------------------------------------------------

    async def sync_once(self) -> None:
        """One round: first sync, renew the webhook if needed, catch up, drop retired webhooks."""
        if self.state.delta_link is None and self.state.webhook_id is None:
            await self._full_sync()
        if await self._needs_new_webhook():
            await self._subscribe()
        await self._catch_up()
        await self._delete_retired()

    async def _full_sync(self) -> None:
        """Walk the scope's current state; tombstone what is held but gone; keep the delta link."""
        scope = self.state.scope
        logger.info("full sync of %s", scope.filter)
        self._walk_seen = set()
        try:
            walk = self._client.start_delta(
                scope.filter, external_references=scope.external_references
            )
            seen = 0
            async for page in walk.pages():
                seen += len(page)
                self.apply(_as_items(page))
            gone = self._sink.live_ids() - self._walk_seen
        finally:
            self._walk_seen = None
        held = self._sink.held_versions(list(gone))
        self._sink.write([], [Tombstone(id=i, change_version=held[i]) for i in sorted(gone)])
        self._save(replace(self.state, delta_link=walk.delta_link))
        logger.info("full sync done: %d records, %d gone since the last sync", seen, len(gone))

    async def _needs_new_webhook(self) -> bool:
        webhook_id = self.state.webhook_id
        if webhook_id is None:
            return True
        try:
            webhook = await self._client.get_webhook(webhook_id)
        except NotFound:
            logger.warning("webhook %s no longer exists", webhook_id)
            return True
        if webhook.status is WebhookStatus.DISABLED:
            logger.warning("webhook %s is disabled", webhook_id)
            return True
        if webhook.valid_until - self._clock() <= self._options.renew_before:
            logger.info("webhook %s expires at %s: renewing", webhook_id, webhook.valid_until)
            return True
        return webhook.destination_url != self._options.destination_url

    async def _subscribe(self) -> None:
        """Create the new webhook first; the old one is retired, deleted after the catch-up."""
        state = self.state
        created = await self._client.create_webhook(
            self._options.destination_url,
            external_references=state.scope.external_references,
        )
        retired = state.retired_webhook_ids + ((state.webhook_id,) if state.webhook_id else ())
        self._save(
            replace(
                state,
                webhook_id=created.id,
                webhook_key=created.key,
                valid_until=created.valid_until,
                retired_webhook_ids=retired,
            )
        )
        logger.info("subscribed webhook %s, valid until %s", created.id, created.valid_until)

    async def _catch_up(self) -> None:
        link = self.state.delta_link
        if link is None:
            await self._full_sync()
            return
        try:
            walk = self._client.iter_delta(link)
            applied = 0
            async for page in walk.pages():
                applied += self.apply(page)
        except (Gone, BadRequest) as exc:
            # 410: expired; 400 InvalidDeltaToken: the server no longer knows it. Both ask
            # for a new delta, which the full sync starts.
            if isinstance(exc, BadRequest) and exc.code != "InvalidDeltaToken":
                raise
            logger.warning("the delta link is expired or not valid (%s): full sync", exc.code)
            self._save(replace(self.state, delta_link=None))
            await self._full_sync()
            return
        self._save(replace(self.state, delta_link=walk.delta_link))
        if applied:
            logger.info("caught up %d changes through the delta link", applied)

    async def _delete_retired(self) -> None:
        for webhook_id in self.state.retired_webhook_ids:
            with contextlib.suppress(NotFound):
                await self._client.delete_webhook(webhook_id)
            remaining = tuple(w for w in self.state.retired_webhook_ids if w != webhook_id)
            self._save(replace(self.state, retired_webhook_ids=remaining))
            logger.info("deleted the replaced webhook %s", webhook_id)

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds every ``poll_interval_seconds`` until ``stop`` is set.

        Errors of a round are logged and the round is tried again later, except configuration
        errors (400, 401, 403) in the first round, which are raised.
        """
        first = True
        while not stop.is_set():
            try:
                await self.sync_once()
            except _CONFIGURATION_ERRORS:
                if first:
                    raise
                logger.exception("sync round failed")
            except Exception:
                logger.exception("sync round failed; trying again later")
            first = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._options.poll_interval_seconds)


def _as_items(records: Iterable[WorkInterruption]) -> list[DeltaItem]:
    return [
        DeltaItem(
            change_type=ChangeType.INSERT_OR_UPDATE,
            id=r.id,
            change_version=r.change_version,
            record=r,
        )
        for r in records
    ]
