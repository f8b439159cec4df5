"""The wire models of responses, for the OpenAPI document.

Handlers build their JSON with the domain renderers (the same ones the delivery worker
uses, so an event's ``data`` is exactly what GET returns); these Structs describe those
documents and every error body, so ``/openapi.json`` tells the truth. A test checks each
response against this schema (schemathesis).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET, UnsetType

__all__ = [
    "ERRORS",
    "documented",
    "errors",
    "not_modified",
    "public",
    "replaced_or_created",
    "token_responses",
]


class ErrorDetail(msgspec.Struct):
    """What went wrong: a code, a message, and for rule violations the ``reasons``."""

    code: str
    message: str
    reasons: list[str] | UnsetType = UNSET


class ErrorBody(msgspec.Struct):
    """A Protime error body."""

    error: ErrorDetail


class ValidationErrorItem(msgspec.Struct):
    """One field of a body that does not fit the model (``field`` is empty for the whole body)."""

    field: str
    message: str


class ValidationErrorBody(msgspec.Struct):
    """A body that failed model validation."""

    validationErrors: list[ValidationErrorItem]


class PersonOfRecord(msgspec.Struct):
    """The person of a work interruption; ``externalReferences`` only when asked for."""

    id: int
    externalReferences: dict[str, str] | UnsetType = UNSET


class WorkInterruption(msgspec.Struct):
    """A work interruption (also the ``data`` of an ``InsertOrUpdate`` event)."""

    changeVersion: str
    id: int
    person: PersonOfRecord
    date: str
    durationInMinutes: int
    startTimeInMinutes: int
    endTimeInMinutes: int


class WorkInterruptionPage(msgspec.Struct):
    """A page: follow ``nextLink`` until it is absent; a delta walk ends with ``deltaLink``."""

    value: list[WorkInterruption]
    nextLink: str | UnsetType = UNSET
    deltaLink: str | UnsetType = UNSET


class DeletedRecord(msgspec.Struct):
    """What a ``Delete`` item or event carries."""

    changeVersion: str
    id: int


class UpsertItem(msgspec.Struct, tag_field="changeType", tag="InsertOrUpdate"):
    """A record inserted or updated since the token."""

    data: WorkInterruption


class DeleteItem(msgspec.Struct, tag_field="changeType", tag="Delete"):
    """A record deleted since the token, or moved out of the synced date range."""

    data: DeletedRecord


class DeltaPage(msgspec.Struct):
    """Changes since the delta token; ``nextLink`` when more follow now, else ``deltaLink``."""

    value: list[UpsertItem | DeleteItem]
    nextLink: str | UnsetType = UNSET
    deltaLink: str | UnsetType = UNSET


class Person(msgspec.Struct):
    """A person."""

    changeVersion: str
    id: int
    badgeNumber: str | None
    employeeNumber: str | None


class PersonRef(msgspec.Struct):
    """A person by id."""

    id: int


class OrgGroupRef(msgspec.Struct):
    """An org-group by id."""

    id: int


class OrgGroup(msgspec.Struct):
    """An org-group: ``person in org-group(id)`` selects its people and those of the groups
    below it."""

    id: int
    name: str
    parent: OrgGroupRef | None
    people: list[PersonRef]


class Circle(msgspec.Struct):
    """A circle: ``person in circle(id)`` selects its people."""

    id: int
    name: str
    people: list[PersonRef]


class WorkInterruptionBatch(msgspec.Struct):
    """The records of a batch, as stored."""

    value: list[WorkInterruption]


class PersonBatch(msgspec.Struct):
    """The people of a batch, as stored."""

    value: list[Person]


class PersonReferences(msgspec.Struct):
    """A person's custom external references by key."""

    externalReferences: dict[str, str]


class Webhook(msgspec.Struct):
    """A webhook; never its key."""

    id: str
    validUntil: str
    status: Literal["Enabled", "Disabled"]
    externalReferences: dict[str, list[str]]
    """The references rendered into every event, keys by collection: ``{"people": [...]}``."""
    destinationUrl: str
    collectionName: str


class CreatedWebhook(Webhook):
    """A new webhook with its private ``key``, shown this once."""

    key: str


class WebhookList(msgspec.Struct):
    """The tenant's webhooks that are not deleted."""

    value: list[Webhook]


class Delivery(msgspec.Struct):
    """One event's delivery to one webhook."""

    id: str
    changeVersion: str
    recordId: int
    status: Literal["Succeeded", "Failed"]
    attempts: int
    firstAttemptAt: str
    lastAttemptAt: str
    lastStatusCode: int | None
    lastErrorClass: str | None
    nextAttemptAt: str | None


class DeliveryAttempt(msgspec.Struct):
    """One POST of an event; ``response`` is the start of the answer (or the error):
    256 bytes for a success, up to 64 KiB for the failure that decided a back-off."""

    attemptedAt: str
    succeeded: bool
    statusCode: int | None
    latencyMs: float
    errorClass: str | None
    response: str
    nextAttemptAt: str | None


