"""Turn a results document into the goals, the Markdown tables and docs/performance.md.

    .venv/bin/python -m benchmarks.report [benchmarks/results.json]

regenerates ``docs/performance.md`` and its plots from a results file without measuring
again; the prose that is not numbers lives in ``benchmarks/notes.md``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.scaling_goals import SCALING_GOALS
from benchmarks.scaling_rows import scaling_rows
from benchmarks.write_report import WRITE_GOALS, write_rows

__all__ = [
    "GOALS",
    "RATE_REACHED",
    "Goal",
    "evaluate_goals",
    "main",
    "markdown_report",
    "write_docs",
]

STORES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
RATE_REACHED = 0.95  # an offered rate counts as reached at 95 % of it
_NOTES = Path(__file__).with_name("notes.md")

Check = Callable[[dict[str, Any], dict[str, Any]], tuple[str, bool] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Goal:
    """One goal of the issue: what is measured, the target, and how a store's figure is judged."""

    key: str
    measure: str
    target: str
    check: Check


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _per_second_goal(measure: str) -> Check:
    def check(store: dict[str, Any], results: dict[str, Any]) -> tuple[str, bool] | None:
        rate = _get(store, measure, "per_second")
        return None if rate is None else (f"{rate:,.0f}/s", rate >= 5_000)

    return check


def _ratio(store: dict[str, Any], results: dict[str, Any]) -> tuple[str, bool] | None:
    rate = _get(store, "throughput", "per_second")
    base = _get(results, "baseline", "per_second")
    if rate is None or base is None:
        return None
    return f"{rate / base:.2f}", rate / base >= 0.7


def _reached(found: dict[str, Any]) -> bool:
    return bool(found["achieved_per_second"] >= RATE_REACHED * found["offered_per_second"])


def _latency(store: dict[str, Any], results: dict[str, Any]) -> tuple[str, bool] | None:
    single, batched = store.get("latency"), store.get("latency_batched")
    spread = store.get("latency_tenants")
    if single is None:
        return None
    # Judged at the offered rate: with single-change writes (to one tenant, or else spread
    # over tenants), or else with batched ones.
    if _reached(single) or (batched is None and spread is None):
        text = f"{single['p99_ms']:.1f} ms at {single['achieved_per_second']:,.0f}/s"
        return text, single["p99_ms"] < 100 and _reached(single)
    if spread is not None and (_reached(spread) or batched is None):
        text = (
            f"{spread['p99_ms']:.1f} ms at {spread['achieved_per_second']:,.0f}/s in "
            f"single-change writes over {spread['tenants']} tenants (one tenant's "
            f"single-change writes reached {single['achieved_per_second']:,.0f}/s)"
        )
        return text, spread["p99_ms"] < 100 and _reached(spread)
    assert batched is not None
    text = (
        f"{batched['p99_ms']:.1f} ms at {batched['achieved_per_second']:,.0f}/s in writes of "
        f"{batched['changes_per_write']} (single-change writes reached only "
        f"{single['achieved_per_second']:,.0f}/s)"
    )
    return text, batched["p99_ms"] < 100 and _reached(batched)


def _statements(store: dict[str, Any], results: dict[str, Any]) -> tuple[str, bool] | None:
    figures = [_get(store, m, "statements_per_delivery") for m in ("throughput", "fanout")]
    known = [f for f in figures if f is not None]
    if not known:
        return None
    return f"{max(known):.3f}", max(known) <= 0.1


def _drain(store: dict[str, Any], results: dict[str, Any]) -> tuple[str, bool] | None:
    seconds = _get(store, "backlog", "seconds_to_final_state")
    return None if seconds is None else (f"{seconds:.2f} s", seconds < 5)


def _rss(store: dict[str, Any], results: dict[str, Any]) -> tuple[str, bool] | None:
    processes = _get(store, "backlog", "rss")
    if not processes:
        return None
    peak = max(p["peak_mb"] for p in processes.values())
    flat = all(p["flat"] for p in processes.values())
    return f"{peak:.0f} MB, {'flat' if flat else 'growing'}", peak < 300 and flat


