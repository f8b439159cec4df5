"""Org-groups and circles: the source-side writes behind ``person in org-group(...)`` and
``person in circle(...)``, under the people API's scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request, Response, delete, get, put
from litestar.params import FromPath, JSONBody

from workhooks.api.openapi import documented, errors, replaced_or_created
from workhooks.api.paths import API_PREFIX, path_id
from workhooks.api.schemas import CircleIn, OrgGroupIn
from workhooks.api.security import principal_of, requires, services_of
from workhooks.documents import Circle, OrgGroup, circle_document, org_group_document
from workhooks.domain.groups import GroupKind, PersonGroup
from workhooks.domain.scopes import Scope

__all__ = ["GROUP_HANDLERS"]

_PATHS = {GroupKind.ORG_GROUP: "org-groups", GroupKind.CIRCLE: "circles"}
_NAMES = {GroupKind.ORG_GROUP: "Org-group", GroupKind.CIRCLE: "Circle"}
G = TypeVar("G", OrgGroup, Circle)


async def _put(
    request: Request[Any, Any, Any], group: PersonGroup, render: Callable[[PersonGroup], G]
) -> Response[G]:
    principal = principal_of(request)
    created = await services_of(request).groups.put(principal.tenant, group)
    headers = {"Location": f"{API_PREFIX}/{_PATHS[group.kind]}/{group.id}"} if created else {}
    return Response(render(group), status_code=201 if created else 200, headers=headers)


async def _get(
    request: Request[Any, Any, Any],
    kind: GroupKind,
    text: str,
    render: Callable[[PersonGroup], G],
) -> G:
    principal = principal_of(request)
    group_id = path_id(text, what=_NAMES[kind])
    return render(await services_of(request).groups.get(principal.tenant, kind, group_id))


async def _delete(request: Request[Any, Any, Any], kind: GroupKind, text: str) -> None:
    principal = principal_of(request)
    group_id = path_id(text, what=_NAMES[kind])
    await services_of(request).groups.delete(principal.tenant, kind, group_id)


@put(
    "/org-groups/{group_id:str}",
    guards=[requires(Scope.PEOPLE_WRITE)],
    **replaced_or_created(OrgGroup, "The stored org-group"),
)
async def put_org_group(
    group_id: FromPath[str], data: JSONBody[OrgGroupIn], request: Request[Any, Any, Any]
) -> Response[OrgGroup]:
    """Create or replace an org-group with its parent and people: 201 created, 200 replaced.

    The parent must exist and may not lie below the group (400).
    """
    return await _put(request, data.group(path_id(group_id, what="Org-group")), org_group_document)


@get(
    "/org-groups/{group_id:str}",
    guards=[requires(Scope.PEOPLE_READ)],
    **documented("The org-group", 404),
)
async def get_org_group(group_id: FromPath[str], request: Request[Any, Any, Any]) -> OrgGroup:
    """One org-group with its parent and people."""
    return await _get(request, GroupKind.ORG_GROUP, group_id, org_group_document)


@delete(
    "/org-groups/{group_id:str}",
    status_code=204,
    guards=[requires(Scope.PEOPLE_WRITE)],
    responses=errors(404, 409),
)
async def delete_org_group(group_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
    """Delete an org-group; 409 while org-groups are below it."""
    await _delete(request, GroupKind.ORG_GROUP, group_id)


@put(
    "/circles/{group_id:str}",
    guards=[requires(Scope.PEOPLE_WRITE)],
    **replaced_or_created(Circle, "The stored circle"),
)
async def put_circle(
    group_id: FromPath[str], data: JSONBody[CircleIn], request: Request[Any, Any, Any]
) -> Response[Circle]:
    """Create or replace a circle with its people: 201 created, 200 replaced."""
    return await _put(request, data.group(path_id(group_id, what="Circle")), circle_document)


@get(
    "/circles/{group_id:str}",
    guards=[requires(Scope.PEOPLE_READ)],
    **documented("The circle", 404),
)
async def get_circle(group_id: FromPath[str], request: Request[Any, Any, Any]) -> Circle:
    """One circle with its people."""
    return await _get(request, GroupKind.CIRCLE, group_id, circle_document)


@delete(
    "/circles/{group_id:str}",
    status_code=204,
    guards=[requires(Scope.PEOPLE_WRITE)],
    responses=errors(404),
)
async def delete_circle(group_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
    """Delete a circle."""
    await _delete(request, GroupKind.CIRCLE, group_id)


GROUP_HANDLERS = [
    put_org_group,
    get_org_group,
    delete_org_group,
    put_circle,
    get_circle,
    delete_circle,
]
