"""``workhooks mirror`` against a real server: random writes, an outage, a lost webhook."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import AGENT, ServerProcess, free_port
from tests.e2e.mirror_helpers import (
    MirrorProcess,
    mirror_env,
    mirror_records,
    server_records,
    start_mirror,
    stop_mirror,
    wait_until,
)
from workhooks.client import (
    Client,
    NotFound,
    PersonRef,
    PersonWrite,
    WebhookStatus,
    WorkInterruptionWrite,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

YEAR = dt.datetime.now(dt.UTC).year
SCOPE_FILTER = f"date ge '{YEAR}-01-01' and date le '{YEAR}-12-31'"
ENABLED = "status eq 'Enabled'"


def random_writes(client: Client, rng: random.Random, count: int) -> None:
    """``count`` random upserts and deletes over ids 1..30, dates all over the year."""
    for n in range(count):
        record_id = rng.randint(1, 30)
        if rng.random() < 0.25:
            with contextlib.suppress(NotFound):
                client.delete_work_interruption(record_id)
            continue
        start = rng.randrange(0, 1380)
        client.put_work_interruption(
            WorkInterruptionWrite(
                id=record_id,
                person=PersonRef(id=rng.randint(1, 3)),
                date=dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365)),
                duration_in_minutes=n % 60,
                start_time_in_minutes=start,
                end_time_in_minutes=start + 60,
            )
        )


def converged(client: Client, db: Path) -> bool:
    """Whether the mirror holds exactly the server's records, field for field."""
    return mirror_records(db) == server_records(client, SCOPE_FILTER)


def mirror_check(server: ServerProcess, args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``workhooks mirror check`` with the mirror's options; return exit code and output."""
    result = subprocess.run(
        [sys.executable, "-m", "workhooks", "mirror", "check", *args],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout.decode() + result.stderr.decode()


def new_client(server: ServerProcess) -> dict[str, str]:
    """Create a client of the tenant with every scope; return its id and secret."""
    created: dict[str, str] = json.loads(
        server.cli("clients", "create", "--tenant", "acme", "--scopes", "all", "--json")
    )
    return created


@pytest.fixture
def writer(server: ServerProcess) -> Iterator[Client]:
    """An SDK client of the tenant, with every scope, for the test's own writes and reads."""
    info = new_client(server)
    with Client(
        server.base_url,
        tenant="acme",
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        user_agent=AGENT,
    ) as client:
        client.put_people([PersonWrite(id=i) for i in (1, 2, 3)])
        yield client


def test_mirror_converges_through_an_outage_and_a_lost_webhook(
    server: ServerProcess, writer: Client, tmp_path: Path
) -> None:
    """The mirror ends equal to the server after a receiver outage and a deleted webhook."""
    rng = random.Random(6)
    info = new_client(server)
    port, db = free_port(), tmp_path / "mirror.db"
    args = [
        *("--server-url", server.base_url, "--tenant", "acme", "--client-id", info["client_id"]),
        *("--db", str(db), "--port", str(port), "--poll-seconds", "1"),
        *("--from", f"{YEAR}-01-01", "--to", f"{YEAR}-12-31"),
    ]
    env = mirror_env(info["client_secret"])
    random_writes(writer, rng, 20)  # before the mirror: arrives by the initial sync
    mirror: MirrorProcess = start_mirror(args, env, port, tmp_path)
    try:
        wait_until(lambda: len(writer.list_webhooks(ENABLED)) == 1, within=20, what="subscribed")
        (first,) = writer.list_webhooks(ENABLED)
        assert first.destination_url == f"http://127.0.0.1:{port}/hook"
        random_writes(writer, rng, 40)
        wait_until(lambda: converged(writer, db), within=20, what="the mirror caught up")

        # Outage: the receiver dies; the server's deliveries fail meanwhile.
        stop_mirror(mirror, signal.SIGKILL)
        random_writes(writer, rng, 30)
        writer.put_work_interruption(
            WorkInterruptionWrite(
                id=31,
                person=PersonRef(id=1),
                date=dt.date(YEAR, 6, 1),
                duration_in_minutes=5,
                start_time_in_minutes=0,
                end_time_in_minutes=5,
            )
        )
        wait_until(
            lambda: any(True for _ in writer.iter_deliveries(first.id, "status eq 'Failed'")),
            within=20,
            what="a delivery failed during the outage",
        )
        code, output = mirror_check(server, args, env)
        assert code == 1, output
        assert "DIFFERENT" in output
        assert any(
            line.startswith("  missing:") and " 31" in line for line in output.splitlines()
        ), output

        mirror = start_mirror(args, env, port, tmp_path)
        wait_until(lambda: converged(writer, db), within=20, what="caught up after the outage")
        assert [w.id for w in writer.list_webhooks(ENABLED)] == [first.id]  # state survived

        # Forced expiry: the webhook disappears; the mirror must re-subscribe and catch up.
        writer.delete_webhook(first.id)
        random_writes(writer, rng, 30)
        wait_until(
            lambda: [w.id for w in writer.list_webhooks(ENABLED)] not in ([], [first.id]),
            within=20,
            what="the mirror re-subscribed",
        )
        (second,) = writer.list_webhooks(ENABLED)
        assert second.status is WebhookStatus.ENABLED
        random_writes(writer, rng, 20)
        wait_until(lambda: converged(writer, db), within=20, what="caught up after re-subscribing")
        wait_until(
            lambda: any(True for _ in writer.iter_deliveries(second.id, "status eq 'Succeeded'")),
            within=20,
            what="the new webhook delivered events",
        )

        code, output = mirror_check(server, args, env)
        assert code == 0, output
        assert "mirror equals the server" in output
        assert mirror_records(db) == server_records(writer, SCOPE_FILTER)
        assert len(mirror_records(db)) > 5
    finally:
        exit_code = stop_mirror(mirror)
    assert exit_code == 0, mirror.log.read_text()
