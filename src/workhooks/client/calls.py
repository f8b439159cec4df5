"""The API's requests, built once for both clients: method, URL, query and JSON body.

``Client`` and ``AsyncClient`` only send these and decode the answers, so the two cannot
disagree about a path or a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import msgspec

from workhooks.client.errors import UnexpectedResponse
from workhooks.client.models import (
    DeltaItem,
    PersonWrite,
    WorkInterruptionWrite,
    parse_delta_item,
)

__all__ = [
    "API_PREFIX",
    "COLLECTION",
    "Call",
    "Page",
    "batch_body",
    "decode",
    "delete",
    "delta_items",
    "delta_start",
    "get",
    "json_call",
    "link",
    "list_call",
]

API_PREFIX = "/connector/protimeapi/api/v1"
COLLECTION = "work-interruptions"

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One request: ``url`` is a path under the base URL (or an absolute URL from a link)."""

    method: str
    url: str
    params: dict[str, str] | None = None
    content: bytes | None = None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True, rename="camel"):
    """One page of a list: ``nextLink`` while more follow; ``deltaLink`` after a delta's last."""

    value: list[T]
    next_link: str | None = None
    delta_link: str | None = None


def _path(*parts: str | int) -> str:
    return API_PREFIX + "".join(f"/{quote(str(p), safe='')}" for p in parts)


def _params(**given: str | None) -> dict[str, str] | None:
    kept = {k: v for k, v in given.items() if v is not None}
    return kept or None


def get(*parts: str | int, external_references: str | None = None) -> Call:
    """``GET`` of one resource, e.g. ``get("webhooks", id)``."""
    return Call(
        method="GET",
        url=_path(*parts),
        params=_params(externalReferences=external_references),
    )


def delete(*parts: str | int) -> Call:
    """``DELETE`` of one resource."""
    return Call(method="DELETE", url=_path(*parts))


def json_call(method: str, *parts: str | int, body: Any, query: str | None = None) -> Call:
    """A ``PUT``/``POST`` with a JSON body (msgspec Structs are encoded camelCase)."""
    return Call(
        method=method,
        url=_path(*parts),
        params=_params(externalReferences=query),
        content=msgspec.json.encode(body),
    )


def list_call(
    *parts: str | int, filter: str | None = None, external_references: str | None = None
) -> Call:
    """``GET`` of a collection, optionally filtered."""
    return Call(
        method="GET",
        url=_path(*parts),
        params=_params(filter=filter, externalReferences=external_references),
    )


def delta_start(filter: str, *, external_references: str | None = None) -> Call:
    """The first page of a delta walk: the list with ``&delta``."""
    params = _params(filter=filter, externalReferences=external_references) or {}
    params["delta"] = ""
    return Call(method="GET", url=_path(COLLECTION), params=params)


def link(url: str) -> Call:
    """Follow a ``nextLink`` or ``deltaLink`` as given by the server."""
    return Call(method="GET", url=url)


def batch_body(
    records: Sequence[WorkInterruptionWrite] | Sequence[PersonWrite],
) -> dict[str, Any]:
    """The body of a batch write."""
    return {"value": list(records)}


def decode(content: bytes, kind: type[T], *, status: int) -> T:
    """Decode a success body as ``kind``; a body off the contract raises ``UnexpectedResponse``."""
    try:
        return msgspec.json.decode(content, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UnexpectedResponse(
            status,
            code="UnexpectedResponse",
            message=f"the answer is not a valid {getattr(kind, '__name__', kind)}: {exc}",
        ) from exc


def delta_items(values: list[dict[str, Any]], *, status: int) -> list[DeltaItem]:
    """Convert a delta page's raw items; an item off the contract raises ``UnexpectedResponse``."""
    try:
        return [parse_delta_item(v) for v in values]
    except msgspec.ValidationError as exc:
        raise UnexpectedResponse(
            status, code="UnexpectedResponse", message=f"a delta item is not valid: {exc}"
        ) from exc
