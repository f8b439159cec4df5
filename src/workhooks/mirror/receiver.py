"""The mirror's receiver: an aiohttp app that hands every delivery to the sync engine."""

from __future__ import annotations

import logging

from aiohttp import web

from workhooks.client.sync import SyncEngine

__all__ = ["HOOK_PATH", "receiver_app"]

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
