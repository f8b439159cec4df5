"""The operator console (``/console``) and the delivery portal (``/portal/<tenant>``).

Server-rendered pages over the same services the API uses; they hold no logic of their own.
"""

from __future__ import annotations

from litestar import Router

from workhooks.web.console import console_router
from workhooks.web.pages import Pages
from workhooks.web.portal import portal_router

__all__ = ["Pages", "web_routers"]


def web_routers() -> list[Router]:
    """The routers of both faces."""
    return [console_router(), portal_router()]
