"""A server killed with SIGKILL at random moments loses no committed change."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import AGENT, ServerProcess, start_server, stop_server
from tests.postgres import reset_database
from tests.reliability import report
from workhooks.testing import Receiver

API = "/connector/protimeapi/api/v1"
SCOPES = "all"
RECORD_IDS = range(1, 41)
TAIL = 100
KILLS = 3

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]


async def _until_acknowledged(
    http: httpx.AsyncClient, method: str, url: str, body: dict[str, Any] | None
) -> None:
    """Repeat a write until the (possibly restarting) server answers it; PUT is idempotent."""
    for _ in range(600):
        try:
            answer = await http.request(method, url, json=body)
        except httpx.TransportError:
            await asyncio.sleep(0.05)
            continue
        # A DELETE that committed just before a kill answers 404 when repeated.
        if answer.status_code in (200, 201, 204) or (
            method == "DELETE" and answer.status_code == 404
        ):
            return
        raise AssertionError(f"{method} {url}: {answer.status_code} {answer.text}")
    raise AssertionError(f"{method} {url} never acknowledged")


async def _write_changes(
    http: httpx.AsyncClient, rng: random.Random, kills_done: asyncio.Event
) -> int:
    """Write changes until the kills are over, then a tail of ``TAIL`` more; return the count."""
    n = 0
    tail = 0
    while tail < TAIL:
        n += 1
        tail += kills_done.is_set()
        record_id = rng.choice(RECORD_IDS)
        if rng.random() < 0.2:
            await _until_acknowledged(http, "DELETE", f"{API}/work-interruptions/{record_id}", None)
        else:
            start = rng.randrange(0, 1380)
            body = {
                "person": {"id": 1 + record_id % 3},
                "date": "2026-05-04",
                "durationInMinutes": n % 60,
                "startTimeInMinutes": start,
                "endTimeInMinutes": start + 60,
            }
            await _until_acknowledged(http, "PUT", f"{API}/work-interruptions/{record_id}", body)
    return n


async def _kill_and_restart(
    server: ServerProcess, tmp_path: Path, rng: random.Random, writer: asyncio.Task[int]
) -> ServerProcess:
    port = int(server.base_url.rsplit(":", 1)[1])
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(0.3, 0.9))
        assert not writer.done(), "the load ended before the kill: the kill proves nothing"
        await asyncio.to_thread(stop_server, server, signal.SIGKILL)
        server = await asyncio.to_thread(
            start_server, tmp_path, port=port, database_url=server.database_url
        )
    return server


async def _source_state(http: httpx.AsyncClient) -> dict[int, dict[str, Any] | None]:
    state: dict[int, dict[str, Any] | None] = {}
    for record_id in RECORD_IDS:
        answer = await http.get(f"{API}/work-interruptions/{record_id}")
        assert answer.status_code in (200, 404), answer.text
        state[record_id] = answer.json() if answer.status_code == 200 else None
    return state


def _receiver_state(receiver: Receiver) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """The newest event per id, and every case of a version arriving after a newer one."""
    newest: dict[int, dict[str, Any]] = {}
    regressions = []
    for request in receiver.requests:
        event = json.loads(request.body)
        record_id = event["data"]["id"]
        held = newest.get(record_id)
        if held is not None and event["data"]["changeVersion"] < held["data"]["changeVersion"]:
            regressions.append(f"{record_id}: {event['data']['changeVersion']} after newer")
            continue
        newest[record_id] = event
    return newest, regressions


def _matches(source: dict[int, dict[str, Any] | None], newest: dict[int, dict[str, Any]]) -> bool:
    for record_id, record in source.items():
        event = newest.get(record_id)
        if record is None:
            if event is not None and event["changeType"] != "Delete":
                return False
        elif event is None or event["data"] != record:
            return False
    return True


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
async def test_sigkill_at_random_moments_loses_nothing(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """After repeated SIGKILLs and restarts, the receiver ends with exactly the source state."""
    rng = random.Random(20261126)
    database_url = None
    if database == "postgres":
        database_url = request.getfixturevalue("postgres_database")
        await reset_database(database_url)
    server = await asyncio.to_thread(start_server, tmp_path, database_url=database_url)
    receiver = Receiver()
    await receiver.start()
    try:
        token = await asyncio.to_thread(server.token, "acme", SCOPES)
        headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=10) as http:
            hook = await http.post(
                f"{API}/webhooks",
                json={"destinationUrl": receiver.url, "collectionName": "work-interruptions"},
            )
            assert hook.status_code == 201, hook.text
            for person_id in (1, 2, 3):
                await _until_acknowledged(http, "PUT", f"{API}/people/{person_id}", {})
            kills_done = asyncio.Event()
            writer = asyncio.create_task(_write_changes(http, rng, kills_done))
            server = await _kill_and_restart(server, tmp_path, rng, writer)
            kills_done.set()
            written = await writer
            source = await _source_state(http)
            await receiver.wait_until(
                lambda _: _matches(source, _receiver_state(receiver)[0]), within=60
            )
        newest, regressions = _receiver_state(receiver)
        events = [json.loads(r.body)["data"] for r in receiver.requests]
        unique = {(e["id"], e["changeVersion"]) for e in events}
        report(
            f"kill -9 of the server x{KILLS} during load [{database}]",
            writes=written,
            records=len(source),
            events_received=len(events),
            duplicated=len(events) - len(unique),
            lost=sum(1 for i, rec in source.items() if not _matches({i: rec}, newest)),
            out_of_order=len(regressions),
        )
        assert regressions == []
        assert _matches(source, newest)
        assert any(record is not None for record in source.values())
        assert written > TAIL
    finally:
        await receiver.stop()
        await asyncio.to_thread(stop_server, server)
