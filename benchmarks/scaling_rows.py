"""The measures-table rows of the scaling measures: noisy, idle, broadcast, tenants, takeover.

``benchmarks.report`` puts these after its own rows, only for measures that ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.scaling_goals import ms, runs_of

__all__ = ["scaling_rows"]

_MODES = {
    "slow": "slow (200 after {slow:g} s)",
    "blackhole": "blackholed (connection accepted, never answered)",
    "refusing": "refusing connections",
}
_LAYOUTS = {"spread": "each on its own origin", "one host": "all on one origin"}


def _noisy_cell(runs: Sequence[dict[str, Any]]) -> str:
    if not runs:
        return "not run"
    return "; ".join(
        (f"K={r['webhooks']}: " if r["webhooks"] else "")
        + f"{ms(r['p50_ms'])} / {ms(r['p99_ms'])} ms, {r['received']}/{r['written']} received, "
        f"{r['b_failed_attempts']} failed"
        for r in runs
    )


def _noisy_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    info = next(s["noisy"] for s in stores if "noisy" in s)
    every = f"a change every {info['b_interval_seconds'] * 1000:g} ms for {info['seconds']:g} s"
    rows = [
        (
            f"noisy neighbours: tenant B alone ({every}): B's p50 / p99 from the start of the "
            "write, received, B's failed attempts",
            [_noisy_cell([r for r in runs_of(s, "noisy") if r["webhooks"] == 0]) for s in stores],
        )
    ]
    pairs = [(r["mode"], r["layout"]) for s in stores for r in runs_of(s, "noisy") if r["mode"]]
    for mode, layout in dict.fromkeys(pairs):
        what = _MODES.get(mode, mode).format(slow=info["slow_seconds"])
        label = (
            f"noisy neighbours: tenant A's K webhooks {what}, {_LAYOUTS.get(layout, layout)}, "
            f"A writing every {info['a_interval_seconds']:g} s: the same figures of B"
        )
        cells = [
            _noisy_cell(
                [r for r in runs_of(s, "noisy") if (r["mode"], r["layout"]) == (mode, layout)]
            )
            for s in stores
        ]
        rows.append((label, cells))
    return rows


def _idle_cell(run: dict[str, Any] | None) -> str:
    if run is None:
        return "not run"
    if run.get("database_cpu_percent") is None:
        text = f"worker with SQLite {run['worker_cpu_percent']:.2f} %, "
        text += f"{run['statements_per_second']:.1f} statements/s"
    else:
        text = f"worker {run['worker_cpu_percent']:.2f} %, database "
        text += f"{run['database_cpu_percent']:.2f} %, {run['transactions_per_second']:.1f} "
        text += "transactions/s"
    return (
        f"{text} (settled after {run['settle_seconds']:.0f} s); active "
        f"{ms(run['active_p50_ms'])} / {ms(run['active_p99_ms'])} ms "
        f"({run['active_received']}/{run['active_written']})"
    )


def _idle_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    info = next(s["idle"] for s in stores if "idle" in s)
    keys = dict.fromkeys(
        (r["webhooks"], r["layout"], r["idle_tenants"]) for s in stores for r in runs_of(s, "idle")
    )
    rows = []
    for webhooks, layout, tenants in keys:
        label = (
            f"idle fan-out: {webhooks:,} webhooks, the idle ones over {tenants:,} tenant(s) "
            f"({layout}): CPU (% of a core) and SQL while idle {info['idle_seconds']:g} s; "
            f"the active webhook's p50 / p99 at {info['active_rate']}/s"
        )
        cells = [
            _idle_cell(
                next(
                    (
                        r
                        for r in runs_of(s, "idle")
                        if (r["webhooks"], r["layout"]) == (webhooks, layout)
                    ),
                    None,
                )
            )
            for s in stores
        ]
        rows.append((label, cells))
    return rows


def _broadcast_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    drains = [s.get("broadcast", {}).get("drain") for s in stores]
    size = next(d["deliveries"] for d in drains if d)
    rows = [
        (
            f"broadcast reference: 1-webhook drain of {size:,} changes, worker CPU per delivery",
            [
                "not run"
                if d is None
                else f"{d['cpu_per_delivery_us']:.0f} µs ({d['per_second']:,.0f}/s)"
                for d in drains
            ],
        )
    ]
    sizes = dict.fromkeys(r["webhooks"] for s in stores for r in runs_of(s, "broadcast"))
    for n in sizes:
        cells = []
        for s in stores:
            run = next((r for r in runs_of(s, "broadcast") if r["webhooks"] == n), None)
            cells.append(
                "not run"
                if run is None
                else f"{run['seconds']:.3f} s (first after {run['first_ms']:.0f} ms); "
                f"{run['cpu_per_delivery_us']:.0f} µs "
                + (
                    f"({run['cpu_ratio_to_drain']:.2f}× the drain's)"
                    if run["cpu_ratio_to_drain"] is not None
                    else "(the drain's CPU was below one clock tick)"
                )
            )
        label = (
            f"broadcast: one change to {n:,} webhooks of one tenant: all received after "
            "(from the start of the write); worker CPU per delivery"
        )
        rows.append((label, cells))
    return rows


def _tenants_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    info = next(s["tenants"] for s in stores if "tenants" in s)
    rows = []
    for count in dict.fromkeys(r["tenants"] for s in stores for r in runs_of(s, "tenants")):
        cells = []
        for s in stores:
            run = next((r for r in runs_of(s, "tenants") if r["tenants"] == count), None)
            ratio = run and run["ratio_to_one_tenant"]
            cells.append(
                "not run"
                if run is None
                else f"{run['drain_per_second']:,.0f}/s"
                + ("" if ratio is None else f" ({ratio:.2f}× one tenant's)")
                + f"; trickle {ms(run['p50_ms'])} / {ms(run['p99_ms'])} ms "
                f"({run['received']}/{run['written']})"
            )
        label = (
            f"many tenants: {count:,} tenant(s), one webhook each, {info['changes']:,} changes "
            f"spread over them: drain rate; trickle at {info['trickle_rate']}/s over them, "
            "p50 / p99"
        )
        rows.append((label, cells))
    return rows


def _takeover_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    rows = []
    runs = [r for s in stores for r in runs_of(s, "takeover")]
    for lease in dict.fromkeys(r["lease_seconds"] for r in runs):
        cells = []
        for s in stores:
            run = next((r for r in runs_of(s, "takeover") if r["lease_seconds"] == lease), None)
            if run is None:
                cells.append("PostgreSQL only" if "takeover" not in s else "not run")
                continue
            cells.append(
                f"{ms(run['median_seconds'])} / {ms(run['max_seconds'])} s "
                f"({run['resumed']}/{run['webhooks']} resumed, {run['stalled']} after more "
                "than half the lease)"
            )
        rows.append(
            (
                f"takeover: SIGKILL of the busier of 2 workers, {lease:g} s lease: per webhook, "
                "from the kill to its first delivery of a later change, median / max",
                cells,
            )
        )
    return rows


def scaling_rows(stores: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """The measures-table rows of every scaling measure that ran, one cell per store."""
    rows: list[tuple[str, list[str]]] = []
    builders = (
        ("noisy", _noisy_rows),
        ("idle", _idle_rows),
        ("broadcast", _broadcast_rows),
        ("tenants", _tenants_rows),
        ("takeover", _takeover_rows),
    )
    for measure, build in builders:
        if any(measure in s for s in stores):
            rows += build(stores)
    return rows
