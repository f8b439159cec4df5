"""Work interruptions and people: reads, and the source-side writes (contract B12)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from workhooks.api.conditional import record_response
from workhooks.api.limits import BATCH_BODY_BYTES, RECORD_BODY_BYTES
from workhooks.api.openapi import documented, errors, replaced_or_created
from workhooks.api.params import References
from workhooks.api.paths import API_PREFIX, path_id
from workhooks.api.schemas import (
    PersonBatchIn,
    PersonIn,
    WorkInterruptionBatchIn,
    WorkInterruptionIn,
)
from workhooks.api.security import principal_of, requires, services_of
from workhooks.documents import (
    Person,
    PersonBatch,
    WorkInterruption,
    WorkInterruptionBatch,
    person_document,
    work_interruption_document,
)
from workhooks.domain.scopes import Scope
from workhooks.errors import InvalidRecordError

__all__ = ["RECORD_HANDLERS"]


def _same_id(path_id: int, body_id: int | None) -> None:
    if body_id is not None and body_id != path_id:
        raise InvalidRecordError(
            "The id in the body differs from the id in the path",
            reasons=(f"id: body says {body_id}, path says {path_id}",),
        )


@get(
    "/work-interruptions/{record_id:str}",
    guards=[requires(Scope.WORK_INTERRUPTIONS_READ)],
    **documented("The work interruption", 404, conditional=True),
)
async def get_work_interruption(
    record_id: FromPath[str], request: Request[Any, Any, Any], references: References = None
) -> Response[WorkInterruption]:
    """One work interruption by id, with ``externalReferences`` when asked for.

    The ``ETag`` comes from the ``changeVersion``; ``If-None-Match`` with it answers 304.
    """
    principal = principal_of(request)
    document = await services_of(request).reads.get(
        principal.tenant,
        path_id(record_id, what="Work interruption"),
        references=references,
    )
    return record_response(request, document)


@put(
    "/work-interruptions/{record_id:str}",
    guards=[requires(Scope.WORK_INTERRUPTIONS_WRITE)],
    request_max_body_size=RECORD_BODY_BYTES,
    **replaced_or_created(WorkInterruption, "The stored work interruption"),
)
async def put_work_interruption(
    record_id: FromPath[str], data: JSONBody[WorkInterruptionIn], request: Request[Any, Any, Any]
) -> Response[WorkInterruption]:
    """Create or replace a work interruption: 201 when created, 200 when replaced."""
    principal = principal_of(request)
    rid = path_id(record_id, what="Work interruption")
    _same_id(rid, data.id)
    (written,) = await services_of(request).records.put_work_interruptions(
        principal.tenant, [data.draft(rid)]
    )
    return record_response(
        request,
        work_interruption_document(written.record),
        status_code=201 if written.created else 200,
        location=f"{API_PREFIX}/work-interruptions/{rid}" if written.created else None,
    )


@post(
    "/work-interruptions/batch",
    status_code=200,
    guards=[requires(Scope.WORK_INTERRUPTIONS_WRITE)],
    request_max_body_size=BATCH_BODY_BYTES,
    **documented("The stored records", 413),
)
async def put_work_interruptions_batch(
    data: JSONBody[WorkInterruptionBatchIn], request: Request[Any, Any, Any]
) -> WorkInterruptionBatch:
    """Upsert up to 1,000 work interruptions atomically (bulk loads)."""
    principal = principal_of(request)
    drafts = [item.draft() for item in data.value]
    written = await services_of(request).records.put_work_interruptions(principal.tenant, drafts)
    return WorkInterruptionBatch(value=[work_interruption_document(w.record) for w in written])


@delete(
    "/work-interruptions/{record_id:str}",
    status_code=204,
    guards=[requires(Scope.WORK_INTERRUPTIONS_WRITE)],
    responses=errors(404),
)
async def delete_work_interruption(
    record_id: FromPath[str], request: Request[Any, Any, Any]
) -> None:
    """Delete a work interruption; subscribers receive a ``Delete`` event."""
    principal = principal_of(request)
    await services_of(request).records.delete_work_interruption(
        principal.tenant, path_id(record_id, what="Work interruption")
    )


@get(
    "/people/{person_id:str}",
    guards=[requires(Scope.PEOPLE_READ)],
    **documented("The person", 404, conditional=True),
)
async def get_person(person_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Person]:
    """One person by id; ``ETag`` from its ``changeVersion``, ``If-None-Match`` -> 304."""
    principal = principal_of(request)
    person = await services_of(request).records.get_person(
        principal.tenant, path_id(person_id, what="Person")
    )
    return record_response(request, person_document(person))


@put(
    "/people/{person_id:str}",
    guards=[requires(Scope.PEOPLE_WRITE)],
    request_max_body_size=RECORD_BODY_BYTES,
    **replaced_or_created(Person, "The stored person"),
)
async def put_person(
    person_id: FromPath[str], data: JSONBody[PersonIn], request: Request[Any, Any, Any]
) -> Response[Person]:
    """Create or replace a person: 201 when created, 200 when replaced."""
    principal = principal_of(request)
    pid = path_id(person_id, what="Person")
    _same_id(pid, data.id)
    (written,) = await services_of(request).records.put_people(principal.tenant, [data.draft(pid)])
    return record_response(
        request,
        person_document(written.record),
        status_code=201 if written.created else 200,
        location=f"{API_PREFIX}/people/{pid}" if written.created else None,
    )


@post(
    "/people/batch",
    status_code=200,
    guards=[requires(Scope.PEOPLE_WRITE)],
    request_max_body_size=BATCH_BODY_BYTES,
    **documented("The stored people", 413),
)
async def put_people_batch(
    data: JSONBody[PersonBatchIn], request: Request[Any, Any, Any]
) -> PersonBatch:
    """Upsert up to 1,000 people atomically."""
    principal = principal_of(request)
    drafts = [item.draft() for item in data.value]
    written = await services_of(request).records.put_people(principal.tenant, drafts)
    return PersonBatch(value=[person_document(w.record) for w in written])


@delete(
    "/people/{person_id:str}",
    status_code=204,
    guards=[requires(Scope.PEOPLE_WRITE)],
    responses=errors(404, 409),
)
async def delete_person(person_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
    """Delete a person that no work interruption refers to any more."""
    principal = principal_of(request)
    await services_of(request).records.delete_person(
        principal.tenant, path_id(person_id, what="Person")
    )


RECORD_HANDLERS = [
    get_work_interruption,
    put_work_interruption,
    put_work_interruptions_batch,
    delete_work_interruption,
    get_person,
    put_person,
    put_people_batch,
    delete_person,
]
