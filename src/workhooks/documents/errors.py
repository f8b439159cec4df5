"""Error documents: the Protime error body and the body of a model validation failure."""

from __future__ import annotations

from collections.abc import Sequence

from msgspec import UNSET, UnsetType

from workhooks.documents.base import Document

__all__ = ["ErrorBody", "ErrorDetail", "ValidationErrorBody", "ValidationErrorItem", "error_body"]


class ErrorDetail(Document):
    """What went wrong: a code, a message, and for rule violations the ``reasons``."""

    code: str
    message: str
    reasons: list[str] | UnsetType = UNSET


class ErrorBody(Document):
    """A Protime error body."""

    error: ErrorDetail


class ValidationErrorItem(Document):
    """One field of a body that does not fit the model (``field`` is empty for the whole body)."""

    field: str
    message: str


class ValidationErrorBody(Document):
    """A body that failed model validation."""

    validationErrors: list[ValidationErrorItem]


def error_body(code: str, message: str, reasons: Sequence[str] = ()) -> ErrorBody:
    """A Protime error body; ``reasons`` is left out when there are none."""
    if reasons:
        return ErrorBody(error=ErrorDetail(code=code, message=message, reasons=list(reasons)))
    return ErrorBody(error=ErrorDetail(code=code, message=message))
