"""Query parameters shared by routes, declared once so the OpenAPI document lists them."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

__all__ = ["Continuation", "DeltaFlag", "FilterText", "References"]

FilterText = Annotated[
    str | None,
    QueryParameter(
        name="filter",
        description="Protime filter expression, e.g. date ge '2024-01-01' and date le '2024-01-31'",
    ),
]
References = Annotated[
    str | None,
    QueryParameter(
        name="externalReferences",
        description="References to render, e.g. (people,@employee-number)(people,HRMID)",
    ),
]
Continuation = Annotated[
    str | None,
    QueryParameter(name="continuationToken", description="Opaque token from a nextLink"),
]
DeltaFlag = Annotated[
    str | None,
    QueryParameter(
        name="delta", description="Present to start change tracking: the last page has a deltaLink"
    ),
]
