"""``workhooks mirror``: the receiver and the sync engine in one process, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal

from aiohttp import web

from workhooks.client.async_client import AsyncClient
from workhooks.client.sqlite_sink import SqliteSink
from workhooks.client.sync import SyncEngine, SyncOptions
from workhooks.mirror.receiver import receiver_app
from workhooks.mirror.settings import MirrorSettings

__all__ = ["run_mirror"]

logger = logging.getLogger("workhooks.mirror")


def async_client(settings: MirrorSettings) -> AsyncClient:
    """The SDK client the mirror uses."""
    return AsyncClient(
        settings.server_url,
        tenant=settings.tenant,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        user_agent=settings.user_agent,
    )


async def run_mirror(settings: MirrorSettings, *, stop: asyncio.Event | None = None) -> None:
    """Receive events on ``host:port`` and keep the SQLite copy current until ``stop``.

    The receiver listens before the engine subscribes, so the first deliveries find it.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sink = SqliteSink(settings.db)
    scope = settings.scope(dt.datetime.now(dt.UTC).date())
    try:
        async with async_client(settings) as client:
            engine = SyncEngine(
                client,
                sink,
                SyncOptions(
                    destination_url=settings.destination_url,
                    scope=scope,
                    poll_interval_seconds=settings.poll_seconds,
                    renew_before=dt.timedelta(hours=settings.renew_before_hours),
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
