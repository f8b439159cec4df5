"""The benchmarks still run: tiny sizes, structure and positive figures, never timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.common import Sizes
from benchmarks.report import GOALS, evaluate_goals, markdown_report, write_docs
from benchmarks.run import run_benchmarks


def _positive(found: dict[str, Any], *keys: str) -> None:
    for key in keys:
        assert found[key] > 0, f"{key} = {found[key]!r}"


async def test_delivery_measures_run_and_report_positive_figures(tmp_path: Path) -> None:
    """Baseline, 1-webhook and fan-out drains and latency produce figures, goals and docs."""
    results = await run_benchmarks(
        Sizes.tiny(), only=["baseline", "throughput", "fanout", "latency"], command="test"
    )
    sizes = Sizes.tiny()
    _positive(results["baseline"], "per_second", "seconds")
    assert results["baseline"]["deliveries"] == sizes.throughput_changes
    sqlite = results["stores"]["sqlite"]
    one, fan = sqlite["throughput"], sqlite["fanout"]
    _positive(one, "per_second", "seconds", "statements_per_delivery")
    assert one["deliveries"] == sizes.throughput_changes
    assert fan["deliveries"] == sizes.fanout_changes * sizes.fanout_webhooks
    _positive(fan, "per_second", "statements_per_delivery")
    latency = sqlite["latency"]
    assert latency["received"] == latency["changes"]
    _positive(latency, "p50_ms", "p99_ms", "achieved_per_second")
    assert latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert [g["key"] for g in results["goals"]] == [g.key for g in GOALS]
    assert evaluate_goals(results) == results["goals"]
    assert "| sustained deliveries/s, 1 webhook |" in markdown_report(results)
    written = write_docs(results, tmp_path)
    assert {p.name for p in written} >= {"performance.md", "performance-throughput.png"}
    assert all(p.stat().st_size > 0 for p in written)


@pytest.mark.e2e
async def test_backlog_and_api_measures_run_against_real_processes(tmp_path: Path) -> None:
    """The backlog drain (a real worker) and the API load (a real server) report figures."""
    results = await run_benchmarks(Sizes.tiny(), only=["backlog", "api"], command="test")
    sizes = Sizes.tiny()
    backlog = results["stores"]["sqlite"]["backlog"]
    assert backlog["deliveries"] >= sizes.backlog_records
    _positive(backlog, "seconds_to_final_state", "load_changes_per_second")
    assert set(backlog["rss"]) == {"loader (benchmark process)", "workhooks worker", "receiver"}
    assert all(p["peak_mb"] > 0 and p["samples"] for p in backlog["rss"].values())
    api = results["stores"]["sqlite"]["api"]
    for load in (api["post_webhooks"], api["get_work_interruptions"]):
        assert load["errors"] == 0, load["statuses"]
        _positive(load, "per_second", "ok")
    assert api["get_work_interruptions"]["records_per_page"] > 0
    assert "backlog: receiver back to final state" in markdown_report(results)
