"""Building: the composition root, the one place that picks concrete classes and wires them.

Everything here is built from ``Settings``: each layer's tuning is mapped from its settings
group once (``worker_options``, ``connection_limits`` ...), so no layer keeps a default of
its own. ``runtime`` opens the store and yields what one process runs; ``running.py`` runs it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from litestar import Litestar
from prometheus_client import CollectorRegistry, generate_latest

from workhooks import __version__
from workhooks.api.app import create_app
from workhooks.api.connections import ConnectionLimits
from workhooks.api.probes import Readiness
from workhooks.api.rate_limits import RateLimits
from workhooks.config import ConfigError, HttpLimits, Settings
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

__all__ = [
    "USER_AGENT",
    "Runtime",
    "connection_limits",
    "make_store",
    "open_store",
    "retry_policy",
    "runtime",
    "worker_options",
]

USER_AGENT = f"workhooks/{__version__} (workhooks)"
_PING_SECONDS = 2.0


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


def make_store(settings: Settings) -> Store:
    """Pick the store: ``sqlite:///<path>``, ``postgresql://...`` or ``memory://``."""
    storage = settings.storage
    url = storage.database_url
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(
            url,
            sealer=load_sealer(settings),
            pool=PoolSettings(min_size=storage.db_pool_min, max_size=storage.db_pool_max),
            lease_seconds=storage.lease_seconds,
        )
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError("WORKHOOKS_DATABASE_URL: sqlite:/// needs a file path")
        return SqliteStore(path, sealer=load_sealer(settings))
    if url == "memory://":
        return InMemoryStore()
    raise ConfigError(
        f"WORKHOOKS_DATABASE_URL: unsupported URL {url.split(':', 1)[0]!r}; "
        "use sqlite:///<path> or postgresql://user@host:port/database (memory:// for tests)"
    )


def _shown(database_url: str) -> str:
    """The database URL without its password, fit for a message."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def open_store(store: Store, database_url: str) -> None:
    """Open the store; a database that cannot be opened or reached is a ``ConfigError``."""
    try:
        await store.open()
    except (OSError, sqlite3.Error, StoreUnavailableError, asyncpg.PostgresError) as exc:
        raise ConfigError(f"cannot open the database {_shown(database_url)}: {exc}") from exc


def retry_policy(settings: Settings) -> RetryPolicy:
    """How the worker retries a failing webhook: the schedule of the settings."""
    return RetryPolicy(schedule=settings.delivery.retry_schedule)


def worker_options(settings: Settings) -> WorkerOptions:
    """The worker's tuning from the delivery settings (leases renewed thrice per lease)."""
    delivery = settings.delivery
    return WorkerOptions(
        window=delivery.delivery_window,
        poll_interval_seconds=delivery.poll_interval_seconds,
        history_retention=dt.timedelta(days=delivery.history_retention_days),
        lease_renew_seconds=settings.storage.lease_seconds / 3,
        windows_in_flight=delivery.windows_in_flight,
        webhook_concurrency=delivery.webhook_concurrency,
        origin_windows=delivery.delivery_concurrency,
        claim_batch=delivery.claim_batch,
        excerpt_bytes=delivery.excerpt_bytes,
        failure_excerpt_bytes=delivery.failure_excerpt_bytes,
    )


def connection_limits(http: HttpLimits) -> ConnectionLimits:
    """What the API's HTTP server accepts per connection and in all."""
    return ConnectionLimits(
        max_header_bytes=http.max_header_bytes,
        header_timeout_seconds=http.header_timeout_seconds,
        body_timeout_seconds=http.body_timeout_seconds,
        max_connections=http.max_connections,
    )


def _rate_limits(http: HttpLimits) -> RateLimits | None:
    if http.rate_limit_per_second <= 0:
        return None
    return RateLimits(rate=http.rate_limit_per_second, burst=http.rate_limit_burst)


def _sender(settings: Settings) -> AiohttpSender:
    return AiohttpSender(
        timeout_seconds=settings.delivery.delivery_timeout_seconds,
        user_agent=USER_AGENT,
        allow_loopback=settings.dev,
        allowed_networks=settings.delivery.allowed_networks,
        limit_per_host=settings.delivery.delivery_concurrency,
    )


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


def _services(
    settings: Settings,
    store: Store,
    clock: Clock,
    worker: DeliveryWorker,
    sender: Sender,
    *,
    first_key: SigningKey,
    keys: list[SigningKey],
) -> Services:
    """The services of one process; ``first_key`` keys its continuation tokens and sessions."""
    security, api = settings.security, settings.api
    tokens = TokenCodec(token_key(first_key))
    return Services(
        auth=AuthService(
            store,
            clock,
            keys=keys,
            base_url=settings.server.base_url,
            token_ttl=security.token_ttl_seconds,
            limits=FailureLimits(
                per_client=security.token_failures_per_client,
                per_address=security.token_failures_per_address,
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
                allowed_networks=settings.delivery.allowed_networks,
            ),
            validity=dt.timedelta(days=api.webhook_validity_days),
            max_enabled=api.max_webhooks_per_tenant,
        ),
        deliveries=DeliveryHistoryService(store, tokens=tokens, page_size=api.history_page_size),
        reads=ReadService(store, clock, tokens=tokens, page_size=api.page_size),
        references=ReferenceService(store),
        groups=GroupService(store),
        console=ConsoleService(store, clock, wake=worker.wake, sender=sender),
        sessions=SessionService(
            store,
            clock,
            key=session_key(first_key),
            ttl=dt.timedelta(minutes=security.console_session_minutes),
            link_ttl=dt.timedelta(minutes=security.portal_link_minutes),
        ),
    )


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
    store = store if store is not None else make_store(settings)
    clock = clock if clock is not None else SystemClock()
    own_sender = None
    if sender is None:
        own_sender = sender = _sender(settings)
    await open_store(store, settings.storage.database_url)
    try:
        key = await store.ensure_signing_key(generate_signing_key(clock.now()))
        delivery_metrics = DeliveryMetrics()
        worker = DeliveryWorker(
            store,
            sender,
            clock,
            policy=retry_policy(settings),
            rng=rng if rng is not None else random.Random(),
            options=worker_options(settings),
            metrics=delivery_metrics,
        )
        keys = await store.signing_keys()
        services = _services(settings, store, clock, worker, sender, first_key=key, keys=keys)
        if own_sender is not None:
            await own_sender.start()
        metrics = _metrics_source(
            store,
            clock,
            delivery_metrics,
            process_registry(version=__version__, role=role),
            series=settings.api.metrics_webhook_series,
        )
        readiness = _readiness(store, clock, worker)
        app = create_app(
            services,
            metrics=metrics,
            metrics_token=settings.security.metrics_token,
            rate_limits=_rate_limits(settings.http),
            readiness=readiness,
        )
        try:
            yield Runtime(
                settings=settings,
                store=store,
                services=services,
                worker=worker,
                app=app,
                metrics=metrics,
                readiness=readiness,
            )
        finally:
            if own_sender is not None:
                await own_sender.close()
    finally:
        await store.close()
