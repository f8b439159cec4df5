"""The goals of the scaling measures: noisy, idle, broadcast, tenants (takeover has none).

``benchmarks.report`` puts these after its own goals; each is judged at the largest size
measured, whose size the figure names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SCALING_GOALS", "ms", "runs_of"]

Found = tuple[str, bool] | None
Check = Callable[[dict[str, Any], dict[str, Any]], Found]


def runs_of(store: dict[str, Any], measure: str) -> list[dict[str, Any]]:
    """The ``runs`` of one scaling measure of a store (none when it did not run)."""
    found = store.get(measure)
    return list(found["runs"]) if isinstance(found, dict) and found.get("runs") else []


def ms(value: float | None) -> str:
    """Milliseconds to one decimal; a dash when not measured (e.g. never received)."""
    return "—" if value is None else f"{value:.1f}"


def _noisy_p99(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = runs_of(store, "noisy")
    reference = next((r for r in runs if r["webhooks"] == 0), None)
    largest = max((r["webhooks"] for r in runs), default=0)
    if reference is None or largest == 0:
        return None
    loud = [r for r in runs if r["webhooks"] == largest]
    missing = [r for r in loud if r["p99_ms"] is None]
    if missing or reference["p99_ms"] is None:
        late = missing[0] if missing else reference
        text = f"K={largest}: {late['mode']}, {late['layout']}: {late['received']}/"
        return text + f"{late['written']} received", False
    worst = max(loud, key=lambda r: r["p99_ms"])
    text = (
        f"K={largest}: {worst['p99_ms']:.1f} ms ({worst['mode']}, {worst['layout']}) "
        f"against {reference['p99_ms']:.1f} ms at K=0"
    )
    return text, worst["p99_ms"] < 100 and worst["p99_ms"] <= 2 * reference["p99_ms"]


def _noisy_failures(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = runs_of(store, "noisy")
    if not runs:
        return None
    failed = sum(r["b_failed_attempts"] for r in runs)
    return f"{failed} in {len(runs)} configurations", failed == 0


def _largest(runs: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    top = max((r[key] for r in runs), default=None)
    return [r for r in runs if r[key] == top]


def _idle_total(run: dict[str, Any]) -> float:
    return float(run["worker_cpu_percent"] + (run.get("database_cpu_percent") or 0.0))


def _idle_cpu(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = _largest(runs_of(store, "idle"), "webhooks")
    if not runs:
        return None
    worst = max(runs, key=_idle_total)
    text = f"{worst['webhooks']:,} webhooks: {_idle_total(worst):.2f} % ({worst['layout']}"
    if worst.get("database_cpu_percent") is not None:
        text += f"; worker {worst['worker_cpu_percent']:.2f} %"
        text += f", database {worst['database_cpu_percent']:.2f} %"
    return text + ")", _idle_total(worst) < 2.0


def _idle_p99(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = _largest(runs_of(store, "idle"), "webhooks")
    if not runs:
        return None
    if any(r["active_p99_ms"] is None for r in runs):
        return f"{runs[0]['webhooks']:,} webhooks: not all received", False
    worst = max(runs, key=lambda r: r["active_p99_ms"])
    text = f"{worst['webhooks']:,} webhooks: {worst['active_p99_ms']:.1f} ms ({worst['layout']})"
    return text, worst["active_p99_ms"] < 100


def _broadcast_time(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = _largest(runs_of(store, "broadcast"), "webhooks")
    if not runs:
        return None
    run = runs[0]
    return f"{run['webhooks']:,} webhooks: {run['seconds']:.2f} s", run["seconds"] < 2.0


def _broadcast_cpu(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = _largest(runs_of(store, "broadcast"), "webhooks")
    if not runs:
        return None
    ratio = runs[0]["cpu_ratio_to_drain"]
    if ratio is None:
        return None
    return f"{runs[0]['webhooks']:,} webhooks: {ratio:.2f}×", ratio <= 2.0


def _tenants_ratio(store: dict[str, Any], results: dict[str, Any]) -> Found:
    runs = _largest(runs_of(store, "tenants"), "tenants")
    if not runs or runs[0]["ratio_to_one_tenant"] is None:
        return None
    ratio = runs[0]["ratio_to_one_tenant"]
    return f"{runs[0]['tenants']:,} tenants: {ratio:.2f}", ratio >= 0.8


# (key, measure, target, check): made into ``report.Goal``s by ``benchmarks.report``.
SCALING_GOALS: tuple[tuple[str, str, str, Check], ...] = (
    (
        "noisy_p99",
        "noisy neighbours: tenant B's p99 commit-to-receipt beside tenant A's K bad "
        "webhooks (largest K, worst mode and layout)",
        "< 100 ms and ≤ 2× K=0",
        _noisy_p99,
    ),
    (
        "noisy_failures",
        "noisy neighbours: failed delivery attempts of tenant B's webhook",
        "0",
        _noisy_failures,
    ),
    (
        "idle_cpu",
        "idle CPU (worker + database) with the most webhooks, worst layout",
        "< 2 % of a core",
        _idle_cpu,
    ),
    (
        "idle_p99",
        "the active webhook's p99 commit-to-receipt beside the most idle webhooks",
        "< 100 ms",
        _idle_p99,
    ),
    ("broadcast_time", "one change to the most webhooks: all received", "< 2 s", _broadcast_time),
    (
        "broadcast_cpu",
        "CPU per delivery of that one-change fan-out / of a 1-webhook drain",
        "≤ 2×",
        _broadcast_cpu,
    ),
    (
        "tenants_ratio",
        "drain rate with the most tenants (one webhook each) / with one tenant",
        "≥ 0.8",
        _tenants_ratio,
    ),
)
