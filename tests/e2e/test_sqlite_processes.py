"""Real processes on one SQLite file: one deliverer at a time, API-only processes alongside,
development mode without setup, production mode only with a master key, and the credential
verbs of the CLI taking effect at once in a running server."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import AGENT, ServerProcess, spawn, start_server, stop_server, workhooks_env
from workhooks.storage.sealing import Sealer, parse_master_keys

pytestmark = pytest.mark.e2e

API = "/connector/protimeapi/api/v1"


def _exit_and_output(
    process: subprocess.Popen[bytes], tmp_path: Path, verb: str
) -> tuple[int, str]:
    code = process.wait(timeout=60)
    logs = sorted(tmp_path.glob(f"{verb}-*.log"))
    return code, logs[-1].read_text()


def _cli(database_url: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workhooks", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _token(server: ServerProcess, tenant: str, client_id: str, secret: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return httpx.post(f"{server.base_url}/tenants/{tenant}/connect/token", data=form, timeout=10)


def _webhooks(server: ServerProcess, token: str) -> int:
    headers = {"User-Agent": AGENT, "Authorization": f"Bearer {token}"}
    return httpx.get(f"{server.base_url}{API}/webhooks", headers=headers, timeout=10).status_code


def test_a_second_deliverer_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    """While ``serve`` delivers from a file, ``workhooks worker`` on it exits 2 with a clear
    message, ``serve --no-worker`` runs beside it, and once the deliverer is killed another
    process may deliver at once."""
    first = start_server(tmp_path)
    try:
        worker = spawn(
            tmp_path, ["worker", "--database-url", first.database_url], env=workhooks_env()
        )
        code, output = _exit_and_output(worker, tmp_path, "worker")
        assert code == 2
        assert f"(pid {first.process.pid}) already delivers from" in output
        assert "--no-worker" in output
        api_only = start_server(tmp_path, database_url=first.database_url, worker=False)
        assert httpx.get(f"{api_only.base_url}/health", timeout=5).status_code == 200
        assert stop_server(api_only) == 0
    finally:
        stop_server(first, signal.SIGKILL)
    second = start_server(tmp_path, database_url=first.database_url)
    assert stop_server(second) == 0


def test_development_mode_needs_no_setup_and_production_mode_needs_a_master_key(
    tmp_path: Path,
) -> None:
    """``serve --dev`` without a master key keeps one in ``<database>.master-key`` (0600) and
    the CLI's client commands find it; ``serve`` without a key exits 2 saying how to make one;
    with the key it starts."""
    env = {k: v for k, v in workhooks_env().items() if k != "WORKHOOKS_MASTER_KEY"}
    dev = start_server(tmp_path, env=env)
    made = _cli(
        dev.database_url,
        "clients",
        "create",
        "--tenant",
        "acme",
        "--scopes",
        "all",
        "--json",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    client = json.loads(made.stdout)
    assert _token(dev, "acme", client["client_id"], client["client_secret"]).status_code == 200
    stop_server(dev)
    key_file = Path(f"{dev.database_url.removeprefix('sqlite:///')}.master-key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    database = Path(dev.database_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    production = spawn(tmp_path, ["serve", "--database-url", dev.database_url], env=env)
    code, output = _exit_and_output(production, tmp_path, "serve")
    assert code == 2
    assert "no master key" in output
    assert "workhooks master-key create" in output
    keyed = start_server(
        tmp_path,
        database_url=dev.database_url,
        env={**env, "WORKHOOKS_MASTER_KEY_FILE": str(key_file)},
    )
    assert stop_server(keyed) == 0


def test_the_credential_verbs_act_on_a_running_server_at_once(tmp_path: Path) -> None:
    """``clients create/list/rotate-secret/revoke`` run beside a server: a revoked client's
    token and a replaced secret are refused by the server at the next request."""
    server = start_server(tmp_path)
    env = workhooks_env()
    try:
        made = _cli(
            server.database_url,
            "clients",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "all",
            "--json",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        client = json.loads(made.stdout)
        token = _token(server, "acme", client["client_id"], client["client_secret"]).json()[
            "access_token"
        ]
        assert _webhooks(server, token) == 200
        listed = json.loads(
            _cli(
                server.database_url, "clients", "list", "--tenant", "acme", "--json", env=env
            ).stdout
        )
        assert [c["client_id"] for c in listed] == [client["client_id"]]
        assert "client_secret" not in listed[0]

        rotated = _cli(
            server.database_url, "clients", "rotate-secret", client["client_id"], "--json", env=env
        )
        new_secret = json.loads(rotated.stdout)["client_secret"]
        assert (
            _token(server, "acme", client["client_id"], client["client_secret"]).status_code == 401
        )
        assert _token(server, "acme", client["client_id"], new_secret).status_code == 200

        revoked = _cli(server.database_url, "clients", "revoke", client["client_id"], env=env)
        assert revoked.returncode == 0, revoked.stderr
        assert "revoked_at:" in revoked.stdout
        assert _webhooks(server, token) == 401

        unknown = _cli(server.database_url, "clients", "revoke", "wh_nope", env=env)
        assert unknown.returncode == 1
        assert "does not exist" in unknown.stderr
    finally:
        assert stop_server(server) == 0


def test_a_master_key_rotation_with_the_cli(tmp_path: Path) -> None:
    """``master-key create --file`` writes a 0600 key; ``master-key rotate`` with the ring
    (new, old) re-seals every secret, after which the server starts with the new key only."""
    server = start_server(tmp_path)
    env = workhooks_env()
    old_key = env["WORKHOOKS_MASTER_KEY"]
    try:
        made = _cli(
            server.database_url,
            "clients",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "all",
            "--json",
            env=env,
        )
        client = json.loads(made.stdout)
        token = _token(server, "acme", client["client_id"], client["client_secret"]).json()[
            "access_token"
        ]
        assert (
            httpx.post(
                f"{server.base_url}{API}/webhooks",
                json={
                    "destinationUrl": "https://example.com/hook",
                    "collectionName": "work-interruptions",
                },
                headers={"User-Agent": AGENT, "Authorization": f"Bearer {token}"},
                timeout=10,
            ).status_code
            == 201
        )
    finally:
        assert stop_server(server) == 0
    key_file = tmp_path / "new.key"
    created = subprocess.run(
        [sys.executable, "-m", "workhooks", "master-key", "create", "--file", str(key_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    assert str(key_file) in created.stdout
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    new_key = key_file.read_text().strip()
    ring = {**env, "WORKHOOKS_MASTER_KEY": f"{new_key},{old_key}"}
    rotated = _cli(server.database_url, "master-key", "rotate", "--json", env=ring)
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout) == {"resealed": 2}
    only_new = {**env, "WORKHOOKS_MASTER_KEY": new_key}
    restarted = start_server(tmp_path, database_url=server.database_url, env=only_new)
    assert (
        _token(restarted, "acme", client["client_id"], client["client_secret"]).status_code == 200
    )
    assert stop_server(restarted) == 0
    only_old = _cli(server.database_url, "clients", "list", env=env)
    assert only_old.returncode == 2
    new_id = Sealer(parse_master_keys(new_key, source="new")).current_key_id
    assert f"master key {new_id}, which is not configured" in only_old.stderr
