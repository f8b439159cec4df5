"""The benchmarks still run: tiny sizes, structure and positive figures, never timings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from benchmarks.common import Backend, Sizes
from benchmarks.report import GOALS, evaluate_goals, markdown_report, write_docs
from benchmarks.run import checkout, run_benchmarks
from benchmarks.sinks import sinks_process
from benchmarks.write_report import write_rows
from benchmarks.writes import writes
from tests.postgres import ADMIN_URL


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


def _scaling_goal(results: dict[str, Any], key: str) -> dict[str, Any]:
    """The SQLite verdict of one scaling goal: a figure and a pass/miss (never judged here)."""
    row = next(g for g in results["goals"] if g["key"] == key)
    verdict: dict[str, Any] = row["sqlite"]
    assert isinstance(verdict["value"], str), row
    assert isinstance(verdict["pass"], bool), row
    return verdict


@pytest.mark.e2e
async def test_sinks_serve_slow_and_blackholed_destinations() -> None:
    """Slow answers 200 after its delay, blackhole never answers, refusing refuses."""
    async with sinks_process(2, 0.2) as sinks, aiohttp.ClientSession() as http:
        assert len(set(sinks.urls("slow", "spread", 2))) == 2
        assert len({u.rsplit("/", 2)[0] for u in sinks.urls("blackhole", "one host", 2)}) == 1
        async with http.post(sinks.urls("slow", "one host", 1)[0], data=b"{}") as answer:
            assert answer.status == 200
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await http.post(sinks.urls("blackhole", "spread", 2)[1], data=b"{}")
        with pytest.raises(aiohttp.ClientConnectorError):
            await http.post(sinks.urls("refusing", "spread", 1)[0], data=b"{}")


@pytest.mark.e2e
async def test_noisy_neighbours_measure_reports_tenant_b() -> None:
    """K = 0 and K = 2 blackholed webhooks of tenant A: B's figures for each configuration."""
    results = await run_benchmarks(Sizes.tiny(), only=["noisy"], command="test")
    noisy = results["stores"]["sqlite"]["noisy"]
    assert [(r["webhooks"], r["mode"], r["layout"]) for r in noisy["runs"]] == [
        (0, None, None),
        (2, "blackhole", "spread"),
    ]
    for run in noisy["runs"]:
        assert 0 <= run["received"] <= run["written"] > 0
        assert run["b_failed_attempts"] >= 0
        assert run["a_changes"] >= 1
        assert run["p99_ms"] is None or run["p50_ms"] <= run["p99_ms"]
    _scaling_goal(results, "noisy_p99")
    assert _scaling_goal(results, "noisy_failures")["value"].endswith("2 configurations")
    assert "noisy neighbours: tenant B alone" in markdown_report(results)


@pytest.mark.e2e
async def test_idle_and_broadcast_measures_report_cpu_and_latency() -> None:
    """Idle fan-out (in-process worker on SQLite) and one change to N webhooks."""
    results = await run_benchmarks(Sizes.tiny(), only=["idle", "broadcast"], command="test")
    sqlite = results["stores"]["sqlite"]
    idle = sqlite["idle"]["runs"]
    assert [(r["webhooks"], r["layout"]) for r in idle] == [(4, "1 tenant"), (4, "many tenants")]
    for run in idle:
        assert run["worker_cpu_percent"] >= 0
        assert run["statements_per_second"] >= 0
        assert run["active_received"] == run["active_written"] > 0
    broadcast = sqlite["broadcast"]
    assert broadcast["drain"]["deliveries"] == Sizes.tiny().broadcast_drain
    assert [r["webhooks"] for r in broadcast["runs"]] == list(Sizes.tiny().broadcast_webhooks)
    for run in broadcast["runs"]:
        assert run["deliveries"] == run["webhooks"]
        _positive(run, "seconds")
    for key in ("idle_cpu", "idle_p99", "broadcast_time", "broadcast_cpu"):
        _scaling_goal(results, key)
    report = markdown_report(results)
    assert "idle fan-out: 4 webhooks" in report
    assert "broadcast: one change to 4 webhooks" in report


@pytest.mark.e2e
async def test_many_tenants_measure_compares_with_one_tenant() -> None:
    """A drain over 1 and 3 tenants, the ratio to one tenant's rate, and the trickle."""
    results = await run_benchmarks(Sizes.tiny(), only=["tenants"], command="test")
    runs = results["stores"]["sqlite"]["tenants"]["runs"]
    assert [r["tenants"] for r in runs] == [1, 3]
    for run in runs:
        assert run["deliveries"] == run["tenants"] * run["changes_per_tenant"]
        assert run["received"] == run["written"] > 0
        _positive(run, "drain_per_second", "ratio_to_one_tenant")
    assert runs[0]["ratio_to_one_tenant"] == 1.0
    _scaling_goal(results, "tenants_ratio")
    assert "many tenants: 3 tenant(s)" in markdown_report(results)


@pytest.mark.e2e
async def test_takeover_measure_on_postgres(postgres_database: str) -> None:
    """Two real workers, one killed: every webhook's wait is reported (PostgreSQL only).

    ``postgres_database`` only brings the PostgreSQL tier's skip (or, under CI, failure)
    without a server; the measure makes its own databases on that server.
    """
    results = await run_benchmarks(
        Sizes.tiny(), postgres=ADMIN_URL, only=["takeover"], command="test"
    )
    assert "takeover" not in results["stores"]["sqlite"]
    (run,) = results["stores"]["postgres"]["takeover"]["runs"]
    assert run["lease_seconds"] == Sizes.tiny().takeover_leases[0]
    assert len(run["per_webhook_seconds"]) == run["resumed"] <= run["webhooks"]
    assert 0 <= run["victim_cpu_share"] <= 1
    assert "| PostgreSQL only |" in markdown_report(results)


@pytest.mark.e2e
async def test_write_measure_runs_today_and_a_reference_revision(tmp_path: Path) -> None:
    """Writes through the store and the API are counted for today's code and for a revision
    extracted from git (here HEAD), and the report shows both."""
    source = checkout("HEAD", tmp_path / "reference")
    assert (source / "workhooks" / "__init__.py").exists()
    found = await writes(
        Backend.sqlite(tmp_path), tmp_path, seconds=0.3, reference=source, shapes=((1, 2),)
    )
    (shape,) = found["shapes"]
    for key in ("store_today", "store_reference", "api_today", "api_reference"):
        _positive(shape[key], "writes", "per_second")
    assert shape["api_today"]["errors"] == 0
    rows = dict(write_rows([{"writes": found}]))
    assert (
        "reference"
        in rows["single-record writes, 2 writer(s) on 1 tenant(s), through the store"][0]
    )


def test_render_measure_reports_positive_costs() -> None:
    """The render measure prints a positive CPU cost for each webhook body and list page."""
    from benchmarks.render import render_costs

    costs = render_costs(records=20, runs=2)
    assert len(costs) == 4
    assert all(micros > 0 for micros in costs.values()), costs
