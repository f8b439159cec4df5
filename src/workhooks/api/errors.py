"""The one table from errors to HTTP status and Protime error body.

Handlers never catch domain errors: they propagate here. Protime bodies are
``{"error": {"code", "message", "reasons"?}}``; body model failures are
``{"validationErrors": [{"field", "message"}]}``; nothing unexpected leaks to the client.
The token endpoint answers OAuth 2.0 errors instead (RFC 6749:
``{"error": "invalid_client", "error_description": ...}``), from the same table of statuses.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from workhooks.documents import (
    OAuthError,
    OAuthErrorName,
    ValidationErrorBody,
    ValidationErrorItem,
    error_body,
)
from workhooks.errors import (
    AuthenticationError,
    ConflictError,
    DeltaTokenExpiredError,
    InsufficientScopeError,
    InvalidClientError,
    InvalidDestinationError,
    InvalidFilterError,
    InvalidRecordError,
    InvalidRequestError,
    InvalidScopeError,
    NotFoundError,
    RateLimitedError,
    StoreUnavailableError,
    TooManyWebhooksError,
    UnknownCollectionError,
    UnsupportedGrantTypeError,
    WorkhooksError,
)

__all__ = ["OAUTH_ERROR_OF", "STATUS_OF", "exception_handlers", "oauth_handlers"]

logger = logging.getLogger("workhooks.api")

STATUS_OF: dict[type[WorkhooksError], int] = {
    InvalidRequestError: 400,
    InvalidRecordError: 400,
    InvalidDestinationError: 400,
    UnknownCollectionError: 400,
    TooManyWebhooksError: 400,
    InvalidFilterError: 400,
    AuthenticationError: 401,
    InvalidClientError: 401,
    NotFoundError: 404,
    ConflictError: 409,
    DeltaTokenExpiredError: 410,
    RateLimitedError: 429,
    StoreUnavailableError: 503,
}

OAUTH_ERROR_OF: dict[type[WorkhooksError], OAuthErrorName] = {
    InvalidClientError: "invalid_client",
    InvalidScopeError: "invalid_scope",
    UnsupportedGrantTypeError: "unsupported_grant_type",
    InvalidRequestError: "invalid_request",
}
"""The RFC 6749 ``error`` of each token-endpoint error (the nearest class in the MRO wins)."""

_HTTP_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Gone",
    413: "PayloadTooLarge",
    414: "UriTooLong",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}


def _status_of(exc: WorkhooksError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF and issubclass(cls, WorkhooksError):
            return STATUS_OF[cls]
    return 400


def _challenge(exc: AuthenticationError) -> str:
    """The ``WWW-Authenticate`` value that tells a client what is wrong with its token."""
    if isinstance(exc, InsufficientScopeError):
        scope = exc.reasons[0] if exc.reasons else ""
        return f'Bearer error="insufficient_scope", scope="{scope}"'
    message = exc.message.replace('"', "'")
    return f'Bearer error="invalid_token", error_description="{message}"'


def handle_workhooks_error(_: Request[Any, Any, Any], exc: WorkhooksError) -> Response[Any]:
    """Answer a deliberate error with its status and Protime body."""
    headers: dict[str, str] = {}
    if isinstance(exc, StoreUnavailableError):
        headers["Retry-After"] = "1"
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = _challenge(exc)
    return Response(
        error_body(exc.code, exc.message, exc.reasons),
        status_code=_status_of(exc),
        headers=headers,
    )


def handle_oauth_error(request: Request[Any, Any, Any], exc: WorkhooksError) -> Response[Any]:
    """Answer a token-endpoint error as RFC 6749 asks: ``{"error", "error_description"}``.

    Errors without an OAuth 2.0 name (an unavailable store, a rate limit) keep their
    Protime body. ``invalid_client`` answers 401 with a ``Basic`` challenge, as a client may
    authenticate with HTTP Basic.
    """
    error = next((OAUTH_ERROR_OF[c] for c in type(exc).__mro__ if c in OAUTH_ERROR_OF), None)
    if error is None:
        return handle_workhooks_error(request, exc)
    description = "; ".join((exc.message, *exc.reasons))
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if isinstance(exc, InvalidClientError):
        headers["WWW-Authenticate"] = 'Basic realm="workhooks", charset="UTF-8"'
    return Response(
        OAuthError(error=error, error_description=description),
        status_code=_status_of(exc),
        headers=headers,
    )


def handle_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Body model failures answer ``validationErrors``; bad query, path or header values answer
    a Protime error body whose reasons name each parameter."""
    items = (
        [item for item in exc.extra if isinstance(item, dict)]
        if isinstance(exc.extra, list)
        else []
    )
    body_items = [item for item in items if item.get("source") in (None, "body")]
    detail = str(exc.detail)
    if not items and detail.startswith("Missing required"):
        # Litestar: "Missing required query parameter 'deltaToken' for path ..."
        name = detail.split("'")[1] if detail.count("'") >= 2 else "parameter"
        return Response(
            error_body("InvalidRequest", detail.split(" for path ")[0], (f"{name}: is required",)),
            status_code=400,
        )
    if items and not body_items:
        reasons = [f"{item.get('key', '')}: {item.get('message', '')}" for item in items]
        return Response(
            error_body("InvalidRequest", "A request parameter is missing or invalid", reasons),
            status_code=400,
        )
    errors = [
        ValidationErrorItem(
            field="" if str(item.get("key", "")) == "data" else str(item.get("key", "")),
            message=str(item.get("message", "")),
        )
        for item in body_items
    ]
    if not errors:
        errors.append(ValidationErrorItem(field="", message=detail))
    return Response(ValidationErrorBody(validationErrors=errors), status_code=400)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Answer framework errors (bad JSON, unknown route, wrong method...) with Protime bodies."""
    status = exc.status_code
    if status >= 500:
        return handle_unexpected(request, exc)
    detail = str(exc.detail)
    # Litestar raises ClientException from SerializationException for any undecodable body
    # (malformed, truncated, numbers out of range): all are body model failures.
    if status == 400 and (
        isinstance(exc.__cause__, SerializationException) or "JSON is malformed" in detail
    ):
        failure = ValidationErrorItem(field="", message=detail)
        return Response(ValidationErrorBody(validationErrors=[failure]), status_code=400)
    return Response(
        error_body(_HTTP_CODES.get(status, "Error"), detail),
        status_code=status,
        headers=exc.headers or {},
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log an unexpected failure and answer 500 without leaking details."""
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body("InternalError", "An unexpected error occurred; it has been logged"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


def oauth_handlers() -> dict[int | type[Exception], Any]:
    """The handler table of the token endpoint, over ``exception_handlers``."""
    return {WorkhooksError: handle_oauth_error}


def exception_handlers() -> dict[int | type[Exception], Any]:
    """The handler table for the Litestar app."""
    return {
        WorkhooksError: handle_workhooks_error,
        ValidationException: handle_validation_error,
        HTTPException: handle_http_exception,
        Exception: handle_unexpected,
    }
