"""How big each measure is: full size, ``quick()`` for a smoke run, ``tiny()`` for the tests."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOISY_LAYOUTS", "NOISY_MODES", "Sizes"]

NOISY_MODES = ("slow", "blackhole", "refusing")
NOISY_LAYOUTS = ("spread", "one host")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizes:
    """How big each measure is; ``quick()`` for a smoke run, ``tiny()`` for the test suite."""

    throughput_changes: int = 50_000
    repeats: int = 3
    fanout_webhooks: int = 100
    fanout_changes: int = 1_000
    latency_rate: int = 1_000
    latency_seconds: float = 10.0
    backlog_changes: int = 1_000_000
    backlog_records: int = 10_000
    api_seconds: float = 5.0
    api_concurrency: int = 32
    api_records: int = 10_000
    write_seconds: float = 4.0
    # Noisy neighbours: tenant A's bad webhooks (0 = the reference), how they fail, where.
    noisy_webhooks: tuple[int, ...] = (0, 100, 500)
    noisy_modes: tuple[str, ...] = NOISY_MODES
    noisy_layouts: tuple[str, ...] = NOISY_LAYOUTS
    noisy_seconds: float = 20.0
    noisy_slow_seconds: float = 10.0
    # Idle fan-out: enabled webhooks (one active), over 1 tenant or min(webhooks, idle_tenants).
    idle_webhooks: tuple[int, ...] = (10, 1_000, 10_000, 100_000)
    idle_tenants: int = 10_000
    idle_seconds: float = 10.0
    idle_active_rate: int = 100
    idle_active_seconds: float = 5.0
    # One change to N webhooks of one tenant, against a 1-webhook drain of broadcast_drain.
    broadcast_webhooks: tuple[int, ...] = (1, 100, 1_000, 5_000)
    broadcast_drain: int = 5_000
    broadcast_repeats: int = 3
    broadcast_min_deliveries: int = 200  # more turns for small N: CPU is read in 10 ms ticks
    # Many tenants, one webhook each: a drain of tenants_changes, then a trickle.
    tenants_counts: tuple[int, ...] = (1, 100, 1_000, 10_000)
    tenants_changes: int = 20_000
    tenants_trickle_rate: int = 50
    tenants_trickle_seconds: float = 10.0
    # Takeover (PostgreSQL): lease periods to run with, tenants x webhooks with steady writes.
    takeover_leases: tuple[float, ...] = (30.0, 5.0)
    takeover_tenants: int = 4
    takeover_webhooks_per_tenant: int = 3

    @classmethod
    def quick(cls) -> Sizes:
        """A smoke run: every measure, small (about a minute per store for the new ones)."""
        return cls(
            throughput_changes=5_000,
            repeats=1,
            fanout_webhooks=20,
            fanout_changes=250,
            latency_rate=1_000,
            latency_seconds=2.0,
            backlog_changes=50_000,
            backlog_records=2_000,
            api_seconds=1.0,
            api_records=1_000,
            write_seconds=1.0,
            noisy_webhooks=(0, 50),
            noisy_seconds=3.0,
            idle_webhooks=(10, 1_000),
            idle_seconds=3.0,
            idle_active_seconds=2.0,
            broadcast_webhooks=(1, 100, 1_000),
            broadcast_drain=1_000,
            broadcast_repeats=1,
            broadcast_min_deliveries=100,
            tenants_counts=(1, 100, 1_000),
            tenants_changes=5_000,
            tenants_trickle_seconds=2.0,
            takeover_leases=(5.0,),
        )

    @classmethod
    def tiny(cls) -> Sizes:
        """A few seconds per measure: enough to prove the code still runs."""
        return cls(
            throughput_changes=300,
            repeats=1,
            fanout_webhooks=3,
            fanout_changes=50,
            latency_rate=200,
            latency_seconds=0.5,
            backlog_changes=2_000,
            backlog_records=200,
            api_seconds=0.3,
            api_concurrency=4,
            api_records=200,
            write_seconds=0.3,
            noisy_webhooks=(0, 2),
            noisy_modes=("blackhole",),
            noisy_layouts=("spread",),
            noisy_seconds=0.6,
            noisy_slow_seconds=0.5,
            idle_webhooks=(4,),
            idle_tenants=3,
            idle_seconds=0.5,
            idle_active_rate=40,
            idle_active_seconds=0.3,
            broadcast_webhooks=(1, 4),
            broadcast_drain=400,  # enough worker CPU to show in 10 ms ticks (20 could read 0)
            broadcast_repeats=1,
            broadcast_min_deliveries=1,
            tenants_counts=(1, 3),
            tenants_changes=30,
            tenants_trickle_rate=20,
            tenants_trickle_seconds=0.3,
            takeover_leases=(2.0,),
            takeover_tenants=2,
            takeover_webhooks_per_tenant=1,
        )
