"""Metrics of the process itself: CPU, memory, file descriptors, and which build it runs."""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Info, PlatformCollector, ProcessCollector

__all__ = ["process_registry"]


def process_registry(*, version: str, role: str) -> CollectorRegistry:
    """A registry with ``process_*``, ``python_info`` and ``workhooks_build_info``.

    ``role`` says what the process runs: ``serve`` (API, with or without a worker) or
    ``worker``.
    """
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    Info("workhooks_build", "The workhooks release this process runs.", registry=registry).info(
        {"version": version, "python": platform.python_version(), "role": role}
    )
    return registry
