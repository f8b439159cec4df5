"""Request limits: URIs longer than 4,096 characters get 414 before routing; request bodies
are bounded per route (413 before they are read past the bound, from ``Content-Length``
when it is given), the token form by its number of fields (400)."""

from __future__ import annotations

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from workhooks.api.paths import MAX_URI_LENGTH
from workhooks.documents import error_body

__all__ = [
    "BATCH_BODY_BYTES",
    "FORM_BODY_BYTES",
    "FORM_FIELDS",
    "RECORD_BODY_BYTES",
    "uri_length_limit",
]

BATCH_BODY_BYTES = 4 * 1024 * 1024
"""A batch of up to 1,000 records."""
RECORD_BODY_BYTES = 64 * 1024
"""One record, one webhook or one reference value."""
FORM_BODY_BYTES = 8 * 1024
"""The token request form."""
FORM_FIELDS = 16
"""Fields of the token request form (it has four)."""

_BODY = msgspec.json.encode(
    error_body(
        "UriTooLong",
        f"The request URI is longer than {MAX_URI_LENGTH} characters",
        (f"uri: at most {MAX_URI_LENGTH} characters",),
    )
)


def uri_length_limit(app: ASGIApp) -> ASGIApp:
    """Answer 414 with a Protime error body when path and query exceed the limit."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            raw_path = scope.get("raw_path") or scope["path"].encode()
            query = scope.get("query_string", b"")
            length = len(raw_path) + (len(query) + 1 if query else 0)  # "?" only with a query
            if length > MAX_URI_LENGTH:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 414,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(_BODY)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": _BODY, "more_body": False})
                return
        await app(scope, receive, send)

    return middleware
