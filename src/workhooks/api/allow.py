"""``OPTIONS`` answers name every method of the path.

Litestar answers ``OPTIONS`` with the methods of the handlers registered first on a path
(``/webhooks`` said ``OPTIONS, POST``, without ``GET``), so the ``Allow`` header is set here
from the finished route table instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

__all__ = ["allowed_methods", "fix_allow_header"]


def allowed_methods(app: Litestar) -> dict[str, str]:
    """The ``Allow`` value of each path template of ``app``."""
    return {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


def fix_allow_header(allowed: Mapping[str, str]) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook putting the path's full method list on ``OPTIONS`` answers."""

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
            return
        methods = allowed.get(scope.get("path_template", ""))
        if methods is not None:
            MutableScopeHeaders.from_message(message)["Allow"] = methods

    return hook
