"""The work-interruptions read API: list with filter and paging, delta, external references."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Request, delete, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from workhooks.api.limits import RECORD_BODY_BYTES
from workhooks.api.openapi import documented, errors
from workhooks.api.params import Continuation, DeltaFlag, FilterText, References
from workhooks.api.paths import API_PREFIX, path_id
from workhooks.api.schemas import ReferenceValueIn
from workhooks.api.security import principal_of, requires, services_of
from workhooks.documents import DeltaPage, PersonReferences, WorkInterruptionPage
from workhooks.domain.scopes import Scope

__all__ = ["READ_HANDLERS"]


def _link(path: str, params: dict[str, str | None], *, flag: str | None = None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None}, quote_via=quote)
    if flag is not None:
        query = f"{query}&{flag}" if query else flag
    return f"{API_PREFIX}{path}?{query}"


@get(
    "/work-interruptions",
    guards=[requires(Scope.WORK_INTERRUPTIONS_READ)],
    **documented("A page of work interruptions", 409),
)
async def list_work_interruptions(
    request: Request[Any, Any, Any],
    filter_text: FilterText = None,
    references: References = None,
    delta_flag: DeltaFlag = None,
    continuation: Continuation = None,
) -> WorkInterruptionPage:
    """Work interruptions a ``filter`` selects (``date`` range required), 1,000 per page.

    With ``delta``, the last page carries a ``deltaLink`` instead of nothing.
    """
    principal = principal_of(request)
    delta = delta_flag is not None
    page = await services_of(request).reads.list(
        principal.tenant,
        filter_text=filter_text,
        references=references,
        delta=delta,
        continuation=continuation,
    )
    body = WorkInterruptionPage(value=page.value)
    params = {"filter": filter_text, "externalReferences": references}
    if page.continuation is not None:
        body.nextLink = _link(
            "/work-interruptions",
            {**params, "continuationToken": page.continuation},
            flag="delta" if delta else None,
        )
    if page.delta is not None:
        body.deltaLink = _link("/delta/work-interruptions", {"deltaToken": page.delta})
    return body


@get(
    "/delta/work-interruptions",
    guards=[requires(Scope.WORK_INTERRUPTIONS_READ)],
    **documented("Changes since the delta token", 409, 410),
)
async def delta_work_interruptions(
    request: Request[Any, Any, Any],
    token: Annotated[str, QueryParameter(name="deltaToken", description="Token from a deltaLink")],
    references: References = None,
) -> DeltaPage:
    """The changes since ``deltaToken``; always ends with a fresh ``deltaLink`` (or a nextLink)."""
    principal = principal_of(request)
    page = await services_of(request).reads.delta(principal.tenant, token, references=references)
    body = DeltaPage(value=page.value)
    if page.next_token is not None:
        body.nextLink = _link("/delta/work-interruptions", {"deltaToken": page.next_token})
    if page.delta_token is not None:
        body.deltaLink = _link("/delta/work-interruptions", {"deltaToken": page.delta_token})
    return body


@get(
    "/people/{person_id:str}/external-references",
    guards=[requires(Scope.PEOPLE_READ)],
    **documented("The custom references", 404),
)
async def get_person_references(
    person_id: FromPath[str], request: Request[Any, Any, Any]
) -> PersonReferences:
    """A person's custom external references by key."""
    principal = principal_of(request)
    found = await services_of(request).references.get(
        principal.tenant, path_id(person_id, what="Person")
    )
    return PersonReferences(externalReferences=found)


@put(
    "/people/{person_id:str}/external-references/{key:str}",
    guards=[requires(Scope.EXTERNAL_REFERENCES_WRITE)],
    status_code=204,
    request_max_body_size=RECORD_BODY_BYTES,
    responses=errors(404, 409, 413),
)
async def set_person_reference(
    person_id: FromPath[str],
    key: FromPath[str],
    data: JSONBody[ReferenceValueIn],
    request: Request[Any, Any, Any],
) -> None:
    """Set one custom reference (an empty value removes it); 409 when another person has it."""
    principal = principal_of(request)
    await services_of(request).references.set(
        principal.tenant, path_id(person_id, what="Person"), key, data.value
    )


@delete(
    "/people/{person_id:str}/external-references/{key:str}",
    guards=[requires(Scope.EXTERNAL_REFERENCES_WRITE)],
    status_code=204,
    responses=errors(404),
)
async def delete_person_reference(
    person_id: FromPath[str], key: FromPath[str], request: Request[Any, Any, Any]
) -> None:
    """Remove one custom reference."""
    principal = principal_of(request)
    await services_of(request).references.delete(
        principal.tenant, path_id(person_id, what="Person"), key
    )


READ_HANDLERS = [
    list_work_interruptions,
    delta_work_interruptions,
    get_person_references,
    set_person_reference,
    delete_person_reference,
]
