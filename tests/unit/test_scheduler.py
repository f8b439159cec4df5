"""The delivery scheduler: slots, one window per webhook, fair shares, turns, origin limits and
probing, then the same rules (and a bounded wait) under random offers, picks and finishes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from workhooks.delivery.scheduler import Scheduler, Slot

O1 = "http://a.example:80"
O2 = "http://b.example:80"
O3 = "http://c.example:80"


def slot(webhook_id: str, tenant: str = "acme", origin: str = O1) -> Slot[None]:
    """A claimed webhook without payload."""
    return Slot(webhook_id, tenant, origin, None)


def make(*, capacity: int = 16, origin_limit: int = 8) -> Scheduler[None]:
    """A scheduler with the given capacity and origin limit."""
    return Scheduler(capacity=capacity, origin_limit=origin_limit)


def offer_all(scheduler: Scheduler[None], *slots: Slot[None]) -> None:
    """Offer every slot; each must be new."""
    for each in slots:
        assert scheduler.offer(each)


def drain(scheduler: Scheduler[None]) -> list[str]:
    """Ids of the windows ``next()`` hands out until it returns None, in order."""
    picked = []
    while (started := scheduler.next()) is not None:
        picked.append(started.webhook_id)
    return picked


# -- slots and webhooks --------------------------------------------------------------------


@pytest.mark.parametrize(("capacity", "origin_limit"), [(0, 1), (1, 0), (-3, 5)])
def test_capacity_and_origin_limit_below_one_are_refused(capacity: int, origin_limit: int) -> None:
    """A capacity or origin limit below one would never start anything, so it is refused."""
    with pytest.raises(ValueError, match="at least 1"):
        Scheduler[None](capacity=capacity, origin_limit=origin_limit)


def test_no_more_than_capacity_windows_are_in_flight() -> None:
    """With capacity 2, the third window starts only once one of the first two has finished."""
    scheduler = make(capacity=2)
    offer_all(scheduler, slot("a", "t1", O1), slot("b", "t2", O2), slot("c", "t3", O3))
    assert drain(scheduler) == ["a", "b"]
    assert scheduler.in_flight == 2
    scheduler.finished("a", answered=True)
    assert drain(scheduler) == ["c"]
    assert scheduler.in_flight == 2


def test_offer_of_a_held_webhook_returns_false_and_adds_nothing() -> None:
    """Offering an id already waiting or in flight is refused: one window per webhook at a time."""
    scheduler = make()
    assert scheduler.offer(slot("a"))
    assert not scheduler.offer(slot("a", origin=O2))
    assert scheduler.held == 1
    assert drain(scheduler) == ["a"]
    assert not scheduler.offer(slot("a"))
    assert drain(scheduler) == []
    assert scheduler.held == 1


def test_finished_webhook_is_no_longer_held_and_may_be_offered_again() -> None:
    """``finished`` frees the slot and forgets the webhook; offered again, it starts again."""
    scheduler = make()
    offer_all(scheduler, slot("a"))
    assert drain(scheduler) == ["a"]
    finished = scheduler.finished("a", answered=True)
    assert finished.webhook_id == "a"
    assert (scheduler.in_flight, scheduler.held, scheduler.holds("a")) == (0, 0, False)
    assert scheduler.offer(slot("a"))
    assert drain(scheduler) == ["a"]


# -- fair share ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "tenants", "share"),
    [(8, 1, 4), (8, 2, 2), (8, 3, 2), (9, 2, 3), (2, 1, 1), (2, 3, 1), (1, 1, 1), (256, 1, 128)],
)
def test_share_is_capacity_over_active_tenants_plus_one_at_least_one(
    capacity: int, tenants: int, share: int
) -> None:
    """The share is ``capacity // (active tenants + 1)``, and never below one."""
    scheduler = make(capacity=capacity)
    assert scheduler.share() == max(1, capacity)
    for index in range(tenants):
        scheduler.offer(slot(f"w{index}", f"t{index}"))
    assert scheduler.share() == share


def test_a_tenant_stops_at_its_share_with_capacity_left() -> None:
    """Alone, a tenant gets half of capacity 8 (4 windows), even with more waiting and room."""
    scheduler = make(capacity=8, origin_limit=8)
    offer_all(scheduler, *(slot(f"n{i}", "noisy", f"http://h{i}:80") for i in range(10)))
    assert len(drain(scheduler)) == 4
    assert scheduler.in_flight == 4