GOALS = (
    Goal(
        key="deliveries_1",
        measure="sustained deliveries/s, 1 webhook",
        target="≥ 5,000/s",
        check=_per_second_goal("throughput"),
    ),
    Goal(
        key="deliveries_fanout",
        measure="sustained deliveries/s, many webhooks",
        target="≥ 5,000/s",
        check=_per_second_goal("fanout"),
    ),
    Goal(
        key="baseline_ratio",
        measure="1 webhook as a share of the bare baseline",
        target="≥ 0.7",
        check=_ratio,
    ),
    Goal(
        key="latency_p99",
        measure="p99 commit-to-receipt at 1,000 changes/s (clock from the start of the write)",
        target="< 100 ms",
        check=_latency,
    ),
    Goal(
        key="statements",
        measure="SQL statements per delivery, amortized (worst drain)",
        target="≤ 0.1",
        check=_statements,
    ),
    Goal(
        key="backlog",
        measure="backlog drained (receiver back to final state)",
        target="< 5 s",
        check=_drain,
    ),
    Goal(
        key="rss",
        measure="peak RSS of every process in the backlog run",
        target="< 300 MB, flat",
        check=_rss,
    ),
    *(
        Goal(key=key, measure=measure, target=target, check=check)
        for key, measure, target, check in (*WRITE_GOALS, *SCALING_GOALS)
    ),
)


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with each measured store's figure and pass/miss (None: not measured)."""
    evaluated = []
    for goal in GOALS:
        row: dict[str, Any] = {"key": goal.key, "measure": goal.measure, "target": goal.target}
        for name, store in results.get("stores", {}).items():
            found = goal.check(store, results)
            row[name] = None if found is None else {"value": found[0], "pass": found[1]}
        evaluated.append(row)
    return evaluated


# -- the measures table ---------------------------------------------------------------------


def _rate_cell(found: dict[str, Any] | None, base: float | None) -> str:
    if found is None:
        return "not run"
    text = f"{found['per_second']:,.0f}/s"
    if base:
        text += f" ({found['per_second'] / base:.2f}× baseline)"
    runs = found.get("runs_per_second", [])
    if len(runs) > 1:
        text += f"; median of {', '.join(f'{r:,.0f}' for r in runs)}"
    return text


def _latency_cell(found: dict[str, Any] | None) -> str:
    if found is None:
        return "not needed"
    return (
        f"{found['p50_ms']:.1f} / {found['p95_ms']:.1f} / {found['p99_ms']:.1f} ms "
        f"(max {found['max_ms']:.1f}; from the acknowledged commit: p50 "
        f"{found['p50_from_acknowledgment_ms']:.1f}, p99 "
        f"{found['p99_from_acknowledgment_ms']:.1f} ms; "
        f"{found['achieved_per_second']:,.0f}/s achieved, worker in the {found['worker']}"
        f"{_warmup(found)})"
    )


def _warmup(found: dict[str, Any]) -> str:
    """The first second's figures, timed apart (older results have none)."""
    if found.get("warmup_p99_ms") is None:
        return ""
    return (
        f"; the {found['warmup_seconds']:g} s of warm-up before: p99 "
        f"{found['warmup_p99_ms']:.1f}, max {found['warmup_max_ms']:.1f} ms"
    )


def _statements_cell(found: dict[str, Any] | None) -> str:
    if found is None:
        return "not run"
    return (
        f"{found['statements_per_delivery']:.3f} "
        f"(data only {found['data_statements_per_delivery']:.3f})"
    )


def _backlog_cells(found: dict[str, Any] | None) -> list[str]:
    if found is None:
        return ["not run"] * 4
    rss = "; ".join(
        f"{name} {p['peak_mb']:.0f} MB ({'flat' if p['flat'] else 'growing'}, "
        f"{p['growth_mb']:+.0f} MB)"
        for name, p in found["rss"].items()
    )
    return [
        f"{found['load_seconds']:.1f} s ({found['load_changes_per_second']:,.0f} changes/s)",
        f"{found['seconds_to_final_state']:.2f} s (first delivery after "
        f"{found['seconds_to_first_delivery']:.2f} s, drain {found['drain_seconds']:.2f} s)",
        f"{found['deliveries']:,}",
        rss,
    ]


def _api_cell(found: dict[str, Any] | None, key: str) -> str:
    if found is None:
        return "not run"
    load = found[key]
    text = f"{load['per_second']:,.0f}/s (p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms"
    if load["errors"]:
        text += f", {load['errors']} errors"
    return text + ")"


