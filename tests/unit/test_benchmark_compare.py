"""Tests for ``benchmarks.compare``'s table: medians of alternating runs, and their ratio."""

from __future__ import annotations

from typing import Any

from benchmarks.compare import table


def run(per_second: float, p99: float | None = None) -> dict[str, Any]:
    """A results document with a 1-webhook drain rate and, maybe, a latency p99."""
    store: dict[str, Any] = {"throughput": {"per_second": per_second}}
    if p99 is not None:
        store["latency"] = {"p99_ms": p99}
    return {"stores": {"sqlite": store}}


def test_each_figure_is_the_median_of_its_runs_with_the_ratio_of_the_medians() -> None:
    """A figure's row gives both medians, today over the reference, and every run."""
    rows = table([run(900), run(1100), run(1000)], [run(500), run(400), run(600)])
    drain = next(line for line in rows.splitlines() if "1 webhook" in line and "deliveries" in line)
    assert "| 1,000 | 500 | 2.00 |" in drain
    assert "900, 1,100, 1,000" in drain


def test_a_figure_missing_from_either_side_gets_no_row() -> None:
    """A measure one side did not run is left out rather than compared with nothing."""
    rows = table([run(1000, p99=12.0)], [run(1000)])
    assert "p99" not in rows
    assert "| sqlite | deliveries/s, 1 webhook | 1,000 | 1,000 | 1.00 |" in rows
