"""The composition root: the one place that picks concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import random
import signal
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import uvicorn
from litestar import Litestar
from prometheus_client import CollectorRegistry, generate_latest

from workhooks import __version__
from workhooks.api.app import create_app
from workhooks.api.connections import ConnectionLimits, limited_protocol
from workhooks.api.probes import Readiness, create_probe_app
from workhooks.api.rate_limits import RateLimits
from workhooks.config import ConfigError, Settings
from workhooks.delivery.metrics import DeliveryMetrics, render_backlogs
from workhooks.delivery.sender import AiohttpSender, Sender
from workhooks.delivery.worker import DeliveryWorker, WorkerOptions
from workhooks.domain.clients import SigningKey
from workhooks.domain.retry import RetryPolicy
from workhooks.domain.tokens import TokenCodec
from workhooks.errors import StoreUnavailableError
from workhooks.master_key import load_sealer
from workhooks.process_metrics import process_registry
from workhooks.services.auth import AuthService, FailureLimits, generate_signing_key
from workhooks.services.clients import ClientService
from workhooks.services.clock import Clock, SystemClock
from workhooks.services.console import ConsoleService
from workhooks.services.container import Services
from workhooks.services.deliveries import DeliveryHistoryService
from workhooks.services.groups import GroupService
from workhooks.services.reads import ReadService
from workhooks.services.records import RecordService
from workhooks.services.references import ReferenceService
from workhooks.services.sessions import SessionService
from workhooks.services.webhooks import DestinationRules, WebhookService
from workhooks.storage.memory import InMemoryStore
from workhooks.storage.postgres.connection import PoolSettings
from workhooks.storage.postgres.store import PostgresStore
from workhooks.storage.protocol import Store
from workhooks.storage.sqlite.store import SqliteStore

__all__ = ["USER_AGENT", "Runtime", "make_store", "migrate", "runtime", "serve", "work"]

logger = logging.getLogger("workhooks")
USER_AGENT = f"workhooks/{__version__} (workhooks)"


def token_key(key: SigningKey) -> bytes:
    """The key of continuation and delta tokens, derived from the first token signing key.

    Every API node of one database derives the same key, so any node accepts any token;
    the first key is kept (sealed) when token signing keys are rotated, so continuation
    and delta tokens in the hands of consumers survive a rotation.
    """
    return hmac.new(key.private_key, b"workhooks continuation tokens", hashlib.sha256).digest()


def session_key(key: SigningKey) -> bytes:
    """The key of console and portal sessions and portal links (same on every API node)."""
    return hmac.new(key.private_key, b"workhooks console sessions", hashlib.sha256).digest()


def make_store(database_url: str, settings: Settings | None = None) -> Store:
    """Pick the store: ``sqlite:///<path>``, ``postgresql://...`` or ``memory://``."""
    tuning = settings or Settings(database_url=database_url)
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(
            database_url,
            sealer=load_sealer(tuning),
            pool=PoolSettings(min_size=tuning.db_pool_min, max_size=tuning.db_pool_max),
            lease_seconds=tuning.lease_seconds,
        )
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError("WORKHOOKS_DATABASE_URL: sqlite:/// needs a file path")
        return SqliteStore(path, sealer=load_sealer(tuning))
    if database_url == "memory://":
        return InMemoryStore()
    raise ConfigError(
        f"WORKHOOKS_DATABASE_URL: unsupported URL {database_url.split(':', 1)[0]!r}; "
        "use sqlite:///<path> or postgresql://user@host:port/database (memory:// for tests)"
    )


