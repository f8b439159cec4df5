"""Which webhook's window starts next: fair across tenants, then destinations, then webhooks.

A pure data structure (no I/O, no clock): the worker ``offer``s the webhooks it has claimed,
asks ``next()`` for a window to start whenever a slot is free, and reports ``finished``
windows. The rules that keep one tenant, webhook or destination from holding up another:

- **Slots.** At most ``capacity`` windows are in flight; one per webhook (a webhook's windows
  are sequential, which is what keeps its deliveries in order).
- **Fair share.** A tenant may start a window only while it has fewer than
  ``capacity // (active tenants + 1)`` in flight (at least one). The ``+ 1`` keeps a share free
  for a tenant that has no work yet, so a newcomer finds a free slot at once even when
  every active tenant's destinations are hung.
- **Turns.** Tenants that may start take turns, one window per turn; within a tenant its
  destinations take turns, and within a destination its webhooks. Only a tenant that
  starts a window goes to the back of the line.
- **Destinations.** At most ``origin_limit`` windows are in flight per destination origin;
  while an origin is *probing* (its last attempt got no HTTP answer: a timeout or a refused
  or broken connection) only one window, of one delivery, goes to it until it answers.
  Webhooks waiting for their origin hold no slot; a tenant all of whose waiting webhooks
  wait for closed origins steps out of the line and, when one of them frees, steps back in
  at the front, so it is not overtaken by the tenant that keeps that origin busy.

Each operation costs in proportion to what it touches (a tenant's origins, the tenants
waiting on one origin), never to the number of tenants, so 10,000 tenants with one window
each schedule as cheaply as one. ``tests/unit/test_scheduler.py`` checks the rules and a
bounded wait for every tenant with a state machine.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Scheduler", "Slot"]

T = TypeVar("T")


@dataclass(slots=True)
class Slot(Generic[T]):
    """A claimed webhook: its id, tenant, destination origin, and the worker's payload."""

    webhook_id: str
    tenant: str
    origin: str
    payload: T


@dataclass(slots=True)
class _Tenant(Generic[T]):
    """A tenant's waiting webhooks by origin (in turn order) and its windows in flight."""

    origins: OrderedDict[str, deque[Slot[T]]] = field(default_factory=OrderedDict)
    in_flight: int = 0
    held: int = 0


