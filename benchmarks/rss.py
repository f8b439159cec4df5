"""Resident memory of processes over time, sampled from ``/proc/<pid>/status`` (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RssSampler", "read_status_mb", "sampling"]

# Growth from the early level to the end above both limits counts as "not flat".
_FLAT_MB = 25.0
_FLAT_SHARE = 0.15


def read_status_mb(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` (peak) of ``pid`` in MiB; empty once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    found: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024  # kB
    return found


@dataclass
class _Series:
    pid: int
    started_here: bool
    samples: list[tuple[float, float]] = field(default_factory=list)
    peak_mb: float = 0.0


@dataclass
class RssSampler:
    """Samples every watched process each ``interval`` seconds."""

    interval: float = 0.25
    started_at: float = field(default_factory=time.monotonic)
    _series: dict[str, _Series] = field(default_factory=dict)

    def watch(self, name: str, pid: int, *, started_here: bool = True) -> None:
        """Start sampling ``pid`` under ``name`` (a restarted process keeps its name).

        The kernel's peak (``VmHWM``) covers a process's whole life, so it only counts for
        processes ``started_here``; for older ones the peak is the highest sample.
        """
        series = self._series.get(name)
        if series is None:
            self._series[name] = _Series(pid, started_here)
        else:
            series.pid = pid
        self.sample()

    def sample(self) -> None:
        """Take one sample of every watched process that is still alive."""
        now = time.monotonic() - self.started_at
        for series in self._series.values():
            status = read_status_mb(series.pid)
            if "VmRSS" in status:
                series.samples.append((now, status["VmRSS"]))
                high = status.get("VmHWM", 0.0) if series.started_here else 0.0
                series.peak_mb = max(series.peak_mb, high, status["VmRSS"])

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per process: peak (VmHWM), first and last RSS, growth, and whether it stayed flat."""
        result: dict[str, dict[str, Any]] = {}
        for name, series in self._series.items():
            values = [mb for _, mb in series.samples]
            if not values:
                continue
            # The early level: the median of the first tenth, after start-up allocations.
            early = statistics.median(values[: max(1, len(values) // 10)])
            growth = values[-1] - early
            result[name] = {
                "peak_mb": series.peak_mb,
                "first_mb": values[0],
                "early_mb": early,
                "last_mb": values[-1],
                "growth_mb": growth,
                "flat": growth <= max(_FLAT_MB, _FLAT_SHARE * early),
                "samples": [[round(t, 2), round(mb, 1)] for t, mb in series.samples],
            }
        return result


@asynccontextmanager
async def sampling(sampler: RssSampler) -> AsyncIterator[RssSampler]:
    """Run ``sampler`` in the background while the block runs."""
    task = asyncio.create_task(sampler.run())
    try:
        yield sampler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sampler.sample()
