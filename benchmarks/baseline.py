"""The bare baseline: an outbox table in SQLite, a loop, aiohttp over keep-alive, signing.

What a competent engineer would write in an afternoon to send the same events: the event
body is rendered when the change is written (a transactional outbox), and the loop reads
500 rows, signs each (Standard Webhooks v1), POSTs them concurrently over 32 keep-alive
connections, then deletes the sent rows. No retries, history, leases, SSRF guard or
metrics: it is the ceiling the real engine is compared with, not a competitor.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from benchmarks.common import Receiver, draft, remove_sqlite_files

__all__ = ["baseline"]

_WINDOW = 500
_CONNECTIONS = 32
_SECRET = b"0123456789abcdef0123456789abcdef"
_SCHEMA = "CREATE TABLE outbox (id INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, body BLOB NOT NULL)"


def _fill(conn: sqlite3.Connection, changes: int) -> None:
    """Write the outbox rows: each change's event rendered once, as a writer would."""
    encode = msgspec.json.Encoder().encode
    rows = []
    for n in range(changes):
        record = draft(1 + n, n)
        version = f"{n + 1:020X}"  # the change version format workhooks sends
        event = {
            "changeType": "InsertOrUpdate",
            "data": {
                "changeVersion": version,
                "id": record.id,
                "person": {"id": record.person_id},
                "date": record.date.isoformat(),
                "durationInMinutes": record.duration_in_minutes,
                "startTimeInMinutes": record.start_time_in_minutes,
                "endTimeInMinutes": record.end_time_in_minutes,
            },
        }
        rows.append((f"msg_{version}", encode(event)))
    with conn:
        conn.executemany("INSERT INTO outbox (msg_id, body) VALUES (?, ?)", rows)


def _sign(msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_SECRET, b"%s.%d.%s" % (msg_id.encode(), timestamp, body), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


async def _post(http: aiohttp.ClientSession, url: str, msg_id: str, body: bytes) -> bool:
    timestamp = int(time.time())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": _sign(msg_id, timestamp, body),
        "Content-Type": "application/json",
    }
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        return 200 <= response.status < 300


async def _drain(conn: sqlite3.Connection, url: str) -> int:
    """Send the outbox until it is empty; return the deliveries made."""
    sent = 0
    connector = aiohttp.TCPConnector(limit=_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as http:
        while True:
            rows = conn.execute(
                "SELECT id, msg_id, body FROM outbox ORDER BY id LIMIT ?", (_WINDOW,)
            ).fetchall()
            if not rows:
                return sent
            results = await asyncio.gather(*(_post(http, url, m, b) for _, m, b in rows))
            with conn:
                if all(results):
                    conn.execute("DELETE FROM outbox WHERE id <= ?", (rows[-1][0],))
                else:
                    sent_ids = [(r[0],) for r, ok in zip(rows, results, strict=True) if ok]
                    conn.executemany("DELETE FROM outbox WHERE id = ?", sent_ids)
            sent += len(rows)


async def baseline(folder: Path, receiver: Receiver, *, changes: int) -> dict[str, Any]:
    """Fill an outbox with ``changes`` events and time the bare loop sending them all."""
    path = folder / "baseline.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(_SCHEMA)
        conn.isolation_level = "DEFERRED"
        _fill(conn, changes)
        await receiver.reset()
        started = time.monotonic()
        await _drain(conn, receiver.hook_url("baseline"))
        stats = await receiver.wait(count=changes)
    finally:
        conn.close()
        remove_sqlite_files(path)
    seconds = stats["last_at"] - started
    return {
        "changes": changes,
        "deliveries": stats["count"],
        "seconds": seconds,
        "per_second": stats["count"] / seconds,
    }