class Scheduler(Generic[T]):
    """Hands out windows to start, under the slot, share, destination and turn rules."""

    def __init__(self, *, capacity: int, origin_limit: int) -> None:
        if capacity < 1 or origin_limit < 1:
            raise ValueError("capacity and origin_limit must be at least 1")
        self._capacity = capacity
        self._tenant_hold_limit = max(1, capacity // 2)
        self._full: set[str] = set()  # tenants holding ``_tenant_hold_limit`` webhooks
        self._origin_limit = origin_limit
        self._tenants: dict[str, _Tenant[T]] = {}
        self._line: deque[str] = deque()  # tenants that may start, in turn order
        self._in_line: set[str] = set()
        self._at_share: set[str] = set()  # waiting, but at their share
        # origin -> tenants waiting for it to open, first parked first; a tenant woken for an
        # origin that does not use it passes the origin's turn on (``_woken_for``).
        # Entries carry the parking's number: one left from an earlier parking is stale.
        self._parked: dict[str, deque[tuple[str, int]]] = {}
        self._is_parked: dict[str, int] = {}
        self._parkings = 0
        self._woken_for: dict[str, str] = {}
        self._held: dict[str, Slot[T]] = {}
        self._running: dict[str, Slot[T]] = {}
        self._origin_in_flight: dict[str, int] = {}
        self._probing: set[str] = set()

    # -- what the worker holds ----------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """Windows started and not yet finished."""
        return len(self._running)

    @property
    def held(self) -> int:
        """Webhooks held: waiting for a slot or in flight."""
        return len(self._held)

    def holds(self, webhook_id: str) -> bool:
        """Whether ``webhook_id`` is waiting or in flight here."""
        return webhook_id in self._held

    def held_ids(self) -> set[str]:
        """Ids of every webhook held."""
        return set(self._held)

    def full_tenants(self) -> list[str]:
        """Tenants holding as many webhooks as one tenant may (half the capacity, the most
        its share can ever be): the worker claims no more of theirs."""
        return list(self._full)

    def full(self, tenant: str | None) -> bool:
        """Whether ``tenant`` holds as many webhooks as one tenant may."""
        return tenant in self._full

    def starved(self) -> bool:
        """Whether slots are free that no waiting webhook can use (all wait on their share
        or a closed origin): then the worker should look for other tenants' work."""
        return len(self._running) < self._capacity and not self._line

    def waiting(self) -> list[Slot[T]]:
        """The webhooks waiting for a slot."""
        return [s for s in self._held.values() if s.webhook_id not in self._running]

    def probing(self, origin: str) -> bool:
        """Whether ``origin`` is being probed one delivery at a time."""
        return origin in self._probing

    def share(self) -> int:
        """The most windows one tenant may have in flight now."""
        return max(1, self._capacity // (len(self._tenants) + 1))

    # -- changes ------------------------------------------------------------------------
    def offer(self, slot: Slot[T]) -> bool:
        """Add a claimed webhook to its tenant's turn; False if it is held already."""
        if slot.webhook_id in self._held:
            return False
        self._held[slot.webhook_id] = slot
        tenant = self._tenants.get(slot.tenant)
        if tenant is None:
            tenant = self._tenants[slot.tenant] = _Tenant()
        self._count(slot.tenant, tenant, +1)
        queue = tenant.origins.get(slot.origin)
        if queue is None:
            queue = tenant.origins[slot.origin] = deque()
        queue.append(slot)
        if slot.tenant not in self._is_parked:
            self._enter(slot.tenant)
        elif self._origin_open(slot.origin):
            self._unpark(slot.tenant, front=False)
        else:
            parking = (slot.tenant, self._is_parked[slot.tenant])
            self._parked.setdefault(slot.origin, deque()).append(parking)
        return True

    def drop(self, webhook_id: str) -> Slot[T] | None:
        """Forget a waiting webhook (e.g. its lease was lost); in-flight ones stay."""
        slot = self._held.get(webhook_id)
        if slot is None or webhook_id in self._running:
            return None
        del self._held[webhook_id]
        share_before = self.share()
        tenant = self._tenants[slot.tenant]
        self._count(slot.tenant, tenant, -1)
        queue = tenant.origins[slot.origin]
        queue.remove(slot)
        if not queue:
            del tenant.origins[slot.origin]
        self._forget_idle(slot.tenant)
        if self.share() > share_before:
            self._share_grew()
        return slot

    def next(self) -> Slot[T] | None:
        """The next window to start (now counted in flight), or None if none may start."""
        if len(self._running) >= self._capacity:
            return None
        share = self.share()
        while self._line:
            name = self._line.popleft()
            self._in_line.discard(name)
            woken_for = self._woken_for.pop(name, None)
            slot = self._try(name, share, woken=woken_for is not None)
            if woken_for is not None and (slot is None or slot.origin != woken_for):
                self._wake(woken_for)  # it did not use the origin: the next parked may
            if slot is not None:
                return slot
        return None

    def _try(self, name: str, share: int, *, woken: bool) -> Slot[T] | None:
        """Start the tenant's next window if it may; else step it aside (share, origins)."""
        tenant = self._tenants.get(name)
        if tenant is None or not tenant.origins:
            return None
        if tenant.in_flight >= share:
            self._at_share.add(name)
            return None
        slot = self._take(tenant)
        if slot is None:
            # Woken and still unlucky: it has waited longest, so it keeps the front.
            self._park(name, tenant, front=woken)
            return None
        self._start(slot, tenant)
        self._enter(name)  # to the back of the line, if it still has waiting webhooks
        return slot

    def finished(self, webhook_id: str, *, answered: bool | None = None) -> Slot[T]:
        """Free a window's slot; ``answered`` tells whether its origin answered HTTP.

        ``answered=False`` (no HTTP answer at all) puts the origin in probing; ``True``
        takes it out; ``None`` (nothing was sent) leaves it as it is. The webhook is no
        longer held: ``offer`` it again to send its next window.
        """
        slot = self._running.pop(webhook_id)
        del self._held[webhook_id]
        share_before = self.share()
        tenant = self._tenants[slot.tenant]
        tenant.in_flight -= 1
        self._count(slot.tenant, tenant, -1)
        left = self._origin_in_flight[slot.origin] - 1
        if left:
            self._origin_in_flight[slot.origin] = left
        else:
            del self._origin_in_flight[slot.origin]
        if answered is True:
            self._probing.discard(slot.origin)
        elif answered is False:
            self._probing.add(slot.origin)
        self._forget_idle(slot.tenant)
        if slot.tenant in self._at_share and tenant.in_flight < self.share():
            self._at_share.discard(slot.tenant)
            self._enter(slot.tenant)
        self._wake(slot.origin, count=self._room(slot.origin))
        if self.share() > share_before:
            self._share_grew()
        return slot

    # -- internals ----------------------------------------------------------------------
    def _room(self, origin: str) -> int:
        limit = 1 if origin in self._probing else self._origin_limit
        return limit - self._origin_in_flight.get(origin, 0)

    def _origin_open(self, origin: str) -> bool:
        return self._room(origin) > 0

    def _wake(self, origin: str, *, count: int = 1) -> None:
        """Put up to ``count`` tenants parked on an open ``origin`` at the front of the line."""
        waiting = self._parked.get(origin)
        while waiting and count > 0 and self._origin_open(origin):
            name, parking = waiting.popleft()
            if self._is_parked.get(name) != parking:
                continue  # woken already (through another origin) since it parked here
            self._unpark(name, front=True)
            if name in self._in_line:
                self._woken_for[name] = origin
                count -= 1
        if not waiting:
            self._parked.pop(origin, None)

    def _take(self, tenant: _Tenant[T]) -> Slot[T] | None:
        """The first webhook of the tenant's first open origin; that origin goes last."""
        for origin, queue in tenant.origins.items():
            if not self._origin_open(origin):
                continue
            slot = queue.popleft()
            if queue:
                tenant.origins.move_to_end(origin)
            else:
                del tenant.origins[origin]
            return slot
        return None

    def _count(self, name: str, tenant: _Tenant[T], change: int) -> None:
        """Change what the tenant holds, keeping the set of full tenants with it."""
        tenant.held += change
        if tenant.held >= self._tenant_hold_limit:
            self._full.add(name)
        else:
            self._full.discard(name)

    def _start(self, slot: Slot[T], tenant: _Tenant[T]) -> None:
        self._running[slot.webhook_id] = slot
        tenant.in_flight += 1
        self._origin_in_flight[slot.origin] = self._origin_in_flight.get(slot.origin, 0) + 1

    def _enter(self, name: str, *, front: bool = False) -> None:
        """Put a tenant with waiting webhooks in line (unless it is in line or parked)."""
        tenant = self._tenants.get(name)
        if tenant is None or not tenant.origins or name in self._in_line:
            return
        if name in self._is_parked or name in self._at_share:
            return
        self._in_line.add(name)
        if front:
            self._line.appendleft(name)
        else:
            self._line.append(name)

    def _park(self, name: str, tenant: _Tenant[T], *, front: bool = False) -> None:
        """Step a tenant out of line until one of its waiting webhooks' origins opens."""
        self._parkings += 1
        self._is_parked[name] = self._parkings
        for origin in tenant.origins:
            waiting = self._parked.setdefault(origin, deque())
            if front:
                waiting.appendleft((name, self._parkings))
            else:
                waiting.append((name, self._parkings))

    def _unpark(self, name: str, *, front: bool) -> None:
        if name in self._is_parked:
            del self._is_parked[name]
            self._enter(name, front=front)

    def _share_grew(self) -> None:
        """Tenants held back at their share may start again (fewer tenants are active)."""
        share = self.share()
        for name in [n for n in self._at_share if self._tenants[n].in_flight < share]:
            self._at_share.discard(name)
            self._enter(name, front=True)

    def _forget_idle(self, name: str) -> None:
        tenant = self._tenants.get(name)
        if tenant is not None and not tenant.in_flight and not tenant.origins:
            del self._tenants[name]
            self._at_share.discard(name)
            self._is_parked.pop(name, None)
            woken_for = self._woken_for.pop(name, None)
            if woken_for is not None:
                self._wake(woken_for)  # it left before using the origin: pass the turn on
