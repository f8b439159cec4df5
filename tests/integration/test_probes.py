"""``/health``, ``/ready`` and the process metrics of the API; readiness follows the database
and the delivery worker's lease renewals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.postgres import TcpProxy, reset_database
from workhooks import __version__
from workhooks.bootstrap import running_worker
from workhooks.config import Settings
from workhooks.testing import TEST_MASTER_KEY as KEY


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A running proxy to the PostgreSQL server."""
    running = TcpProxy()
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(params=["sqlite", "postgres"])
async def stored_api(
    request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path
) -> Api:
    """An app on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return await api_factory(
            Settings.of(database_url=f"sqlite:///{tmp_path / 'ready.db'}", master_key=KEY)
        )
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return await api_factory(Settings.of(database_url=url, master_key=KEY))


async def test_health_and_ready_answer_while_the_database_answers(stored_api: Api) -> None:
    """With the database up, /health says ok and /ready says ready (200 both)."""
    health = await stored_api.http.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = await stored_api.http.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_ready_turns_503_during_a_database_outage_and_back(
    api_factory: ApiFactory, postgres_database: str, proxy: TcpProxy
) -> None:
    """While PostgreSQL is unreachable /ready answers 503 naming it, /health stays 200; once
    the database is back /ready answers 200 again without a restart."""
    await reset_database(postgres_database)
    api = await api_factory(Settings.of(database_url=proxy.url(postgres_database), master_key=KEY))
    await proxy.stop()
    during = await api.http.get("/ready")
    assert during.status_code == 503
    assert during.json()["status"] == "unavailable"
    assert any("database unreachable" in p for p in during.json()["problems"])
    assert (await api.http.get("/health")).status_code == 200
    await proxy.start()
    after = await api.http.get("/ready")
    assert (after.status_code, after.json()) == (200, {"status": "ready"})


async def test_ready_turns_503_when_the_worker_stops_renewing_leases(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    """A running worker whose last lease renewal is older than a lease makes /ready 503."""
    api = await api_factory(
        Settings.of(
            database_url=f"sqlite:///{tmp_path / 'lease.db'}", lease_seconds=30, master_key=KEY
        )
    )
    async with running_worker(api.rt):
        assert (await api.http.get("/ready")).status_code == 200
        api.clock.advance(31)  # the heartbeat (every 10 s of real time) has not run since
        late = await api.http.get("/ready")
    assert late.status_code == 503
    assert any("leases not renewed" in p for p in late.json()["problems"])


def _samples(text: str) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample.labels)
    return found


async def test_metrics_include_process_and_build_info(api: Api) -> None:
    """/metrics carries the process's CPU and memory and the release it runs."""
    samples = _samples((await api.http.get("/metrics")).text)
    assert "process_cpu_seconds_total" in samples
    assert "process_resident_memory_bytes" in samples
    (build,) = samples["workhooks_build_info"]
    assert build["version"] == __version__
    assert build["role"] == "serve"


async def test_per_webhook_series_can_be_turned_off(api_factory: ApiFactory) -> None:
    """With WORKHOOKS_METRICS_WEBHOOK_SERIES=0 no series carries a webhook id or tenant,
    while the aggregate gauges still count the failing webhook."""
    api = await api_factory(Settings.of(database_url="memory://", metrics_webhook_series=0))
    headers = await api.headers()
    await api.put_person(headers, 1)
    await api.http.post(
        f"{API}/webhooks",
        json={"destinationUrl": "https://example.com/h", "collectionName": "work-interruptions"},
        headers=headers,
    )
    await api.http.put(
        f"{API}/work-interruptions/1",
        json=work_interruption(),
        headers=headers,
    )
    api.sender.status_for = lambda _url, _body: 500
    await api.rt.worker.run_once()
    samples = _samples((await api.http.get("/metrics")).text)
    labelled = [name for name, labels in samples.items() for one in labels if "webhook_id" in one]
    assert labelled == []
    assert "workhooks_webhooks_failing" in samples