def _measure_rows(results: dict[str, Any]) -> list[tuple[str, list[str]]]:
    sizes = results["sizes"]
    names = list(results.get("stores", {}))
    stores = [results["stores"][n] for n in names]
    base = _get(results, "baseline", "per_second")
    fan, per = sizes["fanout_webhooks"], sizes["fanout_changes"]
    backlog = f"{sizes['backlog_changes']:,} changes to {sizes['backlog_records']:,} records"
    rows: list[tuple[str, list[str]]] = [
        (
            f"sustained deliveries/s, 1 webhook ({sizes['throughput_changes']:,} changes, "
            f"{sizes.get('repeats', 1)} runs interleaved with the baseline's)",
            [_rate_cell(s.get("throughput"), base) for s in stores],
        ),
        (
            f"sustained deliveries/s, {fan} webhooks ({per:,} changes each)",
            [_rate_cell(s.get("fanout"), base) for s in stores],
        ),
        (
            f"commit-to-receipt, {sizes['latency_rate']:,} single-change writes/s offered "
            f"for {sizes['latency_seconds']:g} s: p50 / p95 / p99 from the start of the write",
            [_latency_cell(s.get("latency")) for s in stores],
        ),
        (
            f"RSS of the worker's process during the drains, 1 / {fan} webhooks (before → peak)",
            [_drain_rss(s) for s in stores],
        ),
        (
            "SQL statements per delivery, 1-webhook drain (all, incl. BEGIN/COMMIT)",
            [_statements_cell(s.get("throughput")) for s in stores],
        ),
        (
            f"SQL statements per delivery, {fan}-webhook drain",
            [_statements_cell(s.get("fanout")) for s in stores],
        ),
    ]
    if any("latency_tenants" in s for s in stores):
        tenants = {s["latency_tenants"]["tenants"] for s in stores if "latency_tenants" in s}
        label = (
            f"commit-to-receipt, {sizes['latency_rate']:,} single-change writes/s offered "
            f"over {', '.join(map(str, sorted(tenants)))} tenants: p50 / p95 / p99 from the "
            "start of the write"
        )
        rows.append((label, [_latency_cell(s.get("latency_tenants")) for s in stores]))
    if any("latency_batched" in s for s in stores):
        label = (
            f"commit-to-receipt, {sizes['latency_rate']:,} changes/s offered in writes of "
            f"{_batch_size(stores)}: p50 / p95 / p99 from the start of the write"
        )
        rows.append((label, [_latency_cell(s.get("latency_batched")) for s in stores]))
    backlog_cells = [_backlog_cells(s.get("backlog")) for s in stores]
    labels = [
        f"backlog: loading {backlog} (receiver down)",
        "backlog: receiver back to final state",
        "backlog: deliveries sent after the receiver came back",
        "backlog: peak RSS per process",
    ]
    rows += [(label, [cells[i] for cells in backlog_cells]) for i, label in enumerate(labels)]
    rows += [
        (
            f"`POST /webhooks`, {sizes['api_concurrency']} concurrent clients",
            [_api_cell(s.get("api"), "post_webhooks") for s in stores],
        ),
        (
            "`GET /work-interruptions` (a page of "
            f"{_page_size(stores)} records), {sizes['api_concurrency']} concurrent clients",
            [_api_cell(s.get("api"), "get_work_interruptions") for s in stores],
        ),
        (
            "`workhooks serve` peak RSS during the API load",
            [_serve_rss(s.get("api")) for s in stores],
        ),
    ]
    return rows + write_rows(stores) + scaling_rows(stores)


def _drain_rss(store: dict[str, Any]) -> str:
    cells = [
        f"{found['rss_before_mb']:.0f} → {found['rss_peak_mb']:.0f} MB"
        for found in (store.get("throughput"), store.get("fanout"))
        if found is not None
    ]
    return " / ".join(cells) or "not run"


def _batch_size(stores: Sequence[dict[str, Any]]) -> str:
    sizes = {s["latency_batched"]["changes_per_write"] for s in stores if "latency_batched" in s}
    return "/".join(str(n) for n in sorted(sizes))


