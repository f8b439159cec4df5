"""``workhooks mirror``: the receiver and the sync engine in one process, until SIGINT/SIGTERM.

The receiver is a small aiohttp app: ``POST /hook`` hands each delivery to the engine (which
verifies and applies it and says what to answer); ``GET /health`` tells it is up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal

from aiohttp import web

from workhooks.client.async_client import AsyncClient
from workhooks.client.sqlite_sink import SqliteSink
from workhooks.client.sync import SyncEngine, SyncOptions
from workhooks.mirror.settings import MirrorSettings

__all__ = ["HOOK_PATH", "receiver_app", "run_mirror"]

logger = logging.getLogger("workhooks.mirror")

HOOK_PATH = "/hook"


def receiver_app(engine: SyncEngine, *, path: str = HOOK_PATH) -> web.Application:
    """``POST {path}``: verify and apply one event; ``GET /health``: liveness."""

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received = engine.receive(request.headers, body)
        if received.status >= 400:
            logger.warning("refused a delivery: %s %s", received.status, received.detail)
            return web.Response(status=received.status, text=received.detail)
        return web.Response(status=received.status)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post(path, hook)
    app.router.add_get("/health", health)
    return app


def _client(settings: MirrorSettings) -> AsyncClient:
    """The SDK client the mirror uses."""
    endpoints = settings.endpoints()
    return AsyncClient(
        endpoints.base_url,
        tenant=settings.tenant,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        user_agent=settings.user_agent,
        token_url=endpoints.token_url,
        oidc_issuer=endpoints.oidc_issuer,
    )


async def run_mirror(settings: MirrorSettings, *, stop: asyncio.Event | None = None) -> None:
    """Receive events on ``host:port`` and keep the SQLite copy current until ``stop``.

    The receiver listens before the engine subscribes, so the first deliveries find it.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    verifier = settings.load_verifier()
    scope = settings.scope(dt.datetime.now(dt.UTC).date())
    sink = SqliteSink(settings.db)
    try:
        async with _client(settings) as client:
            engine = SyncEngine(
                client,
                sink,
                SyncOptions(
                    destination_url=settings.destination_url,
                    scope=scope,
                    poll_interval_seconds=settings.poll_seconds,
                    renew_before=dt.timedelta(hours=settings.renew_before_hours),
                    verifier=verifier,
                ),
            )
            runner = web.AppRunner(receiver_app(engine), access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, settings.host, settings.port).start()
                logger.info(
                    "mirror of %s (%s to %s) listening on %s:%d, events to %s",
                    settings.tenant,
                    scope.date_from,
                    scope.date_to,
                    settings.host,
                    settings.port,
                    settings.destination_url,
                )
                await engine.run(stop)
            finally:
                await runner.cleanup()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        sink.close()