def _shown(database_url: str) -> str:
    """The database URL without its password, fit for a message."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def _open(store: Store, database_url: str) -> None:
    """Open the store; a database that cannot be opened or reached is a ``ConfigError``."""
    try:
        await store.open()
    except (OSError, sqlite3.Error, StoreUnavailableError, asyncpg.PostgresError) as exc:
        raise ConfigError(f"cannot open the database {_shown(database_url)}: {exc}") from exc


async def migrate(settings: Settings) -> tuple[int, tuple[str, ...]]:
    """Apply the pending migrations of the configured database.

    Returns the schema version reached and the migrations applied (none if up to date).

    Idempotent and safe from several nodes at once: PostgreSQL serialises migrators with an
    advisory lock, SQLite with its write lock. A schema newer than this release refuses.
    """
    store = make_store(settings.database_url, settings)
    await _open(store, settings.database_url)
    try:
        return store.schema_version, store.migrations_applied
    finally:
        await store.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """Everything one workhooks process runs, built from settings."""

    settings: Settings
    store: Store
    services: Services
    worker: DeliveryWorker
    app: Litestar
    metrics: Callable[[], Awaitable[bytes]]
    readiness: Readiness


def _metrics_source(
    store: Store,
    clock: Clock,
    delivery_metrics: DeliveryMetrics,
    process: CollectorRegistry,
    *,
    series: int,
) -> Callable[[], Awaitable[bytes]]:
    async def render() -> bytes:
        report = await store.webhook_backlogs(limit=series)
        return (
            generate_latest(process)
            + delivery_metrics.render()
            + render_backlogs(report, now=clock.now())
        )

    return render


def _readiness(store: Store, clock: Clock, worker: DeliveryWorker) -> Readiness:
    """Ready while the database answers and the worker (if it runs here) renews its leases."""

    async def check() -> list[str]:
        problems = []
        try:
            await asyncio.wait_for(store.ping(), timeout=_PING_SECONDS)
        except Exception as exc:  # whatever the failure, this process cannot serve now
            problems.append(f"database unreachable ({type(exc).__name__})")
        if worker.renewal_overdue(clock.now()):
            problems.append("delivery worker: leases not renewed for longer than a lease lasts")
        return problems

    return check


_PING_SECONDS = 2.0


@asynccontextmanager
async def runtime(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    sender: Sender | None = None,
    rng: random.Random | None = None,
    role: str = "serve",
) -> AsyncIterator[Runtime]:
    """Open the store, build services, worker and app; close everything on exit.

    ``role`` (``serve`` or ``worker``) is reported in ``workhooks_build_info``.
    """
    store = store if store is not None else make_store(settings.database_url, settings)
    clock = clock if clock is not None else SystemClock()
    own_sender = None
    if sender is None:
        own_sender = AiohttpSender(
            timeout_seconds=settings.delivery_timeout_seconds,
            user_agent=USER_AGENT,
            allow_loopback=settings.dev,
            allowed_networks=settings.allowed_networks,
            limit_per_host=settings.delivery_concurrency,
        )
        sender = own_sender
    await _open(store, settings.database_url)
    try:
        key = await store.ensure_signing_key(generate_signing_key(clock.now()))
        tokens = TokenCodec(token_key(key))
        delivery_metrics = DeliveryMetrics()
        worker = DeliveryWorker(
            store,
            sender,
            clock,
            policy=RetryPolicy.from_seconds(settings.retry_schedule),
            rng=rng if rng is not None else random.Random(),
            options=WorkerOptions(
                window=settings.delivery_window,
                poll_interval_seconds=settings.poll_interval_seconds,
                history_retention=dt.timedelta(days=settings.history_retention_days),
                lease_renew_seconds=settings.lease_seconds / 3,
                windows_in_flight=settings.windows_in_flight,
                webhook_concurrency=settings.webhook_concurrency,
                origin_windows=settings.delivery_concurrency,
                claim_batch=settings.claim_batch,
                excerpt_bytes=settings.excerpt_bytes,
                failure_excerpt_bytes=settings.failure_excerpt_bytes,
            ),
            metrics=delivery_metrics,
        )
        services = Services(
            auth=AuthService(
                store,
                clock,
                keys=await store.signing_keys(),
                base_url=settings.base_url,
                token_ttl=settings.token_ttl_seconds,
                limits=FailureLimits(
                    per_client=settings.token_failures_per_client,
                    per_address=settings.token_failures_per_address,
                ),
            ),
            clients=ClientService(store, clock),
            records=RecordService(store, on_change=worker.wake),
            webhooks=WebhookService(
                store,
                clock,
                rules=DestinationRules(
                    allow_http=settings.dev,
                    allow_loopback=settings.dev,
                    allowed_networks=settings.allowed_networks,
                ),
                validity=dt.timedelta(days=settings.webhook_validity_days),
                max_enabled=settings.max_webhooks_per_tenant,
            ),
            deliveries=DeliveryHistoryService(
                store, tokens=tokens, page_size=settings.history_page_size
            ),
            reads=ReadService(store, clock, tokens=tokens, page_size=settings.page_size),
            references=ReferenceService(store),
            groups=GroupService(store),
            console=ConsoleService(store, clock, wake=worker.wake, sender=sender),
            sessions=SessionService(
                store,
                clock,
                key=session_key(key),
                ttl=dt.timedelta(minutes=settings.console_session_minutes),
                link_ttl=dt.timedelta(minutes=settings.portal_link_minutes),
            ),
        )
        if own_sender is not None:
            await own_sender.start()
        metrics = _metrics_source(
            store,
            clock,
            delivery_metrics,
            process_registry(version=__version__, role=role),
            series=settings.metrics_webhook_series,
        )
        readiness = _readiness(store, clock, worker)
        try:
            yield Runtime(
                settings=settings,
                store=store,
                services=services,
                worker=worker,
                app=create_app(
                    services,
                    metrics=metrics,
                    metrics_token=settings.metrics_token,
                    rate_limits=(
                        RateLimits(
                            rate=settings.rate_limit_per_second,
                            burst=settings.rate_limit_burst,
                        )
                        if settings.rate_limit_per_second > 0
                        else None
                    ),
                    readiness=readiness,
                ),
                metrics=metrics,
                readiness=readiness,
            )
        finally:
            if own_sender is not None:
                await own_sender.close()
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
        try:
            # In-flight requests finish (bounded by the delivery timeout); then we give up.
            await asyncio.wait_for(task, timeout=rt.settings.delivery_timeout_seconds + 5)
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


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _ProbeServer(uvicorn.Server):
    """uvicorn for a worker's probes: the worker's own signal handling stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(rt: Runtime) -> uvicorn.Server:
    """A uvicorn server for the runtime's app (no access log: it is the hot path), with the
    connection limits of the settings."""
    settings = rt.settings
    limits = ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout_seconds=settings.header_timeout_seconds,
        body_timeout_seconds=settings.body_timeout_seconds,
        max_connections=settings.max_connections,
    )
    config = uvicorn.Config(
        rt.app,
        host=rt.settings.host,
        port=rt.settings.port,
        log_level=rt.settings.log_level,
        log_config=None,  # our logging setup (workhooks.logs) formats uvicorn's lines too
        access_log=False,
        server_header=False,
        lifespan="on",
        http=limited_protocol(limits),
    )
    return _GracefulServer(config)


