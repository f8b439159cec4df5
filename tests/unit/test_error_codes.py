"""The ``code`` of every Protime error body is PascalCase, like Protime's ``BadRequest``."""

from __future__ import annotations

import re

from workhooks import errors
from workhooks.api import errors as api_errors

PASCAL_CASE = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)*")


def _subclasses(cls: type[errors.WorkhooksError]) -> list[type[errors.WorkhooksError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_error_code_is_pascal_case() -> None:
    """No error class, and no framework status, puts a snake_case or lower-case ``code`` in the
    Protime error wrapper (``invalid_client`` belongs to the token endpoint's OAuth body)."""
    classes = _subclasses(errors.WorkhooksError)
    assert errors.InvalidClientError in classes
    codes = {cls.code for cls in classes} | set(api_errors._HTTP_CODES.values())
    assert all(PASCAL_CASE.fullmatch(code) for code in codes), sorted(codes)


def test_token_endpoint_errors_have_rfc_6749_names() -> None:
    """The errors of the token endpoint map to the RFC 6749 ``error`` values."""
    assert {
        errors.InvalidClientError: "invalid_client",
        errors.InvalidScopeError: "invalid_scope",
        errors.UnsupportedGrantTypeError: "unsupported_grant_type",
        errors.InvalidRequestError: "invalid_request",
    } == api_errors.OAUTH_ERROR_OF
