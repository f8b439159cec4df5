"""The container image and the compose file: PostgreSQL, two API nodes and three workers.

Needs a Docker daemon and ``docker compose``; without them the test is skipped and says why
(the skip reason is printed in the run's summary).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import AGENT, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
IMAGE_LIMIT_BYTES = 300 * 1024 * 1024


def _docker_problem() -> str | None:
    """Why the container test cannot run here, or None when it can."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines()
        return f"no Docker daemon ({lines[-1] if lines else 'docker info failed'})"
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    if compose.returncode != 0:
        return "docker compose is not installed"
    return None


class Stack:
    """``docker compose`` on the repository's compose file, under a project of its own."""

    def __init__(self, project: str, env: dict[str, str]) -> None:
        self.project = project
        self.env = env

    def run(self, *args: str, timeout: float = 120) -> str:
        command = ["docker", "compose", "-f", str(COMPOSE), "-p", self.project, *args]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=timeout, check=False
        )
        assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Stack, str, str]]:
    """The stack, built and up with every health check passing; removed afterwards."""
    problem = _docker_problem()
    if problem is not None:
        print(f"container test skipped: {problem}")
        pytest.skip(f"container test skipped: {problem}")
    ports = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKHOOKS_")},
        "WORKHOOKS_API1_PORT": str(ports[0]),
        "WORKHOOKS_API2_PORT": str(ports[1]),
        "WORKHOOKS_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
    }
    running = Stack(f"workhooks-test-{ports[0]}", env)
    try:
        running.run("up", "--detach", "--build", "--wait", timeout=900)
        yield running, f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        running.run("down", "--volumes", "--remove-orphans", timeout=300)


@pytest.mark.timeout(1200)
def test_compose_runs_two_api_nodes_and_three_workers_on_one_database(
    stack: tuple[Stack, str, str],
) -> None:
    """Every node is ready; a token issued by one API node is accepted by the other; three
    healthy workers run; the processes run as an unprivileged user; the image stays small."""
    compose, first, second = stack
    for node in (first, second):
        assert httpx.get(f"{node}/ready", timeout=10).json() == {"status": "ready"}
    created = json.loads(
        compose.run(
            "exec",
            "-T",
            "api-1",
            "workhooks",
            "clients",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "all",
            "--json",
        )
    )
    token = httpx.post(
        f"{first}/tenants/acme/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
        timeout=10,
    ).json()["access_token"]
    listed = httpx.get(
        f"{second}/connector/protimeapi/api/v1/webhooks",
        headers={"Authorization": f"Bearer {token}", "User-Agent": AGENT},
        timeout=10,
    )
    assert listed.status_code == 200, listed.text
    workers = [
        json.loads(line) for line in compose.run("ps", "--format", "json", "worker").splitlines()
    ]
    assert [w["Health"] for w in workers] == ["healthy"] * 3
    assert compose.run("exec", "-T", "api-1", "id", "-u").strip() == "10001"
    size = subprocess.run(
        ["docker", "image", "inspect", "workhooks:local", "--format", "{{.Size}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(size) < IMAGE_LIMIT_BYTES
