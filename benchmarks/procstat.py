"""CPU time of processes from ``/proc/<pid>/stat`` (Linux), and PostgreSQL's share of it.

CPU figures are "% of one core": CPU seconds (user + system, all threads) per wall second.
For PostgreSQL, the database's CPU is the sum over its backend processes (the pids
``pg_stat_activity`` lists for that database, read from ``/proc``: the server must run on
this machine), and its transactions come from ``pg_stat_database``, both read over a
connection to the admin database so the measuring adds nothing to the measured one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

__all__ = ["CpuMeter", "DatabaseMeter", "cpu_seconds"]

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used (all its threads); None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: the fields after it follow the last ")".
    fields = text.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15


@dataclass
class CpuMeter:
    """CPU of one process between ``start()`` and ``stop()``."""

    pid: int
    _cpu: float = 0.0
    _at: float = 0.0
    seconds: float = 0.0
    wall: float = 0.0

    def start(self) -> None:
        """Begin (or begin again)."""
        self._cpu = cpu_seconds(self.pid) or 0.0
        self._at = time.monotonic()

    def stop(self) -> float:
        """End; return the CPU seconds used since ``start()``."""
        self.seconds = (cpu_seconds(self.pid) or self._cpu) - self._cpu
        self.wall = time.monotonic() - self._at
        return self.seconds

    @property
    def percent(self) -> float:
        """CPU per wall time of the last interval, in % of one core."""
        return 100 * self.seconds / self.wall if self.wall > 0 else 0.0


@dataclass
class DatabaseMeter:
    """CPU of one PostgreSQL database's backends and its transactions, over an interval.

    Backends that start during the interval count from zero; backends that end during it
    count up to their last reading (they are read at the start, at the end, and whenever
    ``sample()`` is called).
    """

    admin: asyncpg.Connection
    database: str
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _xacts: int = 0
    _at: float | None = None

    async def _pids(self) -> list[int]:
        rows = await self.admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
        )
        return [int(r["pid"]) for r in rows]

    async def _transactions(self) -> int:
        await self.admin.execute("SELECT pg_stat_clear_snapshot()")
        value = await self.admin.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            self.database,
        )
        return int(value or 0)

    async def sample(self) -> None:
        """Read every backend of the database now."""
        for pid in await self._pids():
            used = cpu_seconds(pid)
            if used is not None:
                self._first.setdefault(pid, used if self._at is None else 0.0)
                self._last[pid] = used

    async def start(self) -> None:
        """Begin the interval."""
        self._first.clear()
        self._last.clear()
        self._at = None
        await self.sample()
        self._xacts = await self._transactions()
        self._at = time.monotonic()

    async def stop(self) -> dict[str, float]:
        """End the interval: CPU % of one core, transactions/s, backends seen."""
        await self.sample()
        assert self._at is not None, "DatabaseMeter.start() was not awaited"
        wall = time.monotonic() - self._at
        used = sum(self._last[pid] - first for pid, first in self._first.items())
        xacts = await self._transactions() - self._xacts
        return {
            "database_cpu_percent": 100 * used / wall,
            "transactions_per_second": xacts / wall,
            "backends": len(self._first),
        }
