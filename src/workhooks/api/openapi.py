"""The answers of each route, for the OpenAPI document.

A handler returns a document of ``workhooks.documents`` and is annotated with its class, so
Litestar generates the success schema from the very Struct that renders the answer; these
helpers add what a return type cannot say: the success description, every error answer
(with its Protime body), 304 for conditional reads, and the 201 of an upsert. A test checks
each answer against this schema (schemathesis).
"""

from __future__ import annotations

from typing import Any

from litestar.openapi.datastructures import ResponseSpec

from workhooks.documents import ErrorBody, OAuthError, ValidationErrorBody

__all__ = [
    "ERRORS",
    "documented",
    "errors",
    "public",
    "replaced_or_created",
    "token_responses",
]


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


def _spec(model: Any, description: str) -> ResponseSpec:
    return ResponseSpec(data_container=model, description=description, generate_examples=False)


ERRORS: dict[int, ResponseSpec] = {
    status: _spec(_error_body(status), text) for status, text in _ERROR_TEXT.items()
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The error answers of a route: those any route may give, and ``codes``."""
    return {code: ERRORS[code] for code in sorted({*_ALWAYS, *codes})}


_NOT_MODIFIED = _spec(None, "Not modified: If-None-Match names the current ETag")


def documented(description: str, *codes: int, conditional: bool = False) -> dict[str, Any]:
    """Route arguments: the success answer's description (its schema is the handler's return
    type) and its error answers; ``conditional`` adds 304 for ``If-None-Match``."""
    responses = errors(*codes)
    if conditional:
        responses[304] = _NOT_MODIFIED
    return {"response_description": description, "responses": responses}


def replaced_or_created(model: Any, description: str) -> dict[str, Any]:
    """Route arguments of an upsert: 200 when it replaced, 201 (the same ``model``) when it
    created."""
    arguments = documented(f"{description} (replaced)", 404, 413)
    arguments["responses"][201] = _spec(model, f"{description} (created)")
    return arguments


def public(description: str) -> dict[str, Any]:
    """Route arguments of a public ``GET`` (no token): its document, or a transport error."""
    return {
        "response_description": description,
        "responses": {code: ERRORS[code] for code in (400, 414, 429, 503)},
    }


def token_responses() -> dict[str, Any]:
    """Route arguments of the token endpoint: a token, or an OAuth 2.0 error."""
    return {
        "response_description": "An access token",
        "responses": {
            400: _spec(OAuthError, "invalid_request, invalid_scope or unsupported_grant_type"),
            401: _spec(OAuthError, "invalid_client: missing, unknown or wrong client credentials"),
            **{code: ERRORS[code] for code in sorted({*_ALWAYS, 413}) if code not in (400, 401)},
        },
    }
