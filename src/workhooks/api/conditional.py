"""Entity tags of records and conditional GET (``If-None-Match`` -> 304).

A record's ETag is derived from its ``changeVersion``: every write gives a new version, so
the tag changes exactly when the record does. When the document carries the person's
external references, whose values change without a new version of the record, a short
hash of them is appended, so two different bodies never share a tag.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar, cast

from litestar import Request, Response
from msgspec import UnsetType

from workhooks.documents import Person, WorkInterruption

__all__ = ["etag_of", "record_response"]

R = TypeVar("R", WorkInterruption, Person)


def etag_of(document: WorkInterruption | Person) -> str:
    """The strong ETag of a record document: ``"<changeVersion>"`` (plus a references hash)."""
    tag = document.changeVersion
    if isinstance(document, WorkInterruption):
        references = document.person.externalReferences
        if not isinstance(references, UnsetType):
            rendered = json.dumps(references, sort_keys=True).encode()
            tag += "-" + hashlib.sha256(rendered).hexdigest()[:16]
    return f'"{tag}"'


def _matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    if header.strip() == "*":
        return True
    return any(part.strip().removeprefix("W/") == etag for part in header.split(","))


def record_response(
    request: Request[Any, Any, Any],
    document: R,
    *,
    status_code: int = 200,
    location: str | None = None,
) -> Response[R]:
    """Answer a record with its ``ETag``; a GET whose ``If-None-Match`` names it gets 304."""
    etag = etag_of(document)
    headers = {"ETag": etag}
    if location is not None:
        headers["Location"] = location
    if_none_match = request.headers.get("if-none-match")
    if request.method == "GET" and if_none_match is not None and _matches(if_none_match, etag):
        # A 304 never has a body, whatever the route's document type.
        return cast("Response[R]", Response(None, status_code=304, headers=headers))
    return Response(document, status_code=status_code, headers=headers)
