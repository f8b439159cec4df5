"""PNG plots of a run (matplotlib, Agg backend): throughput, latency, memory over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

__all__ = ["write_plots"]

_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
_GOAL_COLOR = "tab:red"


def _throughput(results: dict[str, Any], path: Path) -> bool:
    stores = results.get("stores", {})
    fan = results["sizes"]["fanout_webhooks"]
    groups = [("throughput", "1 webhook"), ("fanout", f"{fan} webhooks")]
    fig, ax = plt.subplots(figsize=(7, 4))
    labels: list[str] = []
    values: list[float] = []
    colors: list[str] = []
    base = results.get("baseline")
    if base is not None:
        labels.append("bare baseline\n(SQLite, 1 webhook)")
        values.append(base["per_second"])
        colors.append("tab:gray")
    palette = {"sqlite": "tab:blue", "postgres": "tab:green"}
    for key, label in groups:
        for name, store in stores.items():
            if key in store:
                labels.append(f"{_NAMES.get(name, name)}\n{label}")
                values.append(store[key]["per_second"])
                colors.append(palette.get(name, "tab:purple"))
    if not values:
        plt.close(fig)
        return False
    bars = ax.bar(range(len(values)), values, color=colors)
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8)
    ax.axhline(5_000, color=_GOAL_COLOR, linestyle="--", linewidth=1, label="goal: 5,000/s")
    if base is not None:
        ax.axhline(0.7 * base["per_second"], color="tab:orange", linestyle=":", linewidth=1)
        ax.plot([], [], color="tab:orange", linestyle=":", label="goal: 0.7 × baseline")
    ax.set_xticks(range(len(values)), labels, fontsize=8)
    ax.set_ylabel("deliveries per second")
    ax.set_title("Sustained deliveries per second (higher is better)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _latency(results: dict[str, Any], path: Path) -> bool:
    curves = [
        (name, store[key])
        for name, store in results.get("stores", {}).items()
        for key in ("latency", "latency_batched")
        if key in store
    ]
    if not curves:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, found in curves:
        cuts = found["curve_ms"]
        xs = [100 * (i + 1) / (len(cuts) + 1) for i in range(len(cuts))]
        label = (
            f"{_NAMES.get(name, name)}, {found['changes_per_write']} change(s)/write, "
            f"{found['achieved_per_second']:,.0f}/s (p99 {found['p99_ms']:.1f} ms)"
        )
        ax.plot(xs, cuts, label=label)
    ax.axhline(100, color=_GOAL_COLOR, linestyle="--", linewidth=1, label="goal: p99 < 100 ms")
    ax.axvline(99, color="tab:gray", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("percentile")
    ax.set_ylabel("write start to receipt (ms, log scale)")
    rate = results["sizes"]["latency_rate"]
    ax.set_title(f"Commit-to-receipt latency at {rate:,} changes/s offered")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _memory(results: dict[str, Any], path: Path) -> bool:
    runs = {
        name: store["backlog"]
        for name, store in results.get("stores", {}).items()
        if "backlog" in store
    }
    if not runs:
        return False
    fig, axes = plt.subplots(1, len(runs), figsize=(7 * len(runs) / 1.4, 4), squeeze=False)
    for ax, (name, found) in zip(axes[0], runs.items(), strict=True):
        for process, series in found["rss"].items():
            ax.plot(
                [t for t, _ in series["samples"]],
                [mb for _, mb in series["samples"]],
                label=process,
            )
        ax.axvline(found["receiver_back_at"], color="tab:gray", linestyle=":", linewidth=1)
        ax.axhline(300, color=_GOAL_COLOR, linestyle="--", linewidth=1, label="goal: < 300 MB")
        ax.set_ylim(0, 320)
        ax.set_xlabel("seconds (receiver back at the dotted line)")
        ax.set_ylabel("RSS (MB)")
        ax.set_title(f"{_NAMES.get(name, name)}: RSS during the backlog run", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_plots(results: dict[str, Any], folder: Path) -> list[Path]:
    """Write the plots this run has data for; return their paths."""
    written = []
    for name, draw in (
        ("performance-throughput.png", _throughput),
        ("performance-latency.png", _latency),
        ("performance-memory.png", _memory),
    ):
        path = folder / name
        if draw(results, path):
            written.append(path)
    return written
