"""Schemathesis over ``/openapi.json``: no 5xx, and every answer matches the documented schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.reliability import report
from workhooks.bootstrap import runtime
from workhooks.config import Settings
from workhooks.domain.scopes import Scope

USER_AGENT = "WorkhooksConformance/1.0 (workhooks)"
pytestmark = pytest.mark.reliability
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, str]]:
    """The app on an in-memory store with a person and a record, and a token with every scope."""
    loop = asyncio.new_event_loop()
    context = runtime(Settings.of(database_url="memory://"))
    rt = loop.run_until_complete(context.__aenter__())

    async def prepare() -> str:
        new = await rt.services.clients.create("acme", frozenset(Scope))
        grant = await rt.services.auth.issue_token(
            "acme", client_id=new.client.id, client_secret=new.secret, scope=None, source="test"
        )
        return grant.access_token

    try:
        yield rt.app, loop.run_until_complete(prepare())
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@pytest.fixture(scope="module")
def api_schema(served: tuple[Any, str]) -> Any:
    """The OpenAPI document as the running app serves it."""
    app, _ = served
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


def test_every_answer_matches_the_schema(api_schema: Any, served: tuple[Any, str]) -> None:
    """Authenticated calls never answer 5xx, and each status, type and body is documented.

    (Driven through schemathesis' strategies rather than its pytest plugin, one Hypothesis
    run per operation.)
    """
    _, token = served
    headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
    operations = _operations(api_schema)
    assert len(operations) >= 20
    calls = [0]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any) -> None:
            calls[0] += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
    report(
        "schemathesis over /openapi.json",
        operations=len(operations),
        requests=calls[0],
        server_errors=0,
        schema_violations=0,
    )
