"""A database outage: the API answers 503 with a Protime body meanwhile, then recovers alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import API, ApiFactory, work_interruption
from tests.integration.errors_helpers import assert_error
from tests.postgres import TcpProxy, reset_database
from workhooks.config import Settings
from workhooks.testing import TEST_MASTER_KEY


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A running proxy to the PostgreSQL server."""
    running = TcpProxy()
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_api_answers_503_during_an_outage_and_recovers_without_restart(
    api_factory: ApiFactory, postgres_database: str, proxy: TcpProxy
) -> None:
    """While the database is unreachable writes get 503 + Retry-After; afterwards they land."""
    await reset_database(postgres_database)
    api = await api_factory(
        Settings.of(database_url=proxy.url(postgres_database), master_key=TEST_MASTER_KEY)
    )
    headers = await api.headers()
    await api.put_person(headers, 1)

    await proxy.stop()
    during = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(), headers=headers
    )
    assert_error(during, 503, code="ServiceUnavailable")
    assert during.headers["retry-after"] == "1"
    reading = await api.http.get(f"{API}/work-interruptions/1", headers=headers)
    assert_error(reading, 503, code="ServiceUnavailable")

    await proxy.start()
    after = await api.http.put(
        f"{API}/work-interruptions/1", json=work_interruption(), headers=headers
    )
    assert after.status_code == 201, after.text
    stored = await api.http.get(f"{API}/work-interruptions/1", headers=headers)
    assert stored.json() == after.json()
