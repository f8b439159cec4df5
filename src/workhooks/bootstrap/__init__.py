"""The composition root (``building``) and the processes that run what it builds (``running``).

``building`` is the one place that picks concrete classes and wires them together;
``running`` holds servers, signals and graceful shutdown, and builds nothing of its own.
"""

from __future__ import annotations

from workhooks.bootstrap.building import USER_AGENT, Runtime, make_store, runtime, worker_options
from workhooks.bootstrap.running import (
    migrate,
    probe_server,
    running_worker,
    serve,
    uvicorn_server,
    work,
)

__all__ = [
    "USER_AGENT",
    "Runtime",
    "make_store",
    "migrate",
    "probe_server",
    "running_worker",
    "runtime",
    "serve",
    "uvicorn_server",
    "work",
    "worker_options",
]
