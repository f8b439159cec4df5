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
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from litestar import Litestar

from workhooks import __version__
from workhooks.api.app import create_app
from workhooks.config import ConfigError, Settings
from workhooks.delivery.metrics import DeliveryMetrics, render_backlogs
from workhooks.delivery.sender import AiohttpSender, Sender
from workhooks.delivery.worker import DeliveryWorker, WorkerOptions
from workhooks.domain.clients import SigningKey
from workhooks.domain.retry import RetryPolicy
from workhooks.domain.tokens import TokenCodec
from workhooks.services.auth import AuthService, generate_signing_key
from workhooks.services.clock import Clock, SystemClock
from workhooks.services.console import ConsoleService
from workhooks.services.container import Services
from workhooks.services.deliveries import DeliveryHistoryService
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

__all__ = ["USER_AGENT", "Runtime", "make_store", "runtime", "serve", "work"]

logger = logging.getLogger("workhooks")
USER_AGENT = f"workhooks/{__version__} (workhooks)"


def token_key(key: SigningKey) -> bytes:
    """The key of continuation and delta tokens, derived from the token signing key.

    Every API node of one database derives the same key, so any node accepts any token.
    """
    return hmac.new(key.private_key, b"workhooks continuation tokens", hashlib.sha256).digest()


def session_key(key: SigningKey) -> bytes:
    """The key of console and portal sessions and portal links (same on every API node)."""
    return hmac.new(key.private_key, b"workhooks console sessions", hashlib.sha256).digest()


def make_store(database_url: str, settings: Settings | None = None) -> Store:
    """Pick the store: ``sqlite:///<path>``, ``postgresql://...`` or ``memory://``."""
    if database_url.startswith(("postgresql://", "postgres://")):
        tuning = settings or Settings()
        return PostgresStore(
            database_url,
            pool=PoolSettings(min_size=tuning.db_pool_min, max_size=tuning.db_pool_max),
            lease_seconds=tuning.lease_seconds,
        )
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError("WORKHOOKS_DATABASE_URL: sqlite:/// needs a file path")
        return SqliteStore(path)
    if database_url == "memory://":
        return InMemoryStore()
    raise ConfigError(
        f"WORKHOOKS_DATABASE_URL: unsupported URL {database_url.split(':', 1)[0]!r}; "
        "use sqlite:///<path> or postgresql://user@host:port/database (memory:// for tests)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """Everything one workhooks process runs, built from settings."""

    settings: Settings
    store: Store
    services: Services
    worker: DeliveryWorker
    app: Litestar


def _metrics_source(
    store: Store, clock: Clock, delivery_metrics: DeliveryMetrics, *, series: int
) -> Callable[[], Awaitable[bytes]]:
    async def render() -> bytes:
        report = await store.webhook_backlogs(limit=series)
        return delivery_metrics.render() + render_backlogs(report, now=clock.now())

    return render


@asynccontextmanager
async def runtime(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    sender: Sender | None = None,
    rng: random.Random | None = None,
) -> AsyncIterator[Runtime]:
    """Open the store, build services, worker and app; close everything on exit."""
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
    await store.open()
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
            ),
            metrics=delivery_metrics,
        )
        services = Services(
            auth=AuthService(
                store,
                clock,
                key=key,
                base_url=settings.base_url,
                token_ttl=settings.token_ttl_seconds,
            ),
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
            console=ConsoleService(store, clock, wake=worker.wake),
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
        try:
            yield Runtime(
                settings=settings,
                store=store,
                services=services,
                worker=worker,
                app=create_app(
                    services,
                    metrics=_metrics_source(
                        store, clock, delivery_metrics, series=settings.metrics_webhook_series
                    ),
                    metrics_token=settings.metrics_token,
                ),
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


def uvicorn_server(rt: Runtime) -> uvicorn.Server:
    """A uvicorn server for the runtime's app (no access log: it is the hot path)."""
    config = uvicorn.Config(
        rt.app,
        host=rt.settings.host,
        port=rt.settings.port,
        log_level=rt.settings.log_level,
        access_log=False,
        server_header=False,
        lifespan="on",
    )
    return _GracefulServer(config)


async def work(settings: Settings) -> None:
    """Run the delivery worker only, until SIGINT/SIGTERM (then finish the window and exit)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    async with runtime(settings) as rt, running_worker(rt):
        logger.info("delivery worker started")
        await stopping.wait()
    logger.info("delivery worker stopped")


async def serve(settings: Settings) -> None:
    """Run the API and, unless disabled, the delivery worker until SIGINT/SIGTERM."""
    async with runtime(settings) as rt:
        if settings.dev:
            logger.warning("development mode: http and loopback destinations are accepted")
        server = uvicorn_server(rt)
        if settings.run_worker:
            async with running_worker(rt):
                await server.serve()
        else:
            await server.serve()
