"""Shared checks of the API error tests: Protime error bodies and a valid webhook."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import API, Api

HOOK = {"destinationUrl": "https://hooks.example.com/in", "collectionName": "work-interruptions"}


def assert_error(
    response: httpx.Response, status: int, *, code: str | None = None, reasons: bool = False
) -> dict[str, Any]:
    """Check ``response`` is ``status`` with a Protime error body; return the ``error`` object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) <= {"code", "message", "reasons"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    if reasons:
        assert error.get("reasons"), error
    if "reasons" in error:
        assert all(isinstance(r, str) and r for r in error["reasons"]), error
    return error


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """Check ``response`` is an RFC 6749 error answer ``{"error", "error_description"}``."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    return body


def assert_validation_errors(response: httpx.Response) -> list[dict[str, str]]:
    """Check ``response`` is a 400 with a ``validationErrors`` list; return the list."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"validationErrors"}, body
    errors = body["validationErrors"]
    assert isinstance(errors, list)
    assert errors
    for item in errors:
        assert set(item) == {"field", "message"}, item
        assert isinstance(item["field"], str)
        assert isinstance(item["message"], str)
        assert item["message"]
    return errors


def reasons_text(error: dict[str, Any]) -> str:
    """All reasons of an error object joined, for substring checks."""
    return " | ".join(error.get("reasons", []))


async def create_webhook(api: Api, headers: dict[str, str]) -> str:
    """Create a valid webhook and return its id."""
    response = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert response.status_code == 201, response.text
    webhook_id: str = response.json()["id"]
    return webhook_id
