"""Helpers of the mirror end-to-end test: a ``workhooks mirror`` process and convergence checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from workhooks.client import Client, SqliteSink, WorkInterruption


@dataclass
class MirrorProcess:
    """A running ``workhooks mirror`` and how it was started."""

    process: subprocess.Popen[bytes]
    args: list[str]
    env: dict[str, str]
    port: int
    log: Path


def mirror_env(secret: str) -> dict[str, str]:
    """The environment of a mirror process: the secret comes from it, not from a flag."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKHOOKS_")}
    env["WORKHOOKS_MIRROR_CLIENT_SECRET"] = secret
    return env


def wait_until(predicate: Callable[[], bool], *, within: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {within} s waiting until {what}")


def start_mirror(args: list[str], env: dict[str, str], port: int, tmp_path: Path) -> MirrorProcess:
    """Start ``workhooks mirror`` with ``args`` and wait until its receiver answers."""
    log = tmp_path / f"mirror-{time.monotonic_ns()}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "workhooks", "mirror", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    mirror = MirrorProcess(process, args, env, port, log)

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"mirror exited early:\n{log.read_text()}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(up, within=30, what="the mirror's receiver answers")
    except BaseException:
        process.kill()
        process.wait()
        raise
    return mirror


def stop_mirror(mirror: MirrorProcess, sig: signal.Signals = signal.SIGINT) -> int:
    """Send ``sig`` and return the exit code (killing the process if it hangs)."""
    if mirror.process.poll() is None:
        mirror.process.send_signal(sig)
    try:
        return mirror.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        mirror.process.kill()
        return mirror.process.wait()


def server_records(client: Client, scope_filter: str) -> dict[int, WorkInterruption]:
    """The server's records in the scope."""
    return {r.id: r for r in client.iter_work_interruptions(scope_filter)}


def mirror_records(db: Path) -> dict[int, WorkInterruption]:
    """The mirror's live records, read from its SQLite file."""
    with SqliteSink(str(db)) as sink:
        return {r.id: r for r in sink.records()}
