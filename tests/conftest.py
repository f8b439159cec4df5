"""Shared fixtures: the app in-process behind httpx, with a fake clock and a scripted sender."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from tests.app_pool import APPS
from tests.postgres import postgres_database, reset_database
from workhooks.bootstrap import Runtime, runtime
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.testing import TEST_MASTER_KEY, FakeClock, ScriptedSender

# Shared test helpers live in plain modules; pytest rewrites their asserts like a test's.
pytest.register_assert_rewrite(
    "tests.integration.errors_helpers",
    "tests.integration.store_helpers",
    "tests.unit.filter_helpers",
    "tests.unit.worker_helpers",
)

__all__ = ["API", "USER_AGENT", "Api", "ApiFactory", "open_api", "postgres_database"]


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


# Hypothesis profiles: the example counts are Hypothesis' own (or each test's); only the
# timing checks differ. On a shared machine a slow moment is not a failure: "dev" allows an
# example a whole second, and "ci" (chosen when CI=true) neither times examples nor fails
# a test on slow data generation, and keeps no example database on a throw-away runner.
# HYPOTHESIS_PROFILE picks one by name.
settings.register_profile("dev", deadline=1000)
settings.register_profile(
    "ci",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if _under_ci() else "dev"))

API = "/connector/protimeapi/api/v1"
USER_AGENT = "WorkhooksTests/1.0 (Acme)"


@dataclass
class Api:
    """The app of one runtime, an httpx client on it, and the fakes it was built with."""

    rt: Runtime
    http: httpx.AsyncClient
    clock: FakeClock
    sender: ScriptedSender

    async def credentials(self, tenant: str, scopes: Iterable[Scope]) -> tuple[str, str]:
        """Register a client of ``tenant`` with ``scopes``; return its id and secret."""
        new = await self.rt.services.clients.create(tenant, frozenset(scopes))
        return new.client.id, new.secret

    async def token_response(
        self, tenant: str, client_id: str, secret: str, *, scope: str | None = None
    ) -> httpx.Response:
        """POST the client credentials form to the tenant's token endpoint."""
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope is not None:
            form["scope"] = scope
        return await self.http.post(f"/tenants/{tenant}/connect/token", data=form)

    async def token(self, tenant: str = "acme", scopes: Iterable[Scope] = tuple(Scope)) -> str:
        """Return an access token of a new client of ``tenant`` holding ``scopes``."""
        client_id, secret = await self.credentials(tenant, scopes)
        response = await self.token_response(tenant, client_id, secret)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def headers(
        self, tenant: str = "acme", scopes: Iterable[Scope] = tuple(Scope)
    ) -> dict[str, str]:
        """Headers of an authorized API request: ``User-Agent`` and a fresh bearer token."""
        return {
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {await self.token(tenant, scopes)}",
        }

    async def put_person(self, headers: dict[str, str], person_id: int) -> None:
        """Create a person (the parent every work interruption needs)."""
        response = await self.http.put(f"{API}/people/{person_id}", json={}, headers=headers)
        assert response.status_code in (200, 201), response.text


def work_interruption(person_id: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid work interruption body, with ``overrides`` applied."""
    body: dict[str, Any] = {
        "person": {"id": person_id},
        "date": "2024-03-04",
        "durationInMinutes": 30,
        "startTimeInMinutes": 600,
        "endTimeInMinutes": 630,
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="session", autouse=True)
def _apps_built_once() -> Iterator[None]:
    """Runtimes of this session reuse built apps (tests/app_pool.py); each gets fresh state."""
    with APPS.installed():
        yield


@contextlib.asynccontextmanager
async def open_api(settings: Settings) -> AsyncIterator[Api]:
    """Start a runtime for ``settings`` with fakes and an in-process httpx client on its app.

    The runtime (store, services, worker, fakes) is new; its app is lent by ``APPS`` and given
    back when the runtime has closed.
    """
    clock = FakeClock()
    sender = ScriptedSender()
    rt: Runtime | None = None
    try:
        async with runtime(settings, clock=clock, sender=sender) as rt:
            assert APPS.lent(rt.app), "the composition root no longer builds apps by create_app"
            # httpx types ASGI apps with plain dicts; Litestar's typed scopes are compatible.
            app: Any = rt.app
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Api(rt=rt, http=http, clock=clock, sender=sender)
    finally:
        if rt is not None:
            APPS.give_back(rt.app)


ApiFactory = Callable[[Settings], Awaitable[Api]]


@pytest.fixture
async def api_factory() -> AsyncIterator[ApiFactory]:
    """Open apps for given settings; all are closed when the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(settings: Settings) -> Api:
            return await stack.enter_async_context(open_api(settings))

        yield make


@pytest.fixture(params=["memory", "postgres"])
async def api(request: pytest.FixtureRequest, api_factory: ApiFactory) -> Api:
    """An app on an in-memory store and on PostgreSQL, production rules (``dev=False``)."""
    if request.param == "memory":
        return await api_factory(Settings.of(database_url="memory://", dev=False))
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return await api_factory(Settings.of(database_url=url, dev=False, master_key=TEST_MASTER_KEY))


def pytest_report_header(config: pytest.Config) -> str:
    """Say plainly, at the top of every run, whether the PostgreSQL tier will run."""
    from tests.postgres import ADMIN_URL, reachable

    problem = reachable()
    if problem is None:
        return f"PostgreSQL tier: on ({ADMIN_URL})"
    mandatory = " -- mandatory under CI, so those tests will FAIL" if _under_ci() else ""
    return f"PostgreSQL tier: SKIPPED, no server at {ADMIN_URL} ({problem}){mandatory}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the reliability figures the scenarios of this run recorded."""
    from tests.reliability import FIGURES

    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for scenario, figures in FIGURES:
        shown = ", ".join(f"{name}={value}" for name, value in figures.items())
        terminalreporter.write_line(f"{scenario}: {shown}")
