"""Per-request checks: the ``User-Agent`` rule and the bearer token with its scope."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from workhooks.api.rate_limits import RateLimits
from workhooks.domain.scopes import Scope
from workhooks.errors import InvalidRequestError
from workhooks.services.access_tokens import Principal
from workhooks.services.container import Services

__all__ = ["SOURCE_FEED", "ScopeGuard", "principal_of", "requires", "services_of"]

logger = logging.getLogger("workhooks.api")

# ServiceName/Version (Company), as the Protime API asks of every caller.
_USER_AGENT = re.compile(r"^[^\s/]+/[^\s/]+ \(.+\)$")
_PRINCIPAL = "workhooks.principal"


def services_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    """The services the app was built with."""
    services: Services = connection.app.state["services"]
    return services


@functools.lru_cache(maxsize=1024)
def _note_undocumented_agent(agent: str) -> None:
    """Log a User-Agent outside the documented form, once per value while it is remembered."""
    logger.info(
        "User-Agent %r is not of the documented form 'ServiceName/Version (Company)'", agent
    )


def check_user_agent(request: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Raise ``InvalidRequestError`` when the ``User-Agent`` is missing or empty.

    Any other value is accepted, as HTTP libraries append their own product tokens; one not
    of the documented ``ServiceName/Version (Company)`` form is logged.
    """
    agent = request.headers.get("user-agent", "").strip()
    if not agent:
        raise InvalidRequestError(
            "A User-Agent header is required",
            reasons=("User-Agent: send 'ServiceName/Version (Company)'",),
        )
    if not _USER_AGENT.match(agent):
        _note_undocumented_agent(agent[:200])


# The source side's writes (contract B12) feed every subscriber: a source system pushes at
# its own pace and is not rate limited; the Protime API it serves to consumers is.
SOURCE_FEED = frozenset({Scope.WORK_INTERRUPTIONS_WRITE, Scope.PEOPLE_WRITE})


class ScopeGuard:
    """A route guard: check the User-Agent, the token, the client's rate and ``scope`` before
    anything else.

    Guards run before the body is read, so an unauthenticated caller learns nothing about
    the body rules. The caller is kept on the connection for ``principal_of``. ``scope`` is
    also what the OpenAPI document lists as the operation's security requirement.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        """Raise unless the caller may use the route; remember who they are."""
        check_user_agent(connection)
        principal = await services_of(connection).auth.authenticate(
            connection.headers.get("authorization")
        )
        limits: RateLimits | None = connection.app.state.get("rate_limits")
        if limits is not None and self.scope not in SOURCE_FEED:
            limits.take(principal.client_id)
        principal.require(self.scope)
        connection.state[_PRINCIPAL] = principal


def requires(scope: Scope) -> Guard:
    """The guard of a route that needs ``scope`` (see ``ScopeGuard``)."""
    return ScopeGuard(scope)


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """Who is calling, as established by the route's ``requires`` guard."""
    principal: Principal = request.state[_PRINCIPAL]
    return principal