def test_a_newcomer_finds_a_free_slot_while_the_active_tenant_is_at_its_share() -> None:
    """With a tenant's whole share hung, a tenant that just got work starts at once (``+ 1``)."""
    scheduler = make(capacity=4, origin_limit=4)
    offer_all(scheduler, *(slot(f"n{i}", "noisy", f"http://h{i}:80") for i in range(10)))
    assert drain(scheduler) == ["n0", "n1"]
    offer_all(scheduler, slot("c", "calm", O1))
    assert drain(scheduler) == ["c"]


def test_a_tenant_above_a_shrunken_share_starts_nothing_until_below_it() -> None:
    """When newcomers shrink the share, a tenant above it waits until it is back below it."""
    scheduler = make(capacity=8)
    offer_all(scheduler, *(slot(f"a{i}", "a", f"http://h{i}:80") for i in range(6)))
    assert drain(scheduler) == ["a0", "a1", "a2", "a3"]
    offer_all(scheduler, slot("b0", "b"), slot("c0", "c"))
    assert scheduler.share() == 2
    assert drain(scheduler) == ["b0", "c0"]
    scheduler.finished("a0", answered=True)
    assert drain(scheduler) == []
    scheduler.finished("a1", answered=True)
    scheduler.finished("a2", answered=True)
    assert drain(scheduler) == ["a4"]


def test_a_tenant_with_nothing_held_leaves_the_share_count() -> None:
    """A tenant whose last window finished no longer counts as active, so the share grows back."""
    scheduler = make(capacity=12)
    offer_all(scheduler, slot("a", "t1"), slot("b", "t2"))
    assert scheduler.share() == 4
    drain(scheduler)
    scheduler.finished("b", answered=True)
    assert scheduler.share() == 6


# -- turns -----------------------------------------------------------------------------------


def test_tenants_take_turns_one_window_each() -> None:
    """Tenants with work alternate, one window per turn, in the order they first had work."""
    scheduler = make(capacity=64, origin_limit=64)
    for i in range(3):
        offer_all(scheduler, slot(f"a{i}", "a"), slot(f"b{i}", "b"), slot(f"c{i}", "c"))
    assert drain(scheduler) == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]


def test_a_tenant_with_many_webhooks_does_not_delay_one_with_few() -> None:
    """A tenant offering 50 webhooks before another's one still lets the other start second."""
    scheduler = make(capacity=64, origin_limit=64)
    offer_all(scheduler, *(slot(f"n{i}", "noisy") for i in range(50)))
    offer_all(scheduler, slot("c", "calm"))
    assert drain(scheduler)[:2] == ["n0", "c"]


def test_a_tenant_whose_origin_is_busy_at_its_turn_is_not_overtaken_for_ever() -> None:
    """A tenant skipped because its origin was busy still gets the origin within one turn of
    each other tenant once it frees, however often the others come back for it."""
    scheduler = make(capacity=64, origin_limit=1)
    # "b" always has a second webhook waiting on O1, "a" always has work on its own origins,
    # "t" has one webhook, on O1: the origin "b" keeps coming back for.
    offer_all(scheduler, slot("b1", "b", O1), slot("b2", "b", O1), slot("t1", "t", O1))
    offer_all(scheduler, *(slot(f"a{i}", "a", f"http://a{i}:80") for i in range(8)))
    picks: list[str] = []
    for _ in range(4):
        on_origin = scheduler.next()  # the origin is free: whoever's turn it is takes it
        elsewhere = scheduler.next()  # the origin is busy: a tenant with another origin
        assert on_origin is not None
        assert elsewhere is not None
        picks += [on_origin.webhook_id, elsewhere.webhook_id]
        if on_origin.tenant == "t":
            break
        scheduler.finished(on_origin.webhook_id, answered=True)
        scheduler.offer(on_origin)  # it has more to send, as the worker does
        scheduler.finished(elsewhere.webhook_id, answered=True)
        scheduler.offer(elsewhere)
    # Three tenants: "t" may wait for "b" and "a" once each, so it must have O1 by pick 5.
    assert "t1" in picks[:5], f"t1 never started: {picks}"


