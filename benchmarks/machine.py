"""A description of the machine and software a run measured, for the results file."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

__all__ = ["describe", "postgres_version"]

_PACKAGES = ("workhooks", "aiohttp", "asyncpg", "uvloop", "litestar", "uvicorn", "msgspec")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


async def postgres_version(admin_url: str) -> str:
    """The server's ``version()`` string."""
    conn = await asyncpg.connect(admin_url)
    try:
        version: str = await conn.fetchval("SELECT version()")
    finally:
        await conn.close()
    return version.split(" on ")[0]


def describe() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, SQLite and package versions, load average now."""
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "load_average_at_start": _load_average(),
    }
