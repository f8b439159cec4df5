"""A full disk answers 503 with ``Retry-After`` (like a database outage) and loses nothing.

SQLite's own size limit (``PRAGMA max_page_count``) makes the database full for real: SQLite
answers ``SQLITE_FULL`` exactly as when the file system has no space left.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import HOOK, assert_error
from workhooks.config import Settings
from workhooks.storage.sqlite import base as sqlite_base
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)

UNLIMITED = 1_073_741_823


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[sqlite3.Connection]:
    """Every SQLite connection the store opens, so a test can cap and free its size."""
    opened: list[sqlite3.Connection] = []
    connect = sqlite_base.connect

    def recording(path: str) -> sqlite3.Connection:
        conn = connect(path)
        opened.append(conn)
        return conn

    monkeypatch.setattr(sqlite_base, "connect", recording)
    return opened


def _cap(connections: list[sqlite3.Connection], pages: int) -> None:
    """Limit the database to ``pages`` pages (at least its current size)."""
    for conn in connections:
        conn.execute(f"PRAGMA max_page_count = {pages}")


def _batch(start: int) -> dict[str, list[dict[str, object]]]:
    return {"value": [{**work_interruption(1), "id": start + i} for i in range(200)]}


async def _fill_until_full(api: Api, headers: dict[str, str]) -> tuple[list[int], int]:
    """Write batches until the store is full; return the ids acknowledged and the refused batch."""
    acknowledged: list[int] = []
    for start in range(1, 40_001, 200):
        response = await api.http.post(
            f"{API}/work-interruptions/batch", json=_batch(start), headers=headers
        )
        if response.status_code == 503:
            error = assert_error(response, 503, code="ServiceUnavailable")
            assert "full" in error["message"]
            assert response.headers["Retry-After"] == "1"
            return acknowledged, start
        assert response.status_code == 200, response.text
        acknowledged.extend(r["id"] for r in response.json()["value"])
    raise AssertionError("the database never became full")


async def _stored_ids(api: Api, headers: dict[str, str]) -> set[int]:
    found: set[int] = set()
    url = f"{API}/work-interruptions?filter=" + "date ge '2024-01-01' and date le '2024-12-31'"
    while url:
        page = (await api.http.get(url, headers=headers)).json()
        found.update(r["id"] for r in page["value"])
        url = page.get("nextLink", "")
    return found


async def test_full_disk_answers_503_and_loses_nothing(
    api_factory: ApiFactory, tmp_path: Path, connections: list[sqlite3.Connection]
) -> None:
    """Writes on a full SQLite database answer 503 with ``Retry-After``; every acknowledged
    write stays readable, deliveries wait, and once space is freed the refused write and the
    deliveries go through."""
    settings = Settings.of(
        database_url=f"sqlite:///{tmp_path / 'full.db'}", master_key=TEST_MASTER_KEY
    )
    api = await api_factory(settings)
    headers = await api.headers()
    await api.put_person(headers, 1)
    created = await api.http.post(f"{API}/webhooks", json=HOOK, headers=headers)
    assert created.status_code == 201
    (pages,) = connections[0].execute("PRAGMA page_count").fetchone()
    _cap(connections, pages + 40)  # room for a few batches, then full

    acknowledged, refused = await _fill_until_full(api, headers)
    assert acknowledged
    assert await _stored_ids(api, headers) == set(acknowledged)
    await api.rt.worker.run_once()  # its outcome cannot be written: the cursor stays

    _cap(connections, UNLIMITED)
    retried = await api.http.post(
        f"{API}/work-interruptions/batch", json=_batch(refused), headers=headers
    )
    assert retried.status_code == 200, retried.text
    expected = set(acknowledged) | {refused + i for i in range(200)}
    assert await _stored_ids(api, headers) == expected
    api.sender.requests.clear()
    while await api.rt.worker.run_once():
        pass
    delivered = {json.loads(r.body)["data"]["id"] for r in api.sender.requests}
    assert delivered == expected