def test_a_tenants_origins_take_turns_then_its_webhooks_in_offer_order() -> None:
    """Within a tenant, origins alternate; within an origin, webhooks go in the order offered."""
    scheduler = make(capacity=64, origin_limit=64)
    offer_all(
        scheduler,
        slot("x1", origin=O1),
        slot("x2", origin=O1),
        slot("x3", origin=O1),
        slot("y1", origin=O2),
        slot("z1", origin=O3),
        slot("z2", origin=O3),
    )
    assert drain(scheduler) == ["x1", "y1", "z1", "x2", "z2", "x3"]


# -- origins and probing ---------------------------------------------------------------------


def test_an_origin_has_at_most_origin_limit_windows_in_flight() -> None:
    """With an origin limit of 2, a third window to the origin waits for one of the two."""
    scheduler = make(capacity=64, origin_limit=2)
    offer_all(scheduler, slot("a", origin=O1), slot("b", origin=O1), slot("c", origin=O1))
    assert drain(scheduler) == ["a", "b"]
    scheduler.finished("b", answered=True)
    assert drain(scheduler) == ["c"]


def test_the_origin_limit_counts_every_tenants_windows() -> None:
    """Windows of different tenants to one origin share its limit."""
    scheduler = make(capacity=64, origin_limit=1)
    offer_all(scheduler, slot("a", "t1", O1), slot("b", "t2", O1), slot("c", "t3", O2))
    assert drain(scheduler) == ["a", "c"]
    scheduler.finished("a", answered=True)
    assert drain(scheduler) == ["b"]


def test_webhooks_waiting_for_a_full_origin_do_not_block_the_tenants_other_origins() -> None:
    """A tenant's webhooks on a full origin hold no slot: its other origins still start."""
    scheduler = make(capacity=64, origin_limit=1)
    offer_all(scheduler, slot("a1", origin=O1), slot("a2", origin=O1), slot("b1", origin=O2))
    assert drain(scheduler) == ["a1", "b1"]
    assert scheduler.in_flight == 2


def test_an_origin_that_did_not_answer_is_probed_one_window_at_a_time() -> None:
    """After no HTTP answer, one window at a time goes to the origin until it answers again."""
    scheduler = make(capacity=64, origin_limit=4)
    offer_all(scheduler, slot("w0"))
    drain(scheduler)
    scheduler.finished("w0", answered=False)
    assert scheduler.probing(O1)
    offer_all(scheduler, *(slot(f"w{i}") for i in range(1, 6)))
    assert drain(scheduler) == ["w1"]
    scheduler.finished("w1", answered=None)  # nothing sent: still probing
    assert scheduler.probing(O1)
    assert drain(scheduler) == ["w2"]
    scheduler.finished("w2", answered=True)
    assert not scheduler.probing(O1)
    assert drain(scheduler) == ["w3", "w4", "w5"]


def test_probing_one_origin_leaves_other_origins_at_their_limit() -> None:
    """Probing is per origin: another origin of the same tenant keeps its full limit."""
    scheduler = make(capacity=64, origin_limit=2)
    offer_all(scheduler, slot("p"))
    drain(scheduler)
    scheduler.finished("p", answered=False)
    offer_all(scheduler, *(slot(f"a{i}", origin=O1) for i in range(3)))
    offer_all(scheduler, *(slot(f"b{i}", origin=O2) for i in range(3)))
    assert sorted(drain(scheduler)) == ["a0", "b0", "b1"]
    assert not scheduler.probing(O2)


def test_a_failure_while_windows_are_in_flight_lets_them_finish_but_starts_no_more() -> None:
    """With two windows in flight, one failing unanswered leaves the origin full until both end."""
    scheduler = make(capacity=64, origin_limit=2)
    offer_all(scheduler, *(slot(f"w{i}") for i in range(4)))
    assert drain(scheduler) == ["w0", "w1"]
    scheduler.finished("w0", answered=False)
    assert drain(scheduler) == []
    scheduler.finished("w1", answered=False)
    assert drain(scheduler) == ["w2"]


# -- drop ------------------------------------------------------------------------------------


def test_drop_forgets_a_waiting_webhook() -> None:
    """A dropped waiting webhook is no longer held and never starts."""
    scheduler = make(capacity=64, origin_limit=1)
    offer_all(scheduler, slot("a"), slot("b"))
    assert drain(scheduler) == ["a"]
    dropped = scheduler.drop("b")
    assert dropped is not None
    assert dropped.webhook_id == "b"
    assert not scheduler.holds("b")
    scheduler.finished("a", answered=True)
    assert drain(scheduler) == []


