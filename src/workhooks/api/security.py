"""Per-request checks: the ``User-Agent`` rule and the bearer token with its scope."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from workhooks.domain.scopes import Scope
from workhooks.errors import InvalidRequestError
from workhooks.services.auth import Principal
from workhooks.services.container import Services

__all__ = ["authorize", "services_of"]

# ServiceName/Version (Company), as the Protime API asks of every caller.
_USER_AGENT = re.compile(r"^[^\s/]+/[^\s/]+ \(.+\)$")


def services_of(request: Request[Any, Any, Any]) -> Services:
    """The services the app was built with."""
    services: Services = request.app.state["services"]
    return services


def check_user_agent(request: Request[Any, Any, Any]) -> None:
    """Raise ``InvalidRequestError`` unless the ``User-Agent`` is ``Name/Version (Company)``."""
    agent = request.headers.get("user-agent", "").strip()
    if not agent:
        raise InvalidRequestError(
            "A User-Agent header is required",
            reasons=("User-Agent: send 'ServiceName/Version (Company)'",),
        )
    if not _USER_AGENT.match(agent):
        raise InvalidRequestError(
            "The User-Agent header must look like 'ServiceName/Version (Company)'",
            reasons=(f"User-Agent: {agent[:100]!r} is not 'ServiceName/Version (Company)'",),
        )


def authorize(request: Request[Any, Any, Any], scope: Scope) -> Principal:
    """Check the User-Agent, the token and its scope; return who is calling."""
    check_user_agent(request)
    principal = services_of(request).auth.authenticate(request.headers.get("authorization"))
    principal.require(scope)
    return principal
