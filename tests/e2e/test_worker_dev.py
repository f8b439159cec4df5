"""``workhooks worker`` takes the same development switch as ``serve``.

Without ``--dev`` it refuses a loopback destination and says so once in its log; with it,
the same webhook's events arrive.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import AGENT, spawn, start_server, stop_server, workhooks_env
from workhooks.testing import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

API = "/connector/protimeapi/api/v1"
SCOPES = (
    "connector-protimeapi-webhooks.read connector-protimeapi-webhooks.write "
    "connector-protimeapi-work-interruptions.write connector-protimeapi-people.write"
)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _worker_log(folder: Path) -> str:
    (log,) = folder.glob("worker-*.log")
    return log.read_text()


async def _attempts(http: httpx.AsyncClient, webhook_id: str) -> int:
    found = (await http.get(f"{API}/webhooks/{webhook_id}/deliveries")).json()["value"]
    return int(found[0]["attempts"]) if found else 0


async def test_worker_refuses_loopback_without_dev_and_delivers_with_it(tmp_path: Path) -> None:
    """A worker without --dev logs the refused destination once over several tries; a worker
    with --dev delivers the same webhook's event."""
    server = start_server(tmp_path, worker=False)
    receiver = Receiver()
    await receiver.start()
    env = workhooks_env(WORKHOOKS_RETRY_SCHEDULE=",".join(["0.2"] * 100))
    worker_args = ["worker", "--database-url", server.database_url]
    try:
        headers = {"Authorization": f"Bearer {server.token('acme', SCOPES)}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            hook = {"destinationUrl": receiver.url, "collectionName": "work-interruptions"}
            created = await http.post(f"{API}/webhooks", json=hook)
            assert created.status_code == 201
            webhook_id = created.json()["id"]
            assert (await http.put(f"{API}/people/7", json={})).status_code == 201
            record = {
                "person": {"id": 7},
                "date": "2026-03-02",
                "durationInMinutes": 15,
                "startTimeInMinutes": 600,
                "endTimeInMinutes": 615,
            }
            assert (await http.put(f"{API}/work-interruptions/1", json=record)).status_code == 201
            strict = spawn(tmp_path, worker_args, env=env)
            try:
                async with asyncio.timeout(60):
                    while await _attempts(http, webhook_id) < 3:  # noqa: ASYNC110 - polls the API
                        await asyncio.sleep(0.1)
            finally:
                _stop(strict)
            text = _worker_log(tmp_path)
            assert text.count("refused") == 1, text
            assert "WORKHOOKS_DEV" in text
            assert receiver.requests == []
            relaxed = spawn(tmp_path, [*worker_args, "--dev"], env=env)
            try:
                (delivery,) = await receiver.wait_for(1)
            finally:
                _stop(relaxed)
            assert delivery.headers["webhook-id"]
    finally:
        await receiver.stop()
        stop_server(server)
