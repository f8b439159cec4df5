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
- **Round robin.** Tenants with work take turns, one window per turn; within a tenant its
  destinations take turns, and within a destination its webhooks.
- **Destinations.** At most ``origin_limit`` windows are in flight per destination origin;
  while an origin is *probing* (its last attempt got no HTTP answer: a timeout or a refused
  or broken connection) only one window, of one delivery, goes to it until it answers.
  Webhooks waiting for their origin hold no slot.

So a tenant with work gets a window within one turn of every other tenant with work
(``tests/unit/test_scheduler.py`` checks the bound with a state machine).
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
    """A tenant's ready webhooks by origin (round robin) and its windows in flight."""

    origins: OrderedDict[str, deque[Slot[T]]] = field(default_factory=OrderedDict)
    in_flight: int = 0

    @property
    def ready(self) -> int:
        return sum(len(q) for q in self.origins.values())


class Scheduler(Generic[T]):
    """Hands out windows to start, under the slot, share, destination and turn rules."""

    def __init__(self, *, capacity: int, origin_limit: int) -> None:
        if capacity < 1 or origin_limit < 1:
            raise ValueError("capacity and origin_limit must be at least 1")
        self._capacity = capacity
        self._origin_limit = origin_limit
        self._tenants: OrderedDict[str, _Tenant[T]] = OrderedDict()
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

    def waiting(self) -> list[Slot[T]]:
        """The webhooks waiting for a slot."""
        return [s for s in self._held.values() if s.webhook_id not in self._running]

    def probing(self, origin: str) -> bool:
        """Whether ``origin`` is being probed one delivery at a time."""
        return origin in self._probing

    def share(self) -> int:
        """The most windows one tenant may have in flight now."""
        active = sum(1 for t in self._tenants.values() if t.in_flight or t.origins)
        return max(1, self._capacity // (active + 1))

    # -- changes ------------------------------------------------------------------------
    def offer(self, slot: Slot[T]) -> bool:
        """Add a claimed webhook to its tenant's turn; False if it is held already."""
        if slot.webhook_id in self._held:
            return False
        self._held[slot.webhook_id] = slot
        tenant = self._tenants.get(slot.tenant)
        if tenant is None:
            tenant = self._tenants[slot.tenant] = _Tenant()
        queue = tenant.origins.get(slot.origin)
        if queue is None:
            queue = tenant.origins[slot.origin] = deque()
        queue.append(slot)
        return True

    def drop(self, webhook_id: str) -> Slot[T] | None:
        """Forget a waiting webhook (e.g. its lease was lost); in-flight ones stay."""
        slot = self._held.get(webhook_id)
        if slot is None or webhook_id in self._running:
            return None
        del self._held[webhook_id]
        tenant = self._tenants[slot.tenant]
        queue = tenant.origins[slot.origin]
        queue.remove(slot)
        if not queue:
            del tenant.origins[slot.origin]
        self._forget_idle(slot.tenant)
        return slot

    def next(self) -> Slot[T] | None:
        """The next window to start (now counted in flight), or None if none may start."""
        if len(self._running) >= self._capacity:
            return None
        share = self.share()
        for _ in range(len(self._tenants)):
            name, tenant = next(iter(self._tenants.items()))
            self._tenants.move_to_end(name)  # this tenant's turn is used, whatever happens
            if tenant.in_flight >= share:
                continue
            slot = self._take(tenant)
            if slot is not None:
                return self._start(slot, tenant)
        return None

    def finished(self, webhook_id: str, *, answered: bool | None = None) -> Slot[T]:
        """Free a window's slot; ``answered`` tells whether its origin answered HTTP.

        ``answered=False`` (no HTTP answer at all) puts the origin in probing; ``True``
        takes it out; ``None`` (nothing was sent) leaves it as it is. The webhook is no
        longer held: ``offer`` it again to send its next window.
        """
        slot = self._running.pop(webhook_id)
        del self._held[webhook_id]
        tenant = self._tenants[slot.tenant]
        tenant.in_flight -= 1
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
        return slot

    # -- internals ----------------------------------------------------------------------
    def _origin_open(self, origin: str) -> bool:
        limit = 1 if origin in self._probing else self._origin_limit
        return self._origin_in_flight.get(origin, 0) < limit

    def _take(self, tenant: _Tenant[T]) -> Slot[T] | None:
        """The first webhook of the tenant's next open origin, rotating the origins."""
        for _ in range(len(tenant.origins)):
            origin, queue = next(iter(tenant.origins.items()))
            tenant.origins.move_to_end(origin)
            if not self._origin_open(origin):
                continue
            slot = queue.popleft()
            if not queue:
                del tenant.origins[origin]
            return slot
        return None

    def _start(self, slot: Slot[T], tenant: _Tenant[T]) -> Slot[T]:
        self._running[slot.webhook_id] = slot
        tenant.in_flight += 1
        self._origin_in_flight[slot.origin] = self._origin_in_flight.get(slot.origin, 0) + 1
        return slot

    def _forget_idle(self, name: str) -> None:
        tenant = self._tenants.get(name)
        if tenant is not None and not tenant.in_flight and not tenant.origins:
            del self._tenants[name]