def _page_size(stores: Sequence[dict[str, Any]]) -> str:
    sizes = {
        _get(s, "api", "get_work_interruptions", "records_per_page") for s in stores if s.get("api")
    }
    return "/".join(str(n) for n in sorted(sizes)) or "?"


def _serve_rss(found: dict[str, Any] | None) -> str:
    if found is None:
        return "not run"
    return "; ".join(f"{p['peak_mb']:.0f} MB" for p in found["rss"].values())


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "not run"
    return f"{cell['value']}: **{'pass' if cell['pass'] else 'miss'}**"


def goals_table(results: dict[str, Any]) -> str:
    """The goals against each store's figure, pass or miss."""
    names = list(results.get("stores", {}))
    rows = [
        [row["measure"], row["target"], *(_verdict(row.get(n)) for n in names)]
        for row in results.get("goals") or evaluate_goals(results)
    ]
    return _table(["goal", "target", *(STORES.get(n, n) for n in names)], rows)


def measures_table(results: dict[str, Any]) -> str:
    """Every figure of the run, one column per store."""
    names = list(results.get("stores", {}))
    rows = [[label, *cells] for label, cells in _measure_rows(results)]
    base = results.get("baseline")
    if base is not None:
        runs = base.get("runs_per_second", [])
        text = f"{base['per_second']:,.0f}/s (SQLite outbox"
        text += f"; median of {', '.join(f'{r:,.0f}' for r in runs)})" if len(runs) > 1 else ")"
        cells = [text] + ["—"] * (len(names) - 1)
        rows.insert(0, ["baseline: bare loop, 1 destination", *cells])
    return _table(["measure", *(STORES.get(n, n) for n in names)], rows)


def markdown_report(results: dict[str, Any]) -> str:
    """The two tables of a run, as printed at its end."""
    return f"{goals_table(results)}\n\n{measures_table(results)}\n"


# -- docs/performance.md ------------------------------------------------------------------


def _machine(results: dict[str, Any]) -> str:
    m = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    lines = [
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_gib']} GiB; {m['os']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}"
        + (f", {m['postgres']} on the same machine" if m.get("postgres") else ""),
        f"- {packages}",
        f"- load average (1, 5, 15 min) when the run started: {m.get('load_average_at_start')}"
        f", when it ended: {m.get('load_average_at_end')}",
        f"- run from {results['started_at']} to {results.get('finished_at', '?')}",
    ]
    return "\n".join(lines)


def render_docs(results: dict[str, Any], plots: Sequence[str]) -> str:
    """The text of docs/performance.md for ``results``, with the ``plots`` (file names)."""
    notes = _NOTES.read_text(encoding="utf-8").strip() if _NOTES.exists() else ""
    images = "\n\n".join(f"![{name.removesuffix('.png')}]({name})" for name in plots)
    return f"""# Performance

<!-- Generated from benchmarks/results.json by `python -m benchmarks.report`. -->
<!-- Edit the prose in benchmarks/notes.md, not here. -->

All figures below come from one run of the benchmark command on this project's development machine:

```sh
{results["command"]}
```
{_reruns(results)}
## Goals

{goals_table(results)}

## Measures

{measures_table(results)}

{images}

## The machine

{_machine(results)}

{notes}
"""


def write_docs(results: dict[str, Any], docs: Path) -> list[Path]:
    """Write ``performance.md`` and its PNG plots into ``docs``; return the files written."""
    from benchmarks.plots import write_plots

    plots = write_plots(results, docs)
    page = docs / "performance.md"
    page.write_text(render_docs(results, [p.name for p in plots]), encoding="utf-8")
    return [page, *plots]


def _reruns(results: dict[str, Any]) -> str:
    """Measures measured again after a fix, each with why and its command (none: nothing)."""
    lines = [
        f"\nThe {', '.join(r['measures'])} figures come from a second run, {r['why']}:\n\n"
        f"```sh\n{r['command']}\n```\n"
        for r in results.get("reruns", [])
    ]
    return "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate docs/performance.md from a results file."""
    args = list(sys.argv[1:] if argv is None else argv)
    source = Path(args[0]) if args else Path(__file__).with_name("results.json")
    results = json.loads(source.read_text(encoding="utf-8"))
    results["goals"] = evaluate_goals(results)
    for path in write_docs(results, Path(__file__).resolve().parent.parent / "docs"):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
