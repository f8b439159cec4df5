"""Fixtures that run the real ``workhooks`` CLI as separate processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

AGENT = "WorkhooksTests/1.0 (workhooks)"


def free_port() -> int:
    """Return a TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A running ``workhooks serve`` process."""

    process: subprocess.Popen[bytes]
    base_url: str
    database_url: str
    log: Path

    def cli(self, *args: str) -> str:
        """Run another ``workhooks`` command against the same database; return its stdout."""
        result = subprocess.run(
            [sys.executable, "-m", "workhooks", *args, "--database-url", self.database_url],
            capture_output=True,
            check=True,
            timeout=60,
        )
        return result.stdout.decode()

    def token(self, tenant: str, scopes: str) -> str:
        """Create a client with the CLI and exchange its credentials for an access token."""
        info = json.loads(
            self.cli("clients", "create", "--tenant", tenant, "--scopes", scopes, "--json")
        )
        answer = httpx.post(
            f"{self.base_url}/tenants/{tenant}/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": info["client_id"],
                "client_secret": info["client_secret"],
            },
            timeout=10,
        )
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token


def _wait_until_up(server: ServerProcess, deadline_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{server.log.read_text()}")


def workhooks_env(**extra: str) -> dict[str, str]:
    """The environment for a workhooks process: no inherited WORKHOOKS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKHOOKS_")}
    env["WORKHOOKS_POLL_INTERVAL_SECONDS"] = "0.2"
    # A killed process's leases block its webhooks for one lease period: keep it short here.
    env["WORKHOOKS_LEASE_SECONDS"] = "3"
    env.update(extra)
    return env


def spawn(tmp_path: Path, args: list[str], *, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``python -m workhooks <args>`` with its output in a log file under ``tmp_path``."""
    log = tmp_path / f"{args[0]}-{time.monotonic_ns()}.log"
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "workhooks", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )


def start_server(
    tmp_path: Path,
    *,
    port: int | None = None,
    database_url: str | None = None,
    worker: bool = True,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """Start ``workhooks serve --dev`` and wait until it answers; the caller stops it.

    ``env`` adds ``WORKHOOKS_*`` settings to the process's environment.
    """
    port = port or free_port()
    database_url = database_url or f"sqlite:///{tmp_path / 'workhooks.db'}"
    log = tmp_path / f"server-{time.monotonic_ns()}.log"
    args = ["serve", "--dev", "--port", str(port), "--database-url", database_url]
    if not worker:
        args.append("--no-worker")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "workhooks", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=workhooks_env(**(env or {})),
        )
    running = ServerProcess(process, f"http://127.0.0.1:{port}", database_url, log)
    try:
        _wait_until_up(running)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return running


def stop_server(server: ServerProcess, sig: signal.Signals = signal.SIGINT) -> int:
    """Send ``sig`` to the server and return its exit code (killing it if it hangs)."""
    server.process.send_signal(sig)
    try:
        return server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        return server.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A ``workhooks serve --dev`` on a free port with a fresh SQLite file, stopped after."""
    running = start_server(tmp_path)
    try:
        yield running
    finally:
        stop_server(running)
