"""Run every measure, print a Markdown table against the goals, write a JSON results file.

    .venv/bin/python -m benchmarks [--postgres ADMIN_URL] [--quick] [--out PATH] [--docs]

Everything runs on this machine, on 127.0.0.1 only: SQLite files in a temporary folder
(and, with ``--postgres``, throw-away databases on that server), a receiver process, the
real worker and sender, real ``workhooks worker`` and ``workhooks serve`` processes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import io
import json
import shlex
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from benchmarks.api_load import api_load
from benchmarks.backlog import backlog
from benchmarks.baseline import baseline
from benchmarks.broadcast import broadcast
from benchmarks.common import ROOT, Backend, Receiver, Sizes, receiver_process
from benchmarks.delivery import latency, throughput
from benchmarks.idle import idle
from benchmarks.machine import describe, postgres_version
from benchmarks.noisy import noisy
from benchmarks.report import RATE_REACHED, evaluate_goals, markdown_report, write_docs
from benchmarks.takeover import takeover
from benchmarks.tenants import tenants
from benchmarks.writes import writes

__all__ = ["MEASURES", "checkout", "main", "run_benchmarks"]

ScalingMeasure = Callable[[Backend, Receiver, Path, Sizes], Awaitable[dict[str, Any]]]
# Each against its own reference in the same run; takeover needs PostgreSQL (two workers).
SCALING: dict[str, ScalingMeasure] = {
    "noisy": noisy,
    "idle": idle,
    "broadcast": broadcast,
    "tenants": tenants,
    "takeover": takeover,
}
MEASURES = ("baseline", "throughput", "fanout", "latency", "backlog", "api", "writes", *SCALING)
DEFAULT_OUT = ROOT / "benchmarks" / "results.json"
BATCHED_WRITE = 10
LATENCY_TENANTS = 16


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _latency(
    backend: Backend, receiver: Receiver, folder: Path, sizes: Sizes
) -> dict[str, Any]:
    """Latency with single-change writes; if those cannot reach the rate, with 10-change ones."""
    found: dict[str, Any] = {}
    for key, per_write in (("latency", 1), ("latency_batched", BATCHED_WRITE)):
        _say(f"[{backend.name}] commit-to-receipt at {sizes.latency_rate}/s, {per_write}/write ...")
        found[key] = result = await latency(
            backend,
            receiver,
            folder,
            rate=sizes.latency_rate,
            seconds=sizes.latency_seconds,
            # On PostgreSQL the deployment shape of docs/deployment.md: API node + worker.
            separate_worker=backend.admin_url is not None,
            changes_per_write=per_write,
        )
        if result["achieved_per_second"] >= RATE_REACHED * result["offered_per_second"]:
            break
    if backend.admin_url is not None:
        # One tenant's single-change writes commit one at a time (versions in commit order);
        # the same rate spread over tenants is what many API clients together offer.
        _say(
            f"[{backend.name}] commit-to-receipt at {sizes.latency_rate}/s, 1/write, "
            f"{LATENCY_TENANTS} tenants ..."
        )
        found["latency_tenants"] = await latency(
            backend,
            receiver,
            folder,
            rate=sizes.latency_rate,
            seconds=sizes.latency_seconds,
            separate_worker=True,
            tenants=LATENCY_TENANTS,
            in_flight=4 * LATENCY_TENANTS,
        )
    return found


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate (a real run, not an average), listing every run's rate."""
    middle = sorted(runs, key=lambda r: r["per_second"])[(len(runs) - 1) // 2]
    return {**middle, "runs_per_second": [r["per_second"] for r in runs]}


async def _drains(
    backends: Sequence[Backend],
    receiver: Receiver,
    folder: Path,
    sizes: Sizes,
    only: set[str],
) -> dict[str, Any]:
    """The baseline and the 1-webhook drains, interleaved ``sizes.repeats`` times.

    The ratio to the baseline compares medians of runs made side by side, so a change in
    the machine's other load shifts both sides alike.
    """
    base_runs: list[dict[str, Any]] = []
    store_runs: dict[str, list[dict[str, Any]]] = {b.name: [] for b in backends}
    for turn in range(1, sizes.repeats + 1):
        if "baseline" in only:
            _say(f"[baseline] bare loop, run {turn}/{sizes.repeats} ...")
            base_runs.append(await baseline(folder, receiver, changes=sizes.throughput_changes))
        if "throughput" in only:
            for backend in backends:
                _say(f"[{backend.name}] 1 webhook, run {turn}/{sizes.repeats} ...")
                store_runs[backend.name].append(
                    await throughput(backend, receiver, changes=sizes.throughput_changes)
                )
    found: dict[str, Any] = {"stores": {}}
    if base_runs:
        found["baseline"] = _median_run(base_runs)
    for name, runs in store_runs.items():
        found["stores"][name] = {"throughput": _median_run(runs)} if runs else {}
    return found


async def _store_measures(
    backend: Backend,
    receiver: Receiver,
    folder: Path,
    sizes: Sizes,
    only: set[str],
    reference: Path | None = None,
) -> dict[str, Any]:
    """Every selected measure on one store."""
    found: dict[str, Any] = {}
    if "fanout" in only:
        _say(f"[{backend.name}] sustained deliveries, {sizes.fanout_webhooks} webhooks ...")
        found["fanout"] = await throughput(
            backend, receiver, changes=sizes.fanout_changes, webhooks=sizes.fanout_webhooks
        )
    if "latency" in only:
        found.update(await _latency(backend, receiver, folder, sizes))
    if "backlog" in only:
        _say(f"[{backend.name}] backlog of {sizes.backlog_changes:,} changes ...")
        found["backlog"] = await backlog(
            backend, folder, changes=sizes.backlog_changes, records=sizes.backlog_records
        )
    if "api" in only:
        _say(f"[{backend.name}] API requests/s ...")
        found["api"] = await api_load(
            backend,
            folder,
            seconds=sizes.api_seconds,
            concurrency=sizes.api_concurrency,
            records=sizes.api_records,
        )
    if "writes" in only:
        found["writes"] = await writes(
            backend, folder, seconds=sizes.write_seconds, reference=reference
        )
    for name, measure in SCALING.items():
        if name in only and (name != "takeover" or backend.admin_url is not None):
            found[name] = await measure(backend, receiver, folder, sizes)
    return found


async def run_benchmarks(
    sizes: Sizes,
    *,
    postgres: str | None = None,
    only: Sequence[str] = MEASURES,
    command: str = "",
    reference: str | None = None,
) -> dict[str, Any]:
    """Run the selected measures on SQLite (and PostgreSQL); return the results document."""
    selected = set(only)
    started_at = dt.datetime.now(dt.UTC)
    machine = describe()
    if postgres is not None:
        machine["postgres"] = await postgres_version(postgres)
    results: dict[str, Any] = {
        "schema": 1,
        "command": command,
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine,
        "sizes": dataclasses.asdict(sizes),
        "stores": {},
    }
    with tempfile.TemporaryDirectory(prefix="workhooks-bench-") as tmp:
        folder = Path(tmp)
        source = None if reference is None else checkout(reference, folder / "reference")
        if source is not None:
            results["reference"] = reference
        backends = [Backend.sqlite(folder)]
        if postgres is not None:
            backends.append(Backend.postgres(folder, postgres))
        async with receiver_process() as receiver:
            results.update(await _drains(backends, receiver, folder, sizes, selected))
            for backend in backends:
                found = await _store_measures(backend, receiver, folder, sizes, selected, source)
                results["stores"].setdefault(backend.name, {}).update(found)
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["machine"]["load_average_at_end"] = describe()["load_average_at_start"]
    results["goals"] = evaluate_goals(results)
    return results


def checkout(revision: str, folder: Path) -> Path:
    """The ``src`` folder of ``revision`` of this repository, extracted into ``folder``."""
    folder.mkdir(parents=True)
    archive = subprocess.run(  # noqa: S603 - git, with a revision the operator named
        ["git", "-C", str(ROOT), "archive", revision, "src"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="also measure PostgreSQL: throw-away databases are created on this server "
        "(e.g. postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--reference",
        metavar="REVISION",
        help="also run the write measures with this git revision's code, shape by shape",
    )
    parser.add_argument(
        "--only",
        default=",".join(MEASURES),
        help=f"comma-separated measures to run (default all: {','.join(MEASURES)})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"results file (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--docs",
        action="store_true",
        help="also regenerate docs/performance.md and its plots from this run",
    )
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    args = _parse(argv)
    words = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join([".venv/bin/python", "-m", "benchmarks", *words])
    sizes = Sizes.quick() if args.quick else Sizes()
    coroutine = run_benchmarks(
        sizes,
        postgres=args.postgres,
        only=args.only.split(","),
        command=command,
        reference=args.reference,
    )
    results = _run(coroutine)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(markdown_report(results))
    _say(f"results written to {args.out}")
    if args.docs:
        for path in write_docs(results, ROOT / "docs"):
            _say(f"wrote {path}")
    return 0


def _run(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run on uvloop, as the ``workhooks`` command does."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
