"""Running: the processes of workhooks, their servers, signals and graceful shutdown.

Nothing is built here but the HTTP servers around what ``building.runtime`` yields.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import uvicorn

from workhooks import __version__
from workhooks.api.connections import limited_protocol
from workhooks.api.probes import create_probe_app
from workhooks.bootstrap.building import (
    Runtime,
    connection_limits,
    make_store,
    open_store,
    runtime,
)
from workhooks.config import ConfigError, Settings

__all__ = ["migrate", "probe_server", "running_worker", "serve", "uvicorn_server", "work"]

logger = logging.getLogger("workhooks")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# After the delivery timeout, the worker's in-flight window has this long to be recorded.
_DRAIN_GRACE_SECONDS = 5


async def migrate(settings: Settings) -> tuple[int, tuple[str, ...]]:
    """Apply the pending migrations of the configured database.

    Returns the schema version reached and the migrations applied (none if up to date).

    Idempotent and safe from several nodes at once: PostgreSQL serialises migrators with an
    advisory lock, SQLite with its write lock. A schema newer than this release refuses.
    """
    store = make_store(settings)
    await open_store(store, settings.storage.database_url)
    try:
        return store.schema_version, store.migrations_applied
    finally:
        await store.close()


@asynccontextmanager
async def running_worker(rt: Runtime) -> AsyncIterator[None]:
    """Run the delivery worker in the background while the block runs."""
    stop = asyncio.Event()
    await rt.store.hold_delivery()
    # Changes committed by other processes (API nodes) wake this worker at once.
    await rt.store.listen(rt.worker.wake)
    task = asyncio.create_task(rt.worker.run(stop), name="delivery-worker")
    try:
        yield
    finally:
        stop.set()
        rt.worker.wake()
        drain = rt.settings.delivery.delivery_timeout_seconds + _DRAIN_GRACE_SECONDS
        try:
            # In-flight requests finish (bounded by the delivery timeout); then we give up.
            await asyncio.wait_for(task, timeout=drain)
        except TimeoutError:
            logger.warning("delivery worker did not stop in time; in-flight window abandoned")


class _GracefulServer(uvicorn.Server):
    """uvicorn, minus re-raising SIGINT/SIGTERM after its shutdown.

    uvicorn re-raises the captured signal once the HTTP side has stopped, which would kill
    the process before the delivery worker has finished its in-flight window. Here the
    signal only starts the shutdown; ``serve`` then stops the worker and returns normally.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


class _ProbeServer(uvicorn.Server):
    """uvicorn for a worker's probes: the worker's own signal handling stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(rt: Runtime) -> uvicorn.Server:
    """A uvicorn server for the runtime's app (no access log: it is the hot path), with the
    connection limits of the settings."""
    server = rt.settings.server
    config = uvicorn.Config(
        rt.app,
        host=server.host,
        port=server.port,
        log_level=server.log_level,
        log_config=None,  # our logging setup (workhooks.logs) formats uvicorn's lines too
        access_log=False,
        server_header=False,
        lifespan="on",
        http=limited_protocol(connection_limits(rt.settings.http)),
    )
    return _GracefulServer(config)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket for the worker's probes (port 0: any free port, logged at start)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ConfigError(f"WORKHOOKS_WORKER_PORT: cannot listen on {host}:{port}: {exc}") from exc


def probe_server(rt: Runtime) -> uvicorn.Server:
    """The worker's ``/health``, ``/ready`` and ``/metrics`` on ``WORKHOOKS_WORKER_PORT``."""
    app = create_probe_app(
        metrics=rt.metrics,
        metrics_token=rt.settings.security.metrics_token,
        readiness=rt.readiness,
    )
    server = rt.settings.server
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.worker_port,
        log_level=server.log_level,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="off",
    )
    return _ProbeServer(config)


def _log_start(settings: Settings, role: str, *, worker: bool, listen: str) -> None:
    """The start-up line: release, role, database kind (never its URL), worker, dev mode."""
    database = settings.storage.database_url.split(":", 1)[0]
    logger.info(
        "workhooks %s %s started: database %s, worker %s, development mode %s, listening on %s",
        __version__,
        role,
        database,
        "on" if worker else "off",
        "on" if settings.dev else "off",
        listen,
        extra={
            "version": __version__,
            "role": role,
            "database": database,
            "worker": worker,
            "dev": settings.dev,
            "listen": listen,
        },
    )
    if settings.dev:
        logger.warning("development mode: http and loopback destinations are accepted")


async def work(settings: Settings) -> None:
    """Run the delivery worker only, until SIGINT/SIGTERM (then finish the window and exit)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    async with runtime(settings, role="worker") as rt, running_worker(rt):
        listener = _listen(settings.server.host, settings.server.worker_port)
        probes = probe_server(rt)
        serving = asyncio.create_task(probes.serve(sockets=[listener]), name="worker-probes")
        host, port = listener.getsockname()[:2]
        _log_start(settings, "worker", worker=True, listen=f"{host}:{port}")
        await stopping.wait()
        probes.should_exit = True
        await serving
    logger.info("delivery worker stopped")


async def serve(settings: Settings) -> None:
    """Run the API and, unless disabled, the delivery worker until SIGINT/SIGTERM."""
    server = settings.server
    async with runtime(settings) as rt:
        listen = f"{server.host}:{server.port}"
        _log_start(settings, "serve", worker=server.run_worker, listen=listen)
        api = uvicorn_server(rt)
        if server.run_worker:
            async with running_worker(rt):
                await api.serve()
        else:
            await api.serve()
