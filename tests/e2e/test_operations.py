"""Operating a scaled-out installation: a worker's probes and metrics on its own port, JSON
logs with a start-up line and webhook state lines, and no secret in any log line."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import (
    AGENT,
    free_port,
    spawn,
    start_server,
    stop_server,
    workhooks_env,
)
from tests.postgres import reset_database
from workhooks.testing import Receiver

pytestmark = pytest.mark.e2e

API = "/connector/protimeapi/api/v1"
DSN_PASSWORD = "Dsn-Passw0rd-never-logged"
METRICS_TOKEN = "metrics-token-never-logged"


def _entries(log: Path) -> list[dict[str, Any]]:
    """Every line of a JSON log, parsed (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


async def _wait_for_event(log: Path, event: str, webhook_id: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(
            e.get("event") == event and e.get("webhook_id") == webhook_id for e in _entries(log)
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event} line for {webhook_id}: {_entries(log)}")


def _with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{DSN_PASSWORD}@{host}"


async def _signing_key(database_url: str) -> bytes:
    conn = await asyncpg.connect(database_url)
    try:
        key: bytes = await conn.fetchval("SELECT private_key FROM signing_keys")
        return key
    finally:
        await conn.close()


async def test_worker_probes_json_logs_state_lines_and_no_secret_logged(
    tmp_path: Path, postgres_database: str
) -> None:
    """An API node and a worker on PostgreSQL (DSN with a password), JSON logs at debug:
    the worker answers /health, /ready and /metrics on its own port; each process logs a
    start-up line; a webhook's first failure, recovery and disabling are logged once each;
    no client secret, token, webhook key, signing key, DSN or metrics token is ever logged."""
    await reset_database(postgres_database)
    dsn = _with_password(postgres_database)
    probe_port = free_port()
    env = workhooks_env(
        WORKHOOKS_LOG_FORMAT="json",
        WORKHOOKS_LOG_LEVEL="debug",
        WORKHOOKS_METRICS_TOKEN=METRICS_TOKEN,
        WORKHOOKS_DEV="1",
        WORKHOOKS_RETRY_SCHEDULE="1,1,1",
        WORKHOOKS_DATABASE_URL=dsn,
    )
    server = start_server(tmp_path, database_url=dsn, worker=False, env=env)
    worker = spawn(tmp_path, ["worker"], env={**env, "WORKHOOKS_WORKER_PORT": str(probe_port)})
    worker_log = _log_of(tmp_path, "worker")
    flaky, gone = Receiver(), Receiver()
    flaky.status, gone.status = 500, 410
    await flaky.start()
    await gone.start()
    probes = f"http://127.0.0.1:{probe_port}"
    try:
        created = json.loads(
            server.cli("clients", "create", "--tenant", "acme", "--scopes", "all", "--json")
        )
        secret = created["client_secret"]
        token = server.token("acme", "all")
        headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            hooks = []
            for receiver in (flaky, gone):
                answer = await http.post(
                    f"{API}/webhooks",
                    json={"destinationUrl": receiver.url, "collectionName": "work-interruptions"},
                )
                hooks.append(answer.json())
            await http.put(f"{API}/people/7", json={})
            record = {
                "person": {"id": 7},
                "date": "2026-03-02",
                "durationInMinutes": 15,
                "startTimeInMinutes": 600,
                "endTimeInMinutes": 615,
            }
            assert (await http.put(f"{API}/work-interruptions/1", json=record)).is_success
            await _wait_for_event(
                worker_log := _log_of(tmp_path, "worker"), "failing", hooks[0]["id"]
            )
            flaky.status = 204
            await _wait_for_event(worker_log, "recovered", hooks[0]["id"])
            await _wait_for_event(worker_log, "disabled", hooks[1]["id"])

        async with httpx.AsyncClient(base_url=probes) as http:
            assert (await http.get("/health")).json() == {"status": "ok"}
            assert (await http.get("/ready")).json() == {"status": "ready"}
            assert (await http.get("/metrics")).status_code == 401
            scraped = await http.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
        assert "workhooks_build_info{" in scraped.text
        assert 'role="worker"' in scraped.text
        assert 'workhooks_deliveries_total{outcome="succeeded"}' in scraped.text
        assert "process_resident_memory_bytes" in scraped.text
        signing_key = await _signing_key(postgres_database)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
        stop_server(server)
        await flaky.stop()
        await gone.stop()

    server_entries, worker_entries = _entries(server.log), _entries(worker_log)
    starts = [e for e in server_entries + worker_entries if "started" in e["message"]]
    assert {(e["role"], e["database"], e["worker"], e["dev"]) for e in starts} == {
        ("serve", "postgresql", False, True),
        ("worker", "postgresql", True, True),
    }
    events = [(e.get("event"), e.get("webhook_id")) for e in worker_entries if e.get("event")]
    assert events.count(("failing", hooks[0]["id"])) == 1
    assert events.count(("recovered", hooks[0]["id"])) == 1
    assert events.count(("disabled", hooks[1]["id"])) == 1
    logged = server.log.read_text() + worker_log.read_text()
    key = hooks[0]["key"]
    secrets = {
        "client secret": secret,
        "access token": token,
        "webhook key": key,
        "webhook key bytes": key.removeprefix("whsec_"),
        "signing key": base64.b64encode(signing_key).decode(),
        "signing key hex": signing_key.hex(),
        "DSN password": DSN_PASSWORD,
        "metrics token": METRICS_TOKEN,
    }
    assert [name for name, value in secrets.items() if value in logged] == []


def _log_of(tmp_path: Path, command: str) -> Path:
    (log,) = tmp_path.glob(f"{command}-*.log")
    return log


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workhooks", *args],
        capture_output=True,
        text=True,
        env=workhooks_env(),
        timeout=60,
        check=False,
    )


def test_migrate_is_idempotent_and_a_newer_schema_stops_every_command(tmp_path: Path) -> None:
    """``workhooks migrate`` applies the migrations once, then reports the schema up to date;
    after a newer release's migration, serve, worker and migrate exit 3 naming both versions."""
    database = f"sqlite:///{tmp_path / 'ops.db'}"
    first = _cli("migrate", "--database-url", database)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    again = _cli("migrate", "--database-url", database)
    assert again.stdout.startswith("schema version ")
    assert again.stdout.strip().endswith("already up to date")
    version = int(again.stdout.split()[2].rstrip(":"))
    with sqlite3.connect(tmp_path / "ops.db") as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'future')", (version + 1,))
    for command in (["migrate"], ["worker"], ["serve", "--port", str(free_port())]):
        refused = _cli(*command, "--database-url", database)
        assert refused.returncode == 3, (command, refused.stderr)
        assert f"schema is at version {version + 1}" in refused.stderr
        assert f"knows versions up to {version}" in refused.stderr