class DeliveryDetail(Delivery):
    """One delivery with every attempt, oldest first."""

    attemptHistory: list[DeliveryAttempt]


class DeliveryPage(msgspec.Struct):
    """A page of deliveries, newest attempt first."""

    value: list[Delivery]
    nextLink: str | UnsetType = UNSET


class ApiClient(msgspec.Struct):
    """An API client (never its secret); ``revokedAt`` is null while it is live."""

    id: str
    tenant: str
    scopes: list[str]
    createdAt: str
    revokedAt: str | None


class ApiClientList(msgspec.Struct):
    """API clients, by tenant and creation."""

    value: list[ApiClient]


class ApiClientWithSecret(msgspec.Struct):
    """An API client just created or given a new secret: the ``secret`` is shown this once."""

    id: str
    tenant: str
    scopes: list[str]
    createdAt: str
    revokedAt: str | None
    secret: str


class AccessToken(msgspec.Struct):
    """An OAuth 2.0 token answer."""

    access_token: str
    expires_in: int
    token_type: Literal["Bearer"]
    scope: str


class OAuthError(msgspec.Struct):
    """An OAuth 2.0 error answer of the token endpoint (RFC 6749, section 5.2)."""

    error: Literal["invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type"]
    error_description: str


class OpenidConfiguration(msgspec.Struct):
    """The OpenID Connect discovery document of a tenant: where tokens and keys are."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]


class Jwk(msgspec.Struct):
    """One public key that verifies access tokens."""

    kty: str
    kid: str
    alg: str | UnsetType = UNSET
    use: str | UnsetType = UNSET
    crv: str | UnsetType = UNSET
    x: str | UnsetType = UNSET


class Jwks(msgspec.Struct):
    """The public keys of access tokens."""

    keys: list[Jwk]


_ERROR_TEXT = {
    400: "A rule is broken (reasons say which), or the body does not fit the model",
    401: "No valid token, or the token lacks the scope (see WWW-Authenticate)",
    404: "Unknown id in this tenant",
    409: "Conflict: a value already taken, or a bad continuation token",
    410: "The delta token has expired",
    413: "The body is larger than the route takes: 64 KiB for one resource, 4 MiB for a batch",
    414: "The URI is longer than 4,096 characters",
    429: "Too many requests, or too many failed token requests: wait the seconds of Retry-After",
    503: "The store is unavailable for a moment: try again after Retry-After",
}

_ALWAYS = (400, 401, 414, 429, 503)  # what any route may answer


def _error_body(status: int) -> Any:
    """The body of an error answer: a 400 may also be a model validation failure."""
    return ErrorBody | ValidationErrorBody if status == 400 else ErrorBody


ERRORS: dict[int, ResponseSpec] = {
    status: ResponseSpec(
        data_container=_error_body(status),
        description=text,
        generate_examples=False,
    )
    for status, text in _ERROR_TEXT.items()
}


def documented(status: int, model: Any, description: str, *errors: int) -> dict[int, ResponseSpec]:
    """The ``responses`` of a route: its success model and the errors it can answer."""
    success = ResponseSpec(data_container=model, description=description, generate_examples=False)
    chosen = {*_ALWAYS, *errors}
    return {status: success, **{code: ERRORS[code] for code in sorted(chosen)}}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The error responses of a route without a body on success (``204``)."""
    return {code: ERRORS[code] for code in sorted({*_ALWAYS, *codes})}


def not_modified() -> dict[int, ResponseSpec]:
    """A conditional GET: 304 without a body when ``If-None-Match`` names the current ETag."""
    return {
        304: ResponseSpec(
            data_container=None,
            description="Not modified: If-None-Match names the current ETag",
            generate_examples=False,
        )
    }


def replaced_or_created(model: Any, description: str) -> dict[int, ResponseSpec]:
    """An upsert: 200 when it replaced, 201 when it created."""
    return {
        **documented(200, model, f"{description} (replaced)", 404, 413),
        201: ResponseSpec(
            data_container=model, description=f"{description} (created)", generate_examples=False
        ),
    }


def public(model: Any, description: str) -> dict[int, ResponseSpec]:
    """The answers of a public ``GET`` (no token): its document, or a transport-level error."""
    success = ResponseSpec(data_container=model, description=description, generate_examples=False)
    return {200: success, **{code: ERRORS[code] for code in (400, 414, 429, 503)}}


def token_responses() -> dict[int, ResponseSpec]:
    """The token endpoint's answers."""
    return {
        200: ResponseSpec(
            data_container=AccessToken, description="An access token", generate_examples=False
        ),
        400: ResponseSpec(
            data_container=OAuthError,
            description="invalid_request, invalid_scope or unsupported_grant_type",
            generate_examples=False,
        ),
        401: ResponseSpec(
            data_container=OAuthError,
            description="invalid_client: missing, unknown or wrong client credentials",
            generate_examples=False,
        ),
        **{code: ERRORS[code] for code in sorted({*_ALWAYS, 413}) if code not in (400, 401)},
    }
