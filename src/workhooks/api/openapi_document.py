"""What the generated OpenAPI document cannot say by itself, added once when the app is built.

Litestar derives paths, parameters, schemas and (from docstrings) descriptions from the
handlers; ``finish`` then adds, in one pass: a tag per path, the OAuth 2.0 client-credentials
scheme with each operation's scope (``security: []`` on the public token and discovery
routes), the token endpoint's form body, ``format``s by property name, an example for every
schema, ``Retry-After`` on 429 and 503, and the outgoing change event under ``webhooks``.
The same document is served at ``/openapi.json`` and behind ``/docs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    OAuthFlow,
    OAuthFlows,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
    Tag,
)
from litestar.routes import HTTPRoute
from litestar.types import Method

from workhooks.api.openapi_examples import EVENT_EXAMPLE, EXAMPLES
from workhooks.api.paths import API_PREFIX
from workhooks.api.security import ScopeGuard
from workhooks.domain.scopes import Scope

__all__ = ["SECURITY_SCHEMES", "TAGS", "finish", "operation_id"]

TOKEN_PATH = "/tenants/{tenant}/connect/token"  # noqa: S105 - a route, not a secret
_SCHEME = "oauth2"
_SCOPE_TEXT = {
    Scope.WEBHOOKS_READ: "List and read webhooks and their delivery history",
    Scope.WEBHOOKS_WRITE: "Create and delete webhooks",
    Scope.WORK_INTERRUPTIONS_READ: "Read work interruptions and their delta",
    Scope.WORK_INTERRUPTIONS_WRITE: "Write work interruptions (a workhooks extension)",
    Scope.PEOPLE_READ: "Read people, their external references, org-groups and circles",
    Scope.PEOPLE_WRITE: "Write people, org-groups and circles (a workhooks extension)",
    Scope.EXTERNAL_REFERENCES_WRITE: "Set and remove a person's external references",
    Scope.OPERATOR: "Operate workhooks across tenants: API clients (never part of 'all')",
}
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    _SCHEME: SecurityScheme(
        type="oauth2",
        description=(
            "Client credentials, form-encoded, at the tenant's token endpoint "
            "(on Protime: https://authentication.<environment>/tenants/<tenant>/connect/token)."
        ),
        flows=OAuthFlows(
            client_credentials=OAuthFlow(
                token_url="/tenants/demo/connect/token",  # noqa: S106 - the demo tenant's
                scopes={scope.value: text for scope, text in _SCOPE_TEXT.items()},
            )
        ),
    )
}
TAGS = [
    Tag(name="auth", description="Tokens (OAuth 2.0 client credentials), discovery and keys"),
    Tag(name="work-interruptions", description="The collection, its initial sync and delta"),
    Tag(name="people", description="People, their external references, org-groups and circles"),
    Tag(name="webhooks", description="Subscriptions and their delivery history"),
]
# Operation ids are the handler names in camelCase, except where a name says too little.
_OPERATION_IDS = {
    "token": "issueToken",
    "discovery": "getOpenidConfiguration",
    "jwks": "getJwks",
    "delta_work_interruptions": "getDelta",
}
# One rule per property name, wherever it appears.
_FORMATS = {
    "date": OpenAPIFormat.DATE,
    "validUntil": OpenAPIFormat.DATE_TIME,
    "firstAttemptAt": OpenAPIFormat.DATE_TIME,
    "lastAttemptAt": OpenAPIFormat.DATE_TIME,
    "nextAttemptAt": OpenAPIFormat.DATE_TIME,
    "attemptedAt": OpenAPIFormat.DATE_TIME,
    "destinationUrl": OpenAPIFormat.URI,
    "nextLink": OpenAPIFormat.URI_REFERENCE,
    "deltaLink": OpenAPIFormat.URI_REFERENCE,
}
_UUID_IDS = {"Webhook", "CreatedWebhook"}
_METHODS = ("get", "put", "post", "delete", "patch")
_RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
    description="Seconds to wait before trying again",
)


def operation_id(handler: HTTPRouteHandler, _method: Method, _path: list[Any]) -> str:
    """A short operationId: the handler name in camelCase (``list_webhooks``: ``listWebhooks``)."""
    name = handler.handler_name
    if name in _OPERATION_IDS:
        return _OPERATION_IDS[name]
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _tag(path: str) -> str:
    if not path.startswith(API_PREFIX):
        return "auth"
    if any(part in path for part in ("/people", "/org-groups", "/circles")):
        return "people"
    if "/webhooks" in path:
        return "webhooks"
    return "work-interruptions"


def _operations(item: PathItem) -> Iterator[tuple[str, Operation]]:
    for method in _METHODS:
        operation = getattr(item, method)
        if operation is not None:
            yield method, operation


def _scopes(app: Litestar) -> dict[tuple[str, str], str]:
    """The scope each operation's guard requires, by ``(path, method)``."""
    found: dict[tuple[str, str], str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for guard in handler.resolve_guards():
                if isinstance(guard, ScopeGuard):
                    for method in handler.http_methods:
                        found[(route.path_format, method.lower())] = guard.scope.value
    return found


def _token_form() -> RequestBody:
    text = (
        "One field each; client_id and client_secret identify the client, "
        "unless it authenticates by HTTP Basic (then no client_secret here)"
    )
    schema = Schema(
        type=OpenAPIType.OBJECT,
        required=["grant_type"],
        properties={
            "grant_type": Schema(type=OpenAPIType.STRING, enum=["client_credentials"]),
            "client_id": Schema(type=OpenAPIType.STRING),
            "client_secret": Schema(type=OpenAPIType.STRING),
            "scope": Schema(
                type=OpenAPIType.STRING,
                description="Space-separated scopes; absent: every scope the client holds",
            ),
        },
        description=text,
    )
    return RequestBody(
        required=True,
        content={
            "application/x-www-form-urlencoded": OpenAPIMediaType(
                schema=schema, example=EXAMPLES["TokenForm"]
            )
        },
    )


def _event_operation() -> PathItem:
    """The POST every webhook receives: one change event, signed per Standard Webhooks v1."""
    headers = {
        "webhook-id": "The event's id: the same on every retry of this change to this webhook",
        "webhook-timestamp": "Unix seconds when this attempt was signed",
        "webhook-signature": 'v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">',
    }
    return PathItem(
        post=Operation(
            operation_id="workInterruptionChanged",
            tags=["webhooks"],
            summary="A work interruption changed",
            description=(
                "Sent to each enabled webhook of the tenant, in change order per record, at least "
                "once. Verify the signature with the webhook's key before trusting the body; apply "
                "an event only when its changeVersion is newer than the one you hold."
            ),
            parameters=[
                Parameter(
                    name=name,
                    param_in="header",
                    required=True,
                    schema=Schema(type=OpenAPIType.STRING),
                    description=text,
                )
                for name, text in headers.items()
            ],
            request_body=RequestBody(
                required=True,
                content={
                    "application/json": OpenAPIMediaType(
                        schema=Schema(
                            one_of=[
                                Reference(ref="#/components/schemas/UpsertItem"),
                                Reference(ref="#/components/schemas/DeleteItem"),
                            ]
                        ),
                        example=EVENT_EXAMPLE,
                    )
                },
            ),
            responses={
                "204": OpenAPIResponse(description="Any 2xx acknowledges the event"),
                "410": OpenAPIResponse(description="Gone: the webhook is disabled at once"),
            },
            security=[],
        )
    )


def _set_format(schema: Schema | Reference, value: OpenAPIFormat) -> None:
    if isinstance(schema, Reference):
        return
    if schema.one_of:
        for member in schema.one_of:
            if isinstance(member, Schema) and member.type == OpenAPIType.STRING:
                member.format = value
    elif schema.type == OpenAPIType.STRING:
        schema.format = value


def _single(schema: Schema | Reference) -> Schema | Reference:
    """A ``oneOf`` of one schema (an optional field) is that schema."""
    if isinstance(schema, Schema) and schema.one_of is not None and len(schema.one_of) == 1:
        return schema.one_of[0]
    return schema


def _finish_schemas(components: Components) -> None:
    schemas = components.schemas or {}
    for name, schema in schemas.items():
        properties = schema.properties or {}
        for prop, inner in list(properties.items()):
            inner = properties[prop] = _single(inner)
            if prop in _FORMATS:
                _set_format(inner, _FORMATS[prop])
            elif prop == "id" and name in _UUID_IDS:
                _set_format(inner, OpenAPIFormat.UUID)
        if name in EXAMPLES:
            schema.examples = [EXAMPLES[name]]


def _finish_operation(operation: Operation, scope: str | None) -> None:
    operation.security = [{_SCHEME: [scope]}] if scope else []
    for status, response in (operation.responses or {}).items():
        if not isinstance(response, OpenAPIResponse):
            continue
        if status in ("429", "503"):
            response.headers = {"Retry-After": _RETRY_AFTER}
        elif not response.headers:
            response.headers = None  # a success answer from a return type: no headers to name


def finish(app: Litestar) -> None:
    """Complete ``app``'s OpenAPI document in place (once, before it is first served)."""
    document = app.openapi_schema
    scopes = _scopes(app)
    for path, item in (document.paths or {}).items():
        if not isinstance(item, PathItem):
            continue
        for method, operation in _operations(item):
            operation.tags = [_tag(path)]
            _finish_operation(operation, scopes.get((path, method)))
            if path == TOKEN_PATH and method == "post":
                operation.request_body = _token_form()
    _finish_schemas(document.components)
    document.tags = TAGS
    document.webhooks = {"workInterruptionChanged": _event_operation()}