def _warn_if_dev(settings: Settings) -> None:
    if settings.dev:
        logger.warning("development mode: http and loopback destinations are accepted")


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
        metrics=rt.metrics, metrics_token=rt.settings.metrics_token, readiness=rt.readiness
    )
    config = uvicorn.Config(
        app,
        host=rt.settings.host,
        port=rt.settings.worker_port,
        log_level=rt.settings.log_level,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="off",
    )
    return _ProbeServer(config)


def _log_start(settings: Settings, role: str, *, worker: bool, listen: str) -> None:
    """The start-up line: release, role, database kind (never its URL), worker, dev mode."""
    database = settings.database_url.split(":", 1)[0]
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


async def work(settings: Settings) -> None:
    """Run the delivery worker only, until SIGINT/SIGTERM (then finish the window and exit)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    async with runtime(settings, role="worker") as rt, running_worker(rt):
        listener = _listen(settings.host, settings.worker_port)
        probes = probe_server(rt)
        serving = asyncio.create_task(probes.serve(sockets=[listener]), name="worker-probes")
        host, port = listener.getsockname()[:2]
        _log_start(settings, "worker", worker=True, listen=f"{host}:{port}")
        _warn_if_dev(settings)
        await stopping.wait()
        probes.should_exit = True
        await serving
    logger.info("delivery worker stopped")


async def serve(settings: Settings) -> None:
    """Run the API and, unless disabled, the delivery worker until SIGINT/SIGTERM."""
    async with runtime(settings) as rt:
        _log_start(
            settings, "serve", worker=settings.run_worker, listen=f"{settings.host}:{settings.port}"
        )
        _warn_if_dev(settings)
        server = uvicorn_server(rt)
        if settings.run_worker:
            async with running_worker(rt):
                await server.serve()
        else:
            await server.serve()