def test_drop_leaves_a_window_in_flight_and_ignores_unknown_ids() -> None:
    """Dropping an in-flight webhook or an unknown id returns None and changes nothing."""
    scheduler = make()
    offer_all(scheduler, slot("a"))
    drain(scheduler)
    assert scheduler.drop("a") is None
    assert scheduler.drop("nope") is None
    assert (scheduler.held, scheduler.in_flight) == (1, 1)


def test_dropping_a_tenants_last_webhook_makes_it_inactive() -> None:
    """A tenant whose only waiting webhook is dropped no longer shrinks the others' share."""
    scheduler = make(capacity=12)
    offer_all(scheduler, slot("a", "t1"), slot("b", "t2"))
    assert scheduler.share() == 4
    scheduler.drop("b")
    assert scheduler.share() == 6


# -- the state machine -----------------------------------------------------------------------

TENANTS = ("t0", "t1", "t2", "t3")
ORIGINS = ("http://o0:80", "http://o1:80", "http://o2:80", "http://o3:80")
WEBHOOKS = 24


@dataclass
class Model:
    """What the scheduler should hold: webhooks, windows in flight, origins being probed."""

    capacity: int
    origin_limit: int
    layout: list[tuple[str, str]]
    held: set[int] = field(default_factory=set)
    running: set[int] = field(default_factory=set)
    probing: set[str] = field(default_factory=set)

    def tenants(self) -> set[str]:
        """Tenants holding a webhook (waiting or in flight)."""
        return {self.layout[i][0] for i in self.held}

    def share(self) -> int:
        """The fair share: capacity // (active tenants + 1), at least 1."""
        return max(1, self.capacity // (len(self.tenants()) + 1))

    def in_flight(self, tenant: str) -> int:
        """Windows of ``tenant`` in flight."""
        return sum(1 for i in self.running if self.layout[i][0] == tenant)

    def origin_open(self, origin: str) -> bool:
        """Whether one more window may go to ``origin`` (limit 1 while probing)."""
        limit = 1 if origin in self.probing else self.origin_limit
        return sum(1 for i in self.running if self.layout[i][1] == origin) < limit

    def may_start(self, tenant: str) -> bool:
        """Whether ``tenant`` could start a window now: a free slot, below its share, an open
        origin among its waiting webhooks."""
        if len(self.running) >= self.capacity or self.in_flight(tenant) >= self.share():
            return False
        return any(
            self.origin_open(self.layout[i][1])
            for i in self.held - self.running
            if self.layout[i][0] == tenant
        )


class SchedulerMachine(RuleBasedStateMachine):
    """Random offers, picks, finishes and drops against the model, checking every rule."""

    def __init__(self) -> None:
        super().__init__()
        self.scheduler: Scheduler[int] = Scheduler(capacity=1, origin_limit=1)
        self.model = Model(capacity=1, origin_limit=1, layout=[])
        # Picks that went to other tenants while the tenant could have started, since its last
        # window (or since it last held nothing: a tenant with no work is not waiting), and the
        # most tenants held at once over that time. The bound is twice that peak: each other
        # tenant may pass it once in the line and once more from the front of an origin it
        # waited on first (a parked tenant is woken ahead of the line when its origin opens),
        # and it is the peak, not the count of the moment: a tenant that queued behind three
        # others, each of which then had one window and left, was passed over three times
        # with only two tenants still held.
        self.passed_over: dict[str, int] = dict.fromkeys(TENANTS, 0)
        self.crowd: dict[str, int] = dict.fromkeys(TENANTS, 0)

    @initialize(
        capacity=st.integers(1, 8),
        origin_limit=st.integers(1, 3),
        layout=st.lists(
            st.tuples(st.sampled_from(TENANTS), st.sampled_from(ORIGINS)),
            min_size=WEBHOOKS,
            max_size=WEBHOOKS,
        ),
    )
    def setup(self, capacity: int, origin_limit: int, layout: list[tuple[str, str]]) -> None:
        """Pick capacity, origin limit and each webhook's tenant and origin."""
        self.scheduler = Scheduler(capacity=capacity, origin_limit=origin_limit)
        self.model = Model(capacity=capacity, origin_limit=origin_limit, layout=layout)

    @rule(index=st.integers(0, WEBHOOKS - 1))
    def offer(self, index: int) -> None:
        """Offering succeeds exactly when the webhook is not held yet."""
        tenant, origin = self.model.layout[index]
        accepted = self.scheduler.offer(Slot(f"w{index}", tenant, origin, index))
        assert accepted == (index not in self.model.held)
        self.model.held.add(index)
        self._note_crowd()

    @rule(index=st.integers(0, WEBHOOKS - 1))
    def drop(self, index: int) -> None:
        """Dropping forgets a waiting webhook and leaves in-flight and unknown ones alone."""
        dropped = self.scheduler.drop(f"w{index}")
        waiting = index in self.model.held - self.model.running
        assert (dropped is not None) == waiting
        if waiting:
            assert dropped is not None
            assert dropped.payload == index
            self.model.held.discard(index)
            self._forget_if_idle(self.model.layout[index][0])

    @rule()
    def pick(self) -> None:
        """One ``next()`` call: a pick respects every rule, None means nobody could start."""
        self._next()

    @rule()
    def dispatch(self) -> None:
        """``next()`` until None, as the worker does whenever a slot is freed."""
        while self._next():
            pass

    @precondition(lambda self: bool(self.model.running))
    @rule(data=st.data(), answered=st.sampled_from([True, False, None]), again=st.booleans())
    def finish(self, data: st.DataObject, answered: bool | None, again: bool) -> None:
        """Finishing frees the slot, forgets the webhook and updates the origin's probing;
        ``again`` offers the webhook straight back, as the worker does when it has more."""
        index = data.draw(st.sampled_from(sorted(self.model.running)), label="window")
        finished = self.scheduler.finished(f"w{index}", answered=answered)
        assert finished.payload == index
        self.model.running.discard(index)
        self.model.held.discard(index)
        origin = self.model.layout[index][1]
        if answered is True:
            self.model.probing.discard(origin)
        elif answered is False:
            self.model.probing.add(origin)
        self._forget_if_idle(self.model.layout[index][0])
        if again:
            self.offer(index)

    def _next(self) -> bool:
        """Call ``next()`` and check the pick against the model; False if it returned None."""
        could = {t for t in self.model.tenants() if self.model.may_start(t)}
        started = self.scheduler.next()
        if started is None:
            assert not could, f"next() returned None while {sorted(could)} could start"
            return False
        index = started.payload
        tenant, origin = self.model.layout[index]
        assert (started.tenant, started.origin) == (tenant, origin)
        assert index in self.model.held, "started a webhook that was never offered"
        assert index not in self.model.running, "a webhook has two windows in flight"
        assert len(self.model.running) < self.model.capacity, "started beyond capacity"
        assert self.model.in_flight(tenant) < self.model.share(), "started at or above share"
        assert self.model.origin_open(origin), "started on an origin at its limit"
        self.model.running.add(index)
        for other in could - {tenant}:
            self.passed_over[other] += 1
        self._reset_wait(tenant)
        waited = {t: n for t, n in self.passed_over.items() if n > 2 * self.crowd[t]}
        assert not waited, f"passed over more than twice per tenant held: {waited} > {self.crowd}"
        return True

    def _forget_if_idle(self, tenant: str) -> None:
        if tenant not in self.model.tenants():
            self._reset_wait(tenant)

    def _reset_wait(self, tenant: str) -> None:
        self.passed_over[tenant] = 0
        self.crowd[tenant] = len(self.model.tenants())

    def _note_crowd(self) -> None:
        held = len(self.model.tenants())
        for tenant in TENANTS:
            self.crowd[tenant] = max(self.crowd[tenant], held)

    @invariant()
    def matches_the_model(self) -> None:
        """Held, in flight, share and probing agree with the model; capacity is never exceeded."""
        model = self.model
        assert self.scheduler.in_flight == len(model.running) <= model.capacity
        assert self.scheduler.held_ids() == {f"w{i}" for i in model.held}
        assert {s.payload for s in self.scheduler.waiting()} == model.held - model.running
        assert self.scheduler.share() == model.share()
        assert {o for o in ORIGINS if self.scheduler.probing(o)} == model.probing


def test_scheduler_keeps_every_rule_and_bounds_each_tenants_wait() -> None:
    """Under random offers, picks, finishes and drops, no rule is broken and no tenant that
    could start is passed over more than twice per tenant held while it waits."""
    run_state_machine_as_test(
        SchedulerMachine, settings=settings(max_examples=200, stateful_step_count=50, deadline=None)
    )
