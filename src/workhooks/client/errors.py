"""Protime error bodies as typed exceptions: one ``ProtimeError`` base, one subclass per status.

A Protime error body is ``{"error": {"code", "message", "reasons"?}}``; a body that failed model
validation is ``{"validationErrors": [{"field", "message"}]}``; the token endpoint answers
OAuth 2.0 errors ``{"error": "invalid_client", "error_description"}``. All become a ``ProtimeError``
carrying the status, code, message, reasons and validation errors, whatever the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "NotFound",
    "ProtimeError",
    "ServerError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnexpectedResponse",
    "UriTooLong",
    "ValidationIssue",
    "error_from_response",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationIssue:
    """One entry of a ``validationErrors`` body: the field (``""`` for the whole body) and why."""

    field: str
    message: str


class ProtimeError(Exception):
    """The server answered an error; ``status``, ``code``, ``message`` and details say which."""

    def __init__(
        self,
        status: int,
        *,
        code: str,
        message: str,
        reasons: tuple[str, ...] = (),
        validation_errors: tuple[ValidationIssue, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.reasons = reasons
        self.validation_errors = validation_errors
        self.headers: dict[str, str] = dict(headers or {})
        details = [*reasons, *(f"{v.field or 'body'}: {v.message}" for v in validation_errors)]
        suffix = f" ({'; '.join(details)})" if details else ""
        super().__init__(f"{status} {code}: {message}{suffix}")


class BadRequest(ProtimeError):
    """400: a rule is broken (bad filter, bad destination...) or the body does not fit."""


class Unauthorized(ProtimeError):
    """401: no token, an invalid or expired token, missing scope, or wrong client credentials."""

    @property
    def insufficient_scope(self) -> bool:
        """Whether the token was valid but lacked the scope (a new token will not help)."""
        return "insufficient_scope" in self.headers.get("www-authenticate", "")


class Forbidden(ProtimeError):
    """403: the caller may not do this."""


class NotFound(ProtimeError):
    """404: unknown id (or another tenant's), or unknown route."""


class Conflict(ProtimeError):
    """409: a bad or stale continuation token, or a rule about other records (e.g. uniqueness)."""


class Gone(ProtimeError):
    """410: an expired delta token; do a full sync again."""


class UriTooLong(ProtimeError):
    """414: the URI is longer than the server accepts (4,096 characters for Protime)."""


class TooManyRequests(ProtimeError):
    """429: slow down; raised only once the client's polite retries are used up."""


class ServiceUnavailable(ProtimeError):
    """503: raised only once the client's polite retries are used up."""


class ServerError(ProtimeError):
    """Any other 5xx."""


class UnexpectedResponse(ProtimeError):
    """A success status whose body is not what the contract describes."""


_BY_STATUS: dict[int, type[ProtimeError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    414: UriTooLong,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def _fields(body: Any) -> tuple[str, str, tuple[str, ...], tuple[ValidationIssue, ...]]:
    """Read code, message, reasons and validation errors from whatever JSON came back."""
    if not isinstance(body, dict):
        return "", "", (), ()
    issues = body.get("validationErrors")
    if isinstance(issues, list):
        found = tuple(
            ValidationIssue(field=str(i.get("field", "")), message=str(i.get("message", "")))
            for i in issues
            if isinstance(i, dict)
        )
        return "ValidationFailed", "The request body is not valid", (), found
    error = body.get("error")
    if isinstance(error, str):  # the token endpoint's OAuth 2.0 error (RFC 6749)
        return error, str(body.get("error_description", "")), (), ()
    if not isinstance(error, dict):
        return "", "", (), ()
    reasons = error.get("reasons")
    return (
        str(error.get("code", "")),
        str(error.get("message", "")),
        tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
        (),
    )


def error_from_response(status: int, content: bytes, headers: Mapping[str, str]) -> ProtimeError:
    """Build the typed exception for an error answer (any body, even not JSON)."""
    try:
        body = msgspec.json.decode(content) if content else None
    except msgspec.DecodeError:
        body = None
    code, message, reasons, issues = _fields(body)
    if not message:
        message = content[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ProtimeError)
    lowered = {k.lower(): v for k, v in headers.items()}
    return cls(
        status,
        code=code or f"HTTP{status}",
        message=message,
        reasons=reasons,
        validation_errors=issues,
        headers=lowered,
    )
