"""Today's code against an older revision, with the same measures, in alternating runs.

    .venv/bin/python -m benchmarks.compare REVISION [--pairs N] [--only MEASURES]
        [--postgres ADMIN_URL] [--full]

Extracts the revision's ``src`` (``git archive``) and runs ``python -m benchmarks`` (quick
sizes unless ``--full``) with this checkout's measures, alternately on today's code and on
the revision's (put first on ``PYTHONPATH``), ``--pairs`` times; then prints, per store, the
median of each figure for both and their ratio, with every run's value. Alternating runs
share whatever else the machine does, so the ratios hold where single figures move by
±30 % between runs. The run files stay in ``--keep`` when given.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT
from benchmarks.run import checkout

__all__ = ["FIGURES", "main", "table"]

# (path in a store's results, label, +1 if more is better, -1 if less is)
FIGURES = (
    ("throughput.per_second", "deliveries/s, 1 webhook", 1),
    ("fanout.per_second", "deliveries/s, 20 webhooks", 1),
    ("throughput.statements_per_delivery", "SQL statements per delivery, 1 webhook", -1),
    ("fanout.statements_per_delivery", "SQL statements per delivery, 20 webhooks", -1),
    ("latency.p50_ms", "commit-to-receipt p50 ms", -1),
    ("latency.p99_ms", "commit-to-receipt p99 ms", -1),
    ("backlog.load_seconds", "backlog: load s", -1),
    ("backlog.drain_seconds", "backlog: drain s", -1),
    ("api.post_webhooks.per_second", "POST /webhooks /s", 1),
    ("api.get_work_interruptions.per_second", "GET /work-interruptions /s", 1),
)
DEFAULT_ONLY = "throughput,fanout,latency,backlog,api"


def _figure(store: dict[str, Any], path: str) -> float | None:
    found: Any = store
    for key in path.split("."):
        if not isinstance(found, dict) or key not in found:
            return None
        found = found[key]
    return float(found) if isinstance(found, int | float) else None


def table(today: Sequence[dict[str, Any]], reference: Sequence[dict[str, Any]]) -> str:
    """The Markdown table of medians, ratios and runs, per store and figure."""
    lines = [
        "| store | figure | today (median) | reference (median) | today / reference "
        "| runs today | runs reference |",
        "|---|---|---|---|---|---|---|",
    ]
    stores = sorted({name for run in today for name in run["stores"]})
    for store in stores:
        for path, label, _ in FIGURES:
            mine = [_figure(r["stores"].get(store, {}), path) for r in today]
            theirs = [_figure(r["stores"].get(store, {}), path) for r in reference]
            a = [v for v in mine if v is not None]
            b = [v for v in theirs if v is not None]
            if not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            ratio = f"{ma / mb:.2f}" if mb else "-"
            lines.append(
                f"| {store} | {label} | {ma:,.4g} | {mb:,.4g} | {ratio} | "
                f"{', '.join(f'{v:,.4g}' for v in a)} | {', '.join(f'{v:,.4g}' for v in b)} |"
            )
    return "\n".join(lines)


def _run(source: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks", "--only", args.only, "--out", str(out)]
    if not args.full:
        command.append("--quick")
    if args.postgres:
        command += ["--postgres", args.postgres]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(ROOT)])}
    subprocess.run(  # noqa: S603 - this interpreter, this checkout's measures
        command, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    found: dict[str, Any] = json.loads(out.read_text())
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.compare``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("revision", help="the git revision to compare against")
    parser.add_argument("--pairs", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--only", default=DEFAULT_ONLY, help=f"measures (default {DEFAULT_ONLY})")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="also measure PostgreSQL")
    parser.add_argument("--full", action="store_true", help="full sizes instead of --quick")
    parser.add_argument("--keep", type=Path, help="keep every run's results file here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="workhooks-compare-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        reference_src = checkout(args.revision, Path(tmp) / "reference")
        today: list[dict[str, Any]] = []
        reference: list[dict[str, Any]] = []
        for n in range(1, args.pairs + 1):
            today.append(_run(ROOT / "src", folder / f"today_{n}.json", args))
            reference.append(_run(reference_src, folder / f"reference_{n}.json", args))
            print(f"pair {n} of {args.pairs} done", file=sys.stderr, flush=True)
    print(table(today, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
