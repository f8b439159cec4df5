"""What both clients share: the clock, the ``User-Agent`` rule and the request headers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from workhooks.client.calls import Call

__all__ = [
    "DEFAULT_USER_AGENT",
    "Clock",
    "check_user_agent",
    "headers_for",
    "system_clock",
]

Clock = Callable[[], dt.datetime]

# ServiceName/Version (Company): what Protime asks of every caller.
_USER_AGENT = re.compile(r"^[^\s/]+/[^\s/]+ \(.+\)$")
DEFAULT_USER_AGENT = "workhooks-client/0.1.0 (workhooks)"


def system_clock() -> dt.datetime:
    """The current aware UTC time."""
    return dt.datetime.now(dt.UTC)


def check_user_agent(value: str) -> str:
    """Return ``value`` if it is ``ServiceName/Version (Company)``; raise ``ValueError`` if not."""
    if not _USER_AGENT.match(value):
        raise ValueError(
            f"user_agent {value!r} must look like 'ServiceName/Version (Company)', "
            "e.g. 'Payroll/2.1 (Acme)'"
        )
    return value


def headers_for(call: Call, *, user_agent: str, token: str | None) -> dict[str, str]:
    """The headers of one API request."""
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if call.content is not None:
        headers["Content-Type"] = "application/json"
    return headers
